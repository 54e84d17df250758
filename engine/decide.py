"""decide(state, event, settings, now): the functional core. No I/O, no clock, no environment.

Every input is accounted for (SYNC-RULES 7): it yields an `InputApplied` with its commands, or an
`InputIgnored` that says why, plus the link decisions that record what the engine now knows.
Decision and command ids derive from the input id, so a redelivered input yields the very same
decision and commands, which downstream consumers dedupe on.

Linked records (SYNC-RULES 5) are decided here; invoices and proposals (6) in
engine/document_decisions.py; restores (issue 7) in engine/restore.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from engine.accounting import ENGINE_SOURCE, Decision, decision_meta, request_denied
from engine.accounting import applied as _applied
from engine.accounting import ignored as _ignored
from engine.document_decisions import (
    CONVERT,
    CREATES,
    DOCUMENT_COMMANDS,
    SEND,
    document_customer_of,
    document_outcome,
    document_request,
)
from engine.link_state import LinkState
from engine.link_sync import Change, SyncPlan, plan_both, plan_one_way
from engine.link_writes import (
    person_subject,
    synced_decisions,
    update_command_ids,
    update_commands,
)
from engine.permissions import DOCUMENT_REQUESTS
from engine.restore import restore_request
from engine.state import TenantState
from schemas.commands import (
    UpdateCrmPerson,
    UpdateQboCustomer,
)
from schemas.common import parse_crm_timestamp
from schemas.crm import CrmPersonChanged, CrmPersonDeleted
from schemas.decisions import (
    LinkEnded,
    LinkEndedData,
    LinkInactive,
    LinkInactiveData,
    LinkMoved,
    LinkMovedData,
    LinkObserved,
    LinkObservedData,
)
from schemas.envelope import Envelope, type_of
from schemas.outcomes import CommandFailed, CommandSucceeded
from schemas.qbo import (
    QboCustomerChanged,
    QboCustomerDeleted,
    QboCustomerMerged,
    QboEstimateChanged,
    QboEstimateDeleted,
    QboInvoiceChanged,
    QboInvoiceDeleted,
)
from schemas.requests import EstimateCreateRequested, InvoiceCreateRequested, RestoreRequested
from schemas.settings import IntegrationSettings

# Accounting lives in engine/accounting.py (document decisions use it too); kept importable here.
__all__ = [
    "ENGINE_SOURCE",
    "Decision",
    "LinkKey",
    "decide",
    "decision_meta",
    "link_key",
    "request_denied",
]

QBO_UPDATE = type_of(UpdateQboCustomer)
CRM_UPDATE = type_of(UpdateCrmPerson)
# Shown by the documents projection as they are; nothing to write back (SYNC-RULES 6).
QBO_DOCUMENT_CHANGES = (
    QboInvoiceChanged,
    QboInvoiceDeleted,
    QboEstimateChanged,
    QboEstimateDeleted,
)


@dataclass(frozen=True)
class LinkKey:
    """Which link an input is about: by CRM person or by QBO customer."""

    person_id: int | None = None
    customer_id: str | None = None


def link_key(event: Envelope) -> LinkKey | None:
    """What the shell must load for `decide` to see the link this input concerns."""
    if isinstance(event, CrmPersonChanged):
        return LinkKey(person_id=event.data.after.id)
    if isinstance(event, CrmPersonDeleted):
        return LinkKey(person_id=event.data.id)
    if isinstance(event, QboCustomerChanged):
        return LinkKey(customer_id=event.data.entity.Id)
    if isinstance(event, QboCustomerDeleted):
        return LinkKey(customer_id=event.data.id)
    if isinstance(event, QboCustomerMerged):
        return LinkKey(customer_id=event.data.merged_id)
    if isinstance(event, InvoiceCreateRequested | EstimateCreateRequested | RestoreRequested):
        return LinkKey(person_id=event.data.person_id)
    if isinstance(event, CommandSucceeded):
        return _outcome_link_key(event)
    return None


def _outcome_link_key(event: CommandSucceeded) -> LinkKey | None:
    result, kind = event.data.result, event.data.command_type
    if kind == QBO_UPDATE and isinstance(result.get("customer"), dict):
        return LinkKey(customer_id=str(result["customer"].get("Id")))
    if kind == CRM_UPDATE and isinstance(result.get("person"), dict):
        return LinkKey(person_id=int(result["person"]["id"]))
    if kind in CREATES and isinstance(result.get("person_id"), int):
        return LinkKey(person_id=result["person_id"])
    if kind in (CONVERT, SEND) and (customer_id := document_customer_of(result)) is not None:
        return LinkKey(customer_id=customer_id)
    return None


# --- envelopes --------------------------------------------------------------------------------


def _observed(
    event: Envelope,
    link: LinkState,
    change: Change,
    version: str | None,
    now: datetime,
    plan: SyncPlan | None = None,
    confirms: str | None = None,
) -> LinkObserved:
    return LinkObserved(
        **decision_meta(event, "link-observed", now, person_subject(link)),
        data=LinkObservedData(
            input_id=event.id,
            person_id=link.person_id,
            customer_id=link.customer_id,
            side=change.side,
            snapshot=dict(change.record),
            version=version,
            changed_at=change.changed_at,
            confirms=confirms,
            conflicts=tuple(plan.conflicts) if plan else (),
        ),
    )


# --- one observed change of a linked record -----------------------------------------------


def _sync_change(
    state: TenantState,
    event: Envelope,
    link: LinkState,
    change: Change,
    version: str | None,
    settings: IntegrationSettings,
    now: datetime,
) -> Decision:
    qbo_token = version if change.side == "qbo" and version else link.qbo_sync_token
    if not state.enabled:
        # SYNC-RULES 2.6: while disabled, changes are recorded but no command is issued.
        observed = _observed(event, link, change, version, now)
        return _ignored(event, "disabled", "the integration is disabled", now, observed)
    if link.status == "inactive":
        observed = _observed(event, link, change, version, now)
        detail = f"the link to QBO customer {link.customer_id} is inactive"
        return _ignored(event, "not_linked", detail, now, observed)
    planner = plan_both if settings.direction == "both" else plan_one_way
    plan = planner(link, change, settings, update_command_ids(event))
    if not plan.writes:
        observed = _observed(event, link, change, version, now, plan)
        one_way_source = "qbo" if settings.direction == "qbo_to_crm" else "crm"
        if settings.direction != "both" and change.side != one_way_source:
            detail = f"sync direction is {settings.direction}"
            return _ignored(event, "direction", detail, now, observed)
        if link.last_written == change.side:
            return _ignored(event, "echo", "the record holds what the engine wrote", now, observed)
        return _ignored(event, "no_mapped_change", "no mapped field changed", now, observed)
    commands = update_commands(event, link, plan, qbo_token, now)
    decisions = synced_decisions(event, link, change, plan, qbo_token, now, commands)
    return _applied(event, now, decisions, tuple(commands.values()))


# --- inputs -----------------------------------------------------------------------------------


def _crm_person_changed(
    state: TenantState, event: CrmPersonChanged, settings: IntegrationSettings, now: datetime
) -> Decision:
    person = event.data.after
    link = state.link
    if link is None:
        # SYNC-RULES 5: a new CRM person does not create a QBO customer; only linked people sync.
        return _ignored(
            event, "not_linked", f"CRM person {person.id} has no QBO customer link", now
        )
    if link.status == "ended":
        return _ignored(event, "link_ended", f"the link of person {person.id} has ended", now)
    changed_at = event.data.updated_at
    if link.crm_changed_at is not None and changed_at < link.crm_changed_at:
        detail = f"updated_at {changed_at.isoformat()} is older than the person the link holds"
        return _ignored(event, "stale", detail, now)
    change = Change("crm", person.model_dump(mode="json"), changed_at)
    return _sync_change(state, event, link, change, changed_at.isoformat(), settings, now)


def _qbo_customer_changed(
    state: TenantState, event: QboCustomerChanged, settings: IntegrationSettings, now: datetime
) -> Decision:
    customer = event.data.entity
    link = state.link
    if link is None or link.status == "ended":
        # A new QBO customer appears in the CRM only through an import (SYNC-RULES 5).
        return _ignored(event, "not_linked", f"QBO customer {customer.Id} is not linked", now)
    known = link.qbo_sync_token
    if customer.SyncToken is not None and known.isdigit() and customer.SyncToken.isdigit():  # noqa: SIM102
        if int(customer.SyncToken) < int(known):
            detail = f"SyncToken {customer.SyncToken} is older than {known}"
            return _ignored(event, "stale", detail, now)
    changed_at = customer.MetaData.LastUpdatedTime if customer.MetaData else event.time
    change = Change("qbo", customer.model_dump(mode="json"), changed_at)
    version = customer.SyncToken
    if not customer.Active and link.status == "active":
        inactive = _inactive(event, link, "customer_inactive", now)
        observed = _observed(event, link, change, version, now)
        detail = f"QBO customer {customer.Id} was made inactive: the link is marked inactive"
        return _ignored(event, "not_linked", detail, now, observed, inactive)
    return _sync_change(state, event, link, change, version, settings, now)


def _crm_person_deleted(state: TenantState, event: CrmPersonDeleted, now: datetime) -> Decision:
    link = state.link
    if link is None or link.status == "ended":
        return _ignored(event, "not_linked", f"CRM person {event.data.id} is not linked", now)
    ended = LinkEnded(
        **decision_meta(event, "link-ended", now, person_subject(link)),
        data=LinkEndedData(
            input_id=event.id,
            person_id=link.person_id,
            customer_id=link.customer_id,
            reason="person_deleted",
        ),
    )
    # SYNC-RULES 5 (decision): the link ends; the QBO customer is left alone.
    return _applied(event, now, (ended,), ())


def _qbo_customer_deleted(state: TenantState, event: QboCustomerDeleted, now: datetime) -> Decision:
    link = state.link
    if link is None or link.status != "active":
        return _ignored(event, "not_linked", f"QBO customer {event.data.id} is not linked", now)
    return _applied(event, now, (_inactive(event, link, "customer_deleted", now),), ())


def _inactive(
    event: Envelope,
    link: LinkState,
    reason: Literal["customer_inactive", "customer_deleted"],
    now: datetime,
) -> LinkInactive:
    return LinkInactive(
        **decision_meta(event, "link-inactive", now, person_subject(link)),
        data=LinkInactiveData(
            input_id=event.id,
            person_id=link.person_id,
            customer_id=link.customer_id,
            reason=reason,
        ),
    )


def _qbo_customer_merged(state: TenantState, event: QboCustomerMerged, now: datetime) -> Decision:
    link = state.link
    if link is None or link.status == "ended":
        detail = f"QBO customer {event.data.merged_id} is not linked"
        return _ignored(event, "not_linked", detail, now)
    surviving = event.data.surviving
    moved = LinkMoved(
        **decision_meta(event, "link-moved", now, person_subject(link)),
        data=LinkMovedData(
            input_id=event.id,
            person_id=link.person_id,
            customer_id=link.customer_id,
            to_customer_id=event.data.surviving_id,
            qbo=surviving.model_dump(mode="json") if surviving else None,
            qbo_sync_token=surviving.SyncToken if surviving else None,
        ),
    )
    return _applied(event, now, (moved,), ())


def _outcome(state: TenantState, event: Envelope, now: datetime) -> Decision:
    """A write's outcome: the link learns the record the write left (and QBO's new SyncToken),
    and the values it carried are no longer pending."""
    if isinstance(event, CommandSucceeded) and event.data.command_type in DOCUMENT_COMMANDS:
        return document_outcome(state, event, now)
    link = state.link
    if isinstance(event, CommandSucceeded) and link is not None and link.status != "ended":
        result = event.data.result
        confirms = event.data.command_id
        if event.data.command_type == QBO_UPDATE:
            customer = result["customer"]
            meta = customer.get("MetaData") or {}
            change = Change("qbo", customer, _time(meta.get("LastUpdatedTime")))
            seen = _observed(event, link, change, customer.get("SyncToken"), now, None, confirms)
            return _applied(event, now, (seen,), ())
        if event.data.command_type == CRM_UPDATE:
            person = result["person"]
            change = Change("crm", person, _time(person.get("updated_at")))
            seen = _observed(event, link, change, person.get("updated_at"), now, None, confirms)
            return _applied(event, now, (seen,), ())
    # Failures are recorded on their topic (sync health shows them); nothing to decide.
    return _applied(event, now, (), ())


def _time(value: object) -> datetime | None:
    parsed = parse_crm_timestamp(value)
    if isinstance(parsed, datetime):
        return parsed
    if isinstance(parsed, str):
        try:
            return datetime.fromisoformat(parsed)
        except ValueError:
            return None
    return None


def decide(
    state: TenantState, event: Envelope, settings: IntegrationSettings, now: datetime
) -> Decision:
    if isinstance(event, CommandSucceeded | CommandFailed):
        return _outcome(state, event, now)
    if not state.installed:
        return _ignored(event, "not_installed", f"tenant {event.tenant} is not installed", now)
    if isinstance(event, CrmPersonChanged):
        return _crm_person_changed(state, event, settings, now)
    if isinstance(event, QboCustomerChanged):
        return _qbo_customer_changed(state, event, settings, now)
    if isinstance(event, CrmPersonDeleted):
        return _crm_person_deleted(state, event, now)
    if isinstance(event, QboCustomerDeleted):
        return _qbo_customer_deleted(state, event, now)
    if isinstance(event, QboCustomerMerged):
        return _qbo_customer_merged(state, event, now)
    if isinstance(event, DOCUMENT_REQUESTS):
        return document_request(state, event, settings, now)
    if isinstance(event, RestoreRequested):
        return restore_request(state, event, settings, now)
    if isinstance(event, QBO_DOCUMENT_CHANGES):
        return _applied(event, now, (), ())
    # Recorded on its topic, accounted for here; rules for it arrive with their feature.
    return _ignored(event, "not_handled", f"no rule acts on {type_of(type(event))} yet", now)
