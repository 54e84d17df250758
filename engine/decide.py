"""decide(state, event, settings, now): the functional core. No I/O, no clock, no environment.

Every input is accounted for (SYNC-RULES 7): it yields an `InputApplied` with its commands, or an
`InputIgnored` that says why. Decision ids derive from the input id, so a redelivered input yields
the very same decision, which downstream consumers dedupe on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.ids import derived_id
from engine.state import TenantState
from schemas.crm import CrmPersonChanged
from schemas.decisions import IgnoreReason, InputIgnored, InputIgnoredData
from schemas.envelope import Envelope, type_of
from schemas.settings import IntegrationSettings

ENGINE_SOURCE = "/qbsync/engine"


@dataclass(frozen=True)
class Decision:
    events: tuple[Envelope, ...] = ()
    commands: tuple[Envelope, ...] = ()


def _ignored(event: Envelope, reason: IgnoreReason, detail: str, now: datetime) -> Decision:
    ignored = InputIgnored(
        id=derived_id(event.id, "decision"),
        source=ENGINE_SOURCE,
        subject=event.subject,
        time=now,
        tenant=event.tenant,
        correlationid=event.correlationid or event.id,
        causationid=event.id,
        data=InputIgnoredData(
            input_id=event.id, input_type=type_of(type(event)), reason=reason, detail=detail
        ),
    )
    return Decision(events=(ignored,))


def _crm_person_changed(
    state: TenantState, event: CrmPersonChanged, settings: IntegrationSettings, now: datetime
) -> Decision:
    person_id = event.data.after.id
    if not state.installed:
        return _ignored(event, "not_installed", f"tenant {event.tenant} is not installed", now)
    if not state.enabled:
        # SYNC-RULES 2.6: while disabled, changes are recorded but no command is issued.
        return _ignored(event, "disabled", "the integration is disabled", now)
    if settings.direction == "qbo_to_crm":
        return _ignored(event, "direction", "sync direction is qbo_to_crm", now)
    # SYNC-RULES 5: a new CRM person does not create a QBO customer; only linked people sync.
    return _ignored(event, "not_linked", f"CRM person {person_id} has no QBO customer link", now)


def decide(
    state: TenantState, event: Envelope, settings: IntegrationSettings, now: datetime
) -> Decision:
    if isinstance(event, CrmPersonChanged):
        return _crm_person_changed(state, event, settings, now)
    # Recorded on its topic, accounted for here; rules for it arrive with their feature.
    return _ignored(event, "not_handled", f"no rule acts on {type_of(type(event))} yet", now)
