"""An import run (SYNC-RULES 4): an admin starts it; it progresses, then finishes with a summary
or fails. And its items: one small aggregate per QBO customer the run links.

The job that runs an import is killed and redelivered at any moment (streams/importer.py), so
what it decided is written down before it acts on it, and resumed from here:
- `Planned` (once, before any write): the skipped and ambiguous customers and the companies to
  create, so a resumed run reports what the first attempt saw, not what its own writes left.
- `CompanyResolved`: a company the run created (or found, or failed to create).
- `ImportItem`, per customer: `ItemPlanned` (the intent: the merge and the writes, recorded before
  the first write, so a resumed run repeats the same commands instead of re-deciding from data
  its own writes changed) and `ItemDone` (the outcome, recorded in the transaction that records
  the link). An item's first event can be recorded once only, so two workers that run the same
  job race on it and one of them stops (`ConcurrentWriteError`).
- `Progressed` carries the counts so far and `published_through`: every customer with an id up
  to it is done and its events were acknowledged by Kafka.
- `NotificationPosted`, after the summary reached the CRM (so a redelivery does not post twice).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import singledispatch
from typing import Any, Literal
from uuid import UUID

from pydantic import Field, ValidationError

from schemas.common import TenantId
from schemas.decisions import ConflictNote, FieldChange
from schemas.requests import Actor
from store.import_summary import AmbiguousMatch, ConflictKept, ImportSummary, SkippedCustomer
from store.installation import Installation, NotConnected
from store.model import (
    Aggregate,
    AwareTime,
    DomainError,
    DomainEvent,
    Immutable,
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

Values = dict[str, str | None]


def import_run_id(tenant: str, request_id: str) -> UUID:
    return stable_id("import-run", tenant, request_id)


def import_item_id(tenant: str, request_id: str, customer_id: str) -> UUID:
    return stable_id("import-item", tenant, request_id, customer_id)


class PlannedImport(Immutable):
    """What the first attempt planned that later attempts cannot see again."""

    total: int = Field(ge=0, description="customers to link or create")
    skipped: tuple[SkippedCustomer, ...] = ()
    ambiguous: tuple[AmbiguousMatch, ...] = ()
    companies: tuple[str, ...] = Field(default=(), description="CRM companies to create")


class CompanyResult(Immutable):
    name: str
    company_id: int | None = None
    created: bool = False
    error: str | None = None


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
    planned: PlannedImport | None = None
    companies: dict[str, CompanyResult] = Field(
        default_factory=dict, description="by company key (trimmed, case-folded name)"
    )
    published_through: int = Field(default=0, description="customer ids up to it are all done")
    finished_at: datetime | None = None
    failed_at: datetime | None = None
    notification_posted: bool = False


class Started(DomainEvent):
    tenant: TenantId
    request_id: str
    dry_run: bool
    requested_by: int
    started_at: AwareTime


class Planned(DomainEvent):
    plan: PlannedImport


class CompanyResolved(DomainEvent):
    key: str
    result: CompanyResult


class Progressed(DomainEvent):
    counts: dict[str, int]
    published_through: int | None = None


class Finished(DomainEvent):
    summary: ImportSummary


class Failed(DomainEvent):
    reason: str


class NotificationPosted(DomainEvent):
    notification_id: int | None = None


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


def _at(when: datetime | None) -> dict[str, Any]:
    return {} if when is None else {"timestamp": when}


def plan(run: ImportRun, planned: PlannedImport) -> Planned:
    """Once per run, before its first write."""
    origin = _running(run)
    if run.planned is not None:
        raise InvalidTransition(f"import {run.request_id!r} is planned already")
    return Planned(**origin, plan=planned)


def resolve_company(run: ImportRun, key: str, result: CompanyResult) -> CompanyResolved:
    return CompanyResolved(**_running(run), key=key, result=result)


def progress(
    run: ImportRun, counts: Mapping[str, int], *, published_through: int | None = None
) -> Progressed:
    """Counts so far; a name not given keeps its previous value. `published_through` only
    moves forward."""
    if published_through is not None and published_through < run.published_through:
        raise InvalidTransition(
            f"import {run.request_id!r} published through {run.published_through} already"
        )
    return Progressed(**_running(run), counts=dict(counts), published_through=published_through)


def finish(
    run: ImportRun, summary: ImportSummary | Mapping[str, Any], *, at: datetime | None = None
) -> Finished:
    origin = _running(run)
    if not isinstance(summary, ImportSummary):
        try:
            summary = ImportSummary.model_validate(summary)
        except ValidationError as error:
            raise IncompleteSummary(f"import summary rejected: {error}") from error
    return Finished(**origin, **_at(at), summary=summary)


def fail(run: ImportRun, reason: str, *, at: datetime | None = None) -> Failed:
    return Failed(**_running(run), **_at(at), reason=reason)


def notification_posted(run: ImportRun, notification_id: int | None) -> NotificationPosted:
    """The summary reached the CRM; only a finished run posts one, once."""
    if run.status != "finished":
        raise InvalidTransition(f"import {run.request_id!r} has not finished; nothing to post")
    if run.notification_posted:
        raise InvalidTransition(f"the summary of import {run.request_id!r} is posted already")
    return NotificationPosted(**following(run), notification_id=notification_id)


@singledispatch
def mutate_import_run(event: DomainEvent, state: ImportRun | None) -> ImportRun:
    raise does_not_apply(event, "ImportRun")


@mutate_import_run.register
def _(event: Started, _: None) -> ImportRun:
    return ImportRun(**created(event), **event.model_dump(exclude=set(DomainEvent.model_fields)))


@mutate_import_run.register
def _(event: Planned, state: ImportRun) -> ImportRun:
    return evolved(state, event, planned=event.plan)


@mutate_import_run.register
def _(event: CompanyResolved, state: ImportRun) -> ImportRun:
    return evolved(state, event, companies={**state.companies, event.key: event.result})


@mutate_import_run.register
def _(event: Progressed, state: ImportRun) -> ImportRun:
    through = state.published_through
    if event.published_through is not None:
        through = max(through, event.published_through)
    return evolved(state, event, counts={**state.counts, **event.counts}, published_through=through)


@mutate_import_run.register
def _(event: Finished, state: ImportRun) -> ImportRun:
    return evolved(
        state, event, status="finished", summary=event.summary, finished_at=event.timestamp
    )


@mutate_import_run.register
def _(event: Failed, state: ImportRun) -> ImportRun:
    return evolved(state, event, status="failed", failure=event.reason, failed_at=event.timestamp)


@mutate_import_run.register
def _(event: NotificationPosted, state: ImportRun) -> ImportRun:
    return evolved(state, event, notification_posted=True)


project_import_run = projector(mutate_import_run)


# --- items: one per QBO customer the run links -------------------------------------------------


class ItemIntent(Immutable):
    """What the run will write for one customer, decided once (SYNC-RULES 4.3-4.6).

    `person_id` None: create a person from `create_fields`. `company_id`: the CRM company the
    person is created in or attached to. `crm_updates`/`qbo_updates` (`both` only) are the
    first-import merge; `qbo_base` is what QBO held in those fields, at `qbo_sync_token`.
    """

    person_id: int | None = None
    create_fields: Values = Field(default_factory=dict)
    company_id: int | None = None
    crm_updates: Values = Field(default_factory=dict)
    qbo_updates: Values = Field(default_factory=dict)
    qbo_base: Values = Field(default_factory=dict)
    qbo_sync_token: str
    crm_changes: tuple[FieldChange, ...] = ()
    qbo_changes: tuple[FieldChange, ...] = ()
    conflicts: tuple[ConflictNote, ...] = ()


ItemStatus = Literal["linked", "created", "already_linked", "failed"]


class ItemOutcome(Immutable):
    """`linked`: to an existing person; `created`: to a person the run created;
    `already_linked`: someone else linked the customer meanwhile; `failed`: `error` says why."""

    status: ItemStatus
    person_id: int | None = None
    conflicts: tuple[ConflictKept, ...] = ()
    error: str | None = None


class ImportItem(Aggregate):
    tenant: str
    request_id: str
    customer_id: str
    intent: ItemIntent | None = None
    outcome: ItemOutcome | None = None


class ItemEvent(DomainEvent):
    tenant: TenantId
    request_id: str
    customer_id: str


class ItemPlanned(ItemEvent):
    intent: ItemIntent


class ItemDone(ItemEvent):
    outcome: ItemOutcome


def _item_origin(current: ImportItem | None, tenant: str, request: str, customer: str) -> Any:
    if current is None:
        return {
            **first(import_item_id(tenant, request, customer)),
            "tenant": tenant,
            "request_id": request,
            "customer_id": customer,
        }
    if current.outcome is not None:
        raise InvalidTransition(f"customer {customer} of import {request!r} is done already")
    return {
        **following(current),
        "tenant": current.tenant,
        "request_id": current.request_id,
        "customer_id": current.customer_id,
    }


def plan_item(
    current: ImportItem | None, tenant: str, request_id: str, customer_id: str, intent: ItemIntent
) -> ItemPlanned:
    """The intent is written once, before the first write for the customer."""
    if current is not None and current.intent is not None:
        raise InvalidTransition(f"customer {customer_id} of import {request_id!r} is planned")
    origin = _item_origin(current, tenant, request_id, customer_id)
    return ItemPlanned(**origin, intent=intent)


def finish_item(
    current: ImportItem | None,
    tenant: str,
    request_id: str,
    customer_id: str,
    outcome: ItemOutcome,
) -> ItemDone:
    return ItemDone(**_item_origin(current, tenant, request_id, customer_id), outcome=outcome)


@singledispatch
def mutate_import_item(event: DomainEvent, state: ImportItem | None) -> ImportItem:
    raise does_not_apply(event, "ImportItem")


def _new_item(event: ItemEvent, **fields: Any) -> ImportItem:
    return ImportItem(
        **created(event),
        tenant=event.tenant,
        request_id=event.request_id,
        customer_id=event.customer_id,
        **fields,
    )


@mutate_import_item.register
def _(event: ItemPlanned, state: ImportItem | None) -> ImportItem:
    if state is None:
        return _new_item(event, intent=event.intent)
    return evolved(state, event, intent=event.intent)


@mutate_import_item.register
def _(event: ItemDone, state: ImportItem | None) -> ImportItem:
    if state is None:
        return _new_item(event, outcome=event.outcome)
    return evolved(state, event, outcome=event.outcome)


project_import_item = projector(mutate_import_item)
