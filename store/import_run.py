"""An import run (SYNC-RULES 4): an admin starts it; it progresses, then finishes with a summary
or fails."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import singledispatch
from typing import Any, Literal
from uuid import UUID

from pydantic import Field, ValidationError

from schemas.common import TenantId
from schemas.requests import Actor
from store.import_summary import ImportSummary
from store.installation import Installation, NotConnected
from store.model import (
    Aggregate,
    AwareTime,
    DomainError,
    DomainEvent,
    InvalidTransition,
    created,
    does_not_apply,
    evolved,
    first,
    following,
    projector,
    require_admin,
    stable_id,
)


def import_run_id(tenant: str, request_id: str) -> UUID:
    return stable_id("import-run", tenant, request_id)


class ImportRun(Aggregate):
    tenant: str
    request_id: str
    dry_run: bool
    requested_by: int
    started_at: datetime
    status: Literal["running", "finished", "failed"] = "running"
    counts: dict[str, int] = Field(default_factory=dict)
    summary: ImportSummary | None = None
    failure: str | None = None


class Started(DomainEvent):
    tenant: TenantId
    request_id: str
    dry_run: bool
    requested_by: int
    started_at: AwareTime


class Progressed(DomainEvent):
    counts: dict[str, int]


class Finished(DomainEvent):
    summary: ImportSummary


class Failed(DomainEvent):
    reason: str


class IncompleteSummary(DomainError):
    """A summary must carry every figure of SYNC-RULES 4.8."""


def start_import(
    installation: Installation,
    actor: Actor,
    *,
    request_id: str,
    dry_run: bool,
    started_at: datetime,
) -> Started:
    """Only an admin may import, and only with a QBO connection to read from."""
    require_admin(actor, "import")
    if installation.uninstalled:
        raise InvalidTransition(f"tenant {installation.tenant!r} is uninstalled; cannot import")
    if not installation.connected:
        raise NotConnected(f"tenant {installation.tenant!r} is not connected to QuickBooks")
    return Started(
        **first(import_run_id(installation.tenant, request_id)),
        tenant=installation.tenant,
        request_id=request_id,
        dry_run=dry_run,
        requested_by=actor.user_id,
        started_at=started_at,
    )


def _running(run: ImportRun) -> dict[str, Any]:
    if run.status != "running":
        raise InvalidTransition(f"import {run.request_id!r} has {run.status}; it takes no changes")
    return following(run)


def progress(run: ImportRun, counts: Mapping[str, int]) -> Progressed:
    """Counts so far; a name not given keeps its previous value."""
    return Progressed(**_running(run), counts=dict(counts))


def finish(run: ImportRun, summary: ImportSummary | Mapping[str, Any]) -> Finished:
    origin = _running(run)
    if not isinstance(summary, ImportSummary):
        try:
            summary = ImportSummary.model_validate(summary)
        except ValidationError as error:
            raise IncompleteSummary(f"import summary rejected: {error}") from error
    return Finished(**origin, summary=summary)


def fail(run: ImportRun, reason: str) -> Failed:
    return Failed(**_running(run), reason=reason)


@singledispatch
def mutate_import_run(event: DomainEvent, state: ImportRun | None) -> ImportRun:
    raise does_not_apply(event, "ImportRun")


@mutate_import_run.register
def _(event: Started, _: None) -> ImportRun:
    return ImportRun(**created(event), **event.model_dump(exclude=set(DomainEvent.model_fields)))


@mutate_import_run.register
def _(event: Progressed, state: ImportRun) -> ImportRun:
    return evolved(state, event, counts={**state.counts, **event.counts})


@mutate_import_run.register
def _(event: Finished, state: ImportRun) -> ImportRun:
    return evolved(state, event, status="finished", summary=event.summary)


@mutate_import_run.register
def _(event: Failed, state: ImportRun) -> ImportRun:
    return evolved(state, event, status="failed", failure=event.reason)


project_import_run = projector(mutate_import_run)
