"""Admin requests (SYNC-RULES 2): commands on the installation and import-run aggregates.

The aggregates hold the rules (only admins; enable needs a connection; settings are validated
when saved); this turns one request into the store events to record and the decisions to
publish, or into a `RequestDenied` naming the rule. Pure: the caller loads and records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.decide import decision_meta, request_denied
from schemas.commands import RunImport, RunImportData
from schemas.decisions import (
    DenialCode,
    ImportStarted,
    ImportStartedData,
    InputApplied,
    InputAppliedData,
    InstallationChange,
    InstallationChanged,
    InstallationChangedData,
)
from schemas.envelope import Envelope, type_of
from schemas.requests import (
    ConnectRequested,
    DisableRequested,
    DisconnectRequested,
    EnableRequested,
    ImportRequested,
    InstallRequested,
    RequestData,
    SettingsSaveRequested,
    UninstallRequested,
)
from store import installation as inst
from store.import_run import start_import
from store.installation import Installation, InvalidSettings, NotConnected, mutate_installation
from store.model import DomainError, DomainEvent, InvalidTransition, NotAllowed

INSTALLATION_REQUESTS = (
    InstallRequested,
    ConnectRequested,
    DisconnectRequested,
    UninstallRequested,
    SettingsSaveRequested,
    EnableRequested,
    DisableRequested,
    ImportRequested,
)


@dataclass(frozen=True)
class RequestDecision:
    store_events: tuple[DomainEvent, ...] = ()
    decisions: tuple[Envelope, ...] = ()
    jobs: tuple[Envelope, ...] = ()


def _denied(
    event: Envelope, data: RequestData, error: DomainError, now: datetime
) -> RequestDecision:
    code: DenialCode
    if isinstance(error, NotAllowed):
        code = "not_allowed"
    elif isinstance(error, NotConnected):
        code = "not_connected"
    elif isinstance(error, InvalidSettings):
        code = "invalid"
    else:
        code = "invalid_transition"
    denied = request_denied(event, code, str(error), now, f"installation/{event.tenant}")
    return RequestDecision(decisions=(denied,))


def _installation_events(
    current: Installation | None, event: Envelope
) -> list[tuple[DomainEvent | None, InstallationChange]]:
    """The store events of a lifecycle request, each with the change it makes."""
    data = event.data
    assert isinstance(data, RequestData)
    actor = data.actor
    if isinstance(event, InstallRequested):
        installed = inst.install(event.tenant, event.data.crm_account_id, actor, current)
        steps: list[tuple[DomainEvent | None, InstallationChange]] = [(installed, "installed")]
        if event.data.realm_id:
            state = mutate_installation(installed, current)
            steps.append((inst.connect(state, actor, event.data.realm_id), "connected"))
        return steps
    if current is None:
        raise InvalidTransition(f"tenant {event.tenant!r} is not installed")
    if isinstance(event, ConnectRequested):
        return [(inst.connect(current, actor, event.data.realm_id), "connected")]
    if isinstance(event, DisconnectRequested):
        return [(inst.disconnect(current, actor), "disconnected")]
    if isinstance(event, UninstallRequested):
        return [(inst.uninstall(current, actor), "uninstalled")]
    if isinstance(event, SettingsSaveRequested):
        return [(inst.save_settings(current, actor, event.data.settings), "settings_saved")]
    if isinstance(event, EnableRequested):
        return [(inst.enable(current, actor), "enabled")]
    if isinstance(event, DisableRequested):
        return [(inst.disable(current, actor), "disabled")]
    raise TypeError(f"{event.type} is not an installation request")


def decide_request(current: Installation | None, event: Envelope, now: datetime) -> RequestDecision:
    data = event.data
    assert isinstance(data, RequestData)
    try:
        if isinstance(event, ImportRequested):
            return _start_import(current, event, now)
        steps = _installation_events(current, event)
    except DomainError as error:
        return _denied(event, data, error, now)
    recorded = [(store_event, change) for store_event, change in steps if store_event]
    if not recorded:  # already so (enable when enabled): accounted for, nothing changes
        applied = InputApplied(
            **decision_meta(event, "decision", now, f"installation/{event.tenant}"),
            data=InputAppliedData(input_id=event.id, input_type=type_of(type(event))),
        )
        return RequestDecision(decisions=(applied,))
    state = current
    decisions = []
    for store_event, change in recorded:
        state = mutate_installation(store_event, state)
        decisions.append(
            InstallationChanged(
                **decision_meta(
                    event, f"installation-{change}", now, f"installation/{event.tenant}"
                ),
                data=InstallationChangedData(
                    input_id=event.id,
                    change=change,
                    actor_user_id=data.actor.user_id,
                    crm_account_id=state.crm_account_id if change == "installed" else None,
                    realm_id=state.realm_id if change == "connected" else None,
                    settings=state.settings if change == "settings_saved" else None,
                ),
            )
        )
    return RequestDecision(store_events=tuple(e for e, _ in recorded), decisions=tuple(decisions))


def _start_import(
    current: Installation | None, event: ImportRequested, now: datetime
) -> RequestDecision:
    if current is None:
        raise InvalidTransition(f"tenant {event.tenant!r} is not installed")
    data = event.data
    started = start_import(
        current, data.actor, request_id=event.id, dry_run=data.dry_run, started_at=now
    )
    subject = f"import/{event.id}"
    decision = ImportStarted(
        **decision_meta(event, "import-started", now, subject),
        data=ImportStartedData(
            request_id=event.id, dry_run=data.dry_run, requested_by=data.actor.user_id
        ),
    )
    job = RunImport(
        **decision_meta(event, "run-import", now, subject),
        data=RunImportData(
            request_id=event.id, dry_run=data.dry_run, requested_by=data.actor.user_id
        ),
    )
    return RequestDecision(store_events=(started,), decisions=(decision,), jobs=(job,))
