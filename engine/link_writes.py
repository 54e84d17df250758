"""The writes a link decision makes (SYNC-RULES 5 and the restores of issue 7): the update
commands for each side and the `LinkSynced` decisions that record them, with the agreed values
that let the engine recognise its own writes when they come back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.accounting import decision_meta
from engine.fields import derived_full_name
from engine.ids import derived_id
from engine.link_state import LinkState
from engine.link_sync import Change, SyncPlan, field_changes
from engine.snapshots import with_values
from schemas.commands import (
    FieldValues,
    UpdateCrmPerson,
    UpdateCrmPersonData,
    UpdateQboCustomer,
    UpdateQboCustomerData,
)
from schemas.decisions import LinkSynced, LinkSyncedData, Side
from schemas.envelope import Envelope


def person_subject(link: LinkState) -> str:
    return f"crm/person/{link.person_id}"


def crm_record_after(record: dict[str, Any], values: dict[str, str | None]) -> dict[str, Any]:
    """The CRM person after a write: it derives `full_name` from the names it holds."""
    after = with_values(record, values)
    if ("first_name" in values or "last_name" in values) and "full_name" not in values:
        after["full_name"] = derived_full_name(after.get("first_name"), after.get("last_name"))
    return after


def synced_decisions(
    event: Envelope,
    link: LinkState,
    change: Change,
    plan: SyncPlan,
    qbo_token: str,
    now: datetime,
    commands: dict[Side, Envelope],
) -> tuple[Envelope, ...]:
    crm_before = dict(change.record) if change.side == "crm" else link.crm
    qbo_before = dict(change.record) if change.side == "qbo" else link.qbo
    crm_after = crm_record_after(crm_before, plan.to_crm)
    qbo_after = with_values(qbo_before, plan.to_qbo)
    times = (
        {"crm_changed_at": change.changed_at}
        if change.side == "crm"
        else {"qbo_changed_at": change.changed_at}
    )
    decisions: list[Envelope] = []
    writes: tuple[tuple[Side, FieldValues, dict[str, Any]], ...] = (
        ("qbo", plan.to_qbo, qbo_before),
        ("crm", plan.to_crm, crm_before),
    )
    for side, values, before in writes:
        if not values:
            continue
        first = not decisions
        decisions.append(
            LinkSynced(
                **decision_meta(event, f"link-synced-{side}", now, person_subject(link)),
                data=LinkSyncedData(
                    input_id=event.id,
                    person_id=link.person_id,
                    customer_id=link.customer_id,
                    written_side=side,
                    command_id=commands[side].id,
                    changes=field_changes(before, values, side),
                    crm=crm_after,
                    qbo=qbo_after,
                    qbo_sync_token=qbo_token,
                    agreed=plan.agreed if first else {},
                    conflicts=tuple(plan.conflicts) if first else (),
                    **times,
                ),
            )
        )
    return tuple(decisions)


def update_commands(
    event: Envelope, link: LinkState, plan: SyncPlan, qbo_token: str, now: datetime
) -> dict[Side, Envelope]:
    commands: dict[Side, Envelope] = {}
    if plan.to_qbo:
        commands["qbo"] = UpdateQboCustomer(
            **decision_meta(event, "update-qbo-customer", now, f"qbo/customer/{link.customer_id}"),
            data=UpdateQboCustomerData(
                realm_id=link.realm_id,
                customer_id=link.customer_id,
                sync_token=qbo_token,
                fields=plan.to_qbo,
                base=plan.qbo_base,
                person_id=link.person_id,
            ),
        )
    if plan.to_crm:
        commands["crm"] = UpdateCrmPerson(
            **decision_meta(event, "update-crm-person", now, person_subject(link)),
            data=UpdateCrmPersonData(person_id=link.person_id, fields=plan.to_crm),
        )
    return commands


def update_command_ids(event: Envelope) -> dict[Side, str]:
    return {
        "qbo": derived_id(event.id, "update-qbo-customer"),
        "crm": derived_id(event.id, "update-crm-person"),
    }
