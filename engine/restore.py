"""Restore (issue 7): put a linked person's mapped fields back to their values at a time T.

This is how the fields a QBO overwrite cleared (SYNC-RULES 5, the vendor's hazard) come back.
The planner reads the values at T from the history; the engine writes them with its ordinary
update commands and `LinkSynced` decisions, so every rule of ongoing sync holds:
- only admins may restore (it rewrites records on both sides); a denial names the rule;
- while the integration is disabled nothing is written (2.6), and it needs a QBO connection;
- the CRM is written where it differs; QBO too when the direction sends CRM values to QBO
  (`both`, `crm_to_qbo`); with `qbo_to_crm` QBO stays the master and is not written, so the
  next QBO change overwrites the CRM again (the README says so);
- the restored values become the link's agreed values, so the records coming back from both
  writes are recognised as the engine's own (no echo loop), and a later edit on either side is
  a real change;
- QBO's DisplayName is never emptied (ADR 0006), and the CRM's name rules apply as for any
  write (engine/crm_names.py).
A person who is not linked, whose link ended or is inactive, or whose records already hold the
values, gets no command: the request is ignored with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.accounting import Decision, applied, ignored, request_denied
from engine.fields import crm_to_qbo_applies, crm_value, qbo_value, same_value
from engine.link_state import LinkState
from engine.link_sync import Change, SyncPlan, shaped
from engine.link_writes import synced_decisions, update_command_ids, update_commands
from engine.state import TenantState
from schemas.commands import FieldValues
from schemas.decisions import AgreedValue, Side
from schemas.requests import RestoreRequested
from schemas.settings import FieldPair, IntegrationSettings


@dataclass(frozen=True)
class FieldRestore:
    """One mapped CRM field: its value now, and the value a restore puts back."""

    field: str
    now: str | None
    restored: str | None


@dataclass(frozen=True)
class FieldFilter:
    """Which of the fields that differ to put back: all (default), these, or only the ones
    emptied since T (what a QBO overwrite cleared, keeping the rest of its change)."""

    fields: frozenset[str] | None = None
    only_cleared: bool = False

    def keeps(self, change: FieldRestore) -> bool:
        if self.fields is not None and change.field not in self.fields:
            return False
        return not self.only_cleared or (change.now is None and change.restored is not None)


def fields_to_restore(
    then: Mapping[str, Any],
    now: Mapping[str, Any],
    mapping: Iterable[FieldPair],
    only: FieldFilter,
) -> tuple[FieldRestore, ...]:
    """The mapped CRM fields whose value at T (`then`) differs from today's (`now`), as the
    filter chooses: what a restore of this person plans to put back."""
    changes = (
        (pair, FieldRestore(pair.crm, crm_value(now, pair.crm), crm_value(then, pair.crm)))
        for pair in mapping
    )
    return tuple(
        change
        for pair, change in changes
        if not same_value(pair, change.now, change.restored) and only.keeps(change)
    )


def plan_restore(
    link: LinkState,
    values: FieldValues,
    settings: IntegrationSettings,
    command_for: dict[Side, str],
    now: datetime,
) -> SyncPlan:
    """The writes that make both sides hold `values` (CRM paths), per the direction."""
    plan = SyncPlan()
    to_qbo_too = crm_to_qbo_applies(settings.direction)
    for pair in settings.field_mapping:
        if pair.crm not in values:
            continue
        target = values[pair.crm]
        crm_differs = not same_value(pair, crm_value(link.crm, pair.crm), target)
        qbo_differs = to_qbo_too and not same_value(pair, qbo_value(link.qbo, pair.qbo), target)
        if crm_differs:
            plan.to_crm[pair.crm] = target
        if qbo_differs:
            plan.to_qbo[pair.qbo] = target
            plan.qbo_base[pair.qbo] = qbo_value(link.qbo, pair.qbo)
        if crm_differs or qbo_differs:
            pending = command_for["qbo"] if qbo_differs else command_for["crm"]
            plan.agreed[pair.crm] = AgreedValue(value=target, at=now, side="crm", pending=pending)
    return shaped(plan, link, settings)


def _restorable(state: TenantState, person_id: int) -> tuple[LinkState | None, str]:
    link = state.link
    if link is None or link.person_id != person_id:
        return None, f"CRM person {person_id} is not linked to a QBO customer"
    if link.status != "active":
        return None, f"the link of CRM person {person_id} is {link.status}"
    return link, ""


def restore_request(
    state: TenantState, event: RestoreRequested, settings: IntegrationSettings, now: datetime
) -> Decision:
    wanted = event.data
    if not wanted.actor.is_admin:
        reason = f"user {wanted.actor.user_id} is not an admin, and only admins may restore records"
        return Decision(events=(request_denied(event, "not_allowed", reason, now),))
    if not state.enabled:
        reason = "the integration is disabled: an admin must enable it first"
        return Decision(events=(request_denied(event, "disabled", reason, now),))
    link, why_not = _restorable(state, wanted.person_id)
    if link is None:
        return ignored(event, "not_linked", why_not, now)
    command_ids = update_command_ids(event)
    plan = plan_restore(link, wanted.values, settings, command_ids, now)
    if not plan.writes:
        detail = f"CRM person {wanted.person_id} already holds the values of {wanted.as_of}"
        return ignored(event, "no_mapped_change", detail, now)
    commands = update_commands(event, link, plan, link.qbo_sync_token, now)
    change = Change(side="crm", record=link.crm, changed_at=now)
    decisions = synced_decisions(event, link, change, plan, link.qbo_sync_token, now, commands)
    return applied(event, now, decisions, tuple(commands.values()))
