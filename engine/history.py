"""What one event says about the history of a record (issue 7): pure, no I/O.

A *record* is a CRM person, a CRM company or a QBO customer. Each event on the topics may speak
of some of them; `entries_of` turns it into `HistoryEntry`s: who changed what (source), the
fields before and after, and why (cause). Projections store them; timelines, `--as-of`,
restores and the analysts' export read them.

Sources:
- `crm` / `qbo`: the system reported a change of its own record (a change event). Whether it was
  a person's edit or the echo of the engine's own write is the engine's verdict on that input,
  which the reader adds (the verdict is on another topic and may arrive later).
- `engine`: the engine changed what a record holds or how it is linked: the first-import merge
  and the write-back (`LinkMade`), an ongoing-sync write (`LinkSynced`, with its command), a link
  ended, made inactive or moved.
- `user`: a user's request changed it (a restore).

Field changes of a system's change event are the difference with the previous snapshot *of the
same system's events* for that record (they travel on one partition per tenant, so the order is
the log's and a replay finds the same differences); the event's own `before` is used when no
earlier snapshot is known, and a first sighting without either lists no changes. Timestamps and
version fields (`updated_at`, `MetaData`, `SyncToken`) are versions, not changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from engine.fields import normalise
from schemas.crm import (
    CrmCompanyChanged,
    CrmCompanyDeleted,
    CrmPersonChanged,
    CrmPersonDeleted,
)
from schemas.decisions import (
    FieldChange,
    LinkEnded,
    LinkInactive,
    LinkMade,
    LinkMoved,
    LinkObserved,
    LinkSynced,
)
from schemas.envelope import Envelope
from schemas.qbo import QboCustomerChanged, QboCustomerDeleted, QboCustomerMerged
from schemas.requests import RestoreRequested

RecordKind = Literal["person", "company", "customer"]
RECORD_KINDS: tuple[RecordKind, ...] = ("person", "company", "customer")
Source = Literal["crm", "qbo", "engine", "user"]
CauseKind = Literal["event", "command", "import", "request"]

# Versions and bookkeeping, not values anyone edits.
_NOT_FIELDS = frozenset({"updated_at", "created_at", "SyncToken", "MetaData", "domain", "sparse"})
# The system whose own change events are the truth about a record of each kind.
HOME_SYSTEM: dict[RecordKind, Source] = {"person": "crm", "company": "crm", "customer": "qbo"}


@dataclass(frozen=True)
class HistoryEntry:
    """One change to one record, as one event tells it."""

    kind: RecordKind
    record_id: str
    at: datetime
    source: Source
    event_id: str
    event_type: str
    summary: str
    cause_id: str | None = None
    cause_kind: CauseKind | None = None
    command_id: str | None = None
    changes: tuple[FieldChange, ...] = ()
    snapshot: dict[str, Any] | None = field(
        default=None, compare=False, metadata={"doc": "the record after, from its own system"}
    )
    deleted: bool = False


PreviousSnapshot = Callable[[RecordKind, str], Mapping[str, Any] | None]


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, str | None]:
    """Every value of a record under its dotted path, as the engine's text (engine/fields.py);
    lists stay one value. Versions and bookkeeping are left out."""
    flat: dict[str, str | None] = {}
    for key, value in record.items():
        if not prefix and key in _NOT_FIELDS:
            continue
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{path}."))
        else:
            flat[path] = normalise(value)
    return flat


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """The fields whose value differs, sorted by path; an empty value is None."""
    old, new = flatten(before or {}), flatten(after)
    return tuple(
        FieldChange(field=path, before=old.get(path), after=new.get(path))
        for path in sorted(old.keys() | new.keys())
        if old.get(path) != new.get(path)
    )


def _dump(model: Any) -> dict[str, Any]:
    return dict(model.model_dump(mode="json", exclude_none=False))


def _told(
    event: Envelope,
    kind: RecordKind,
    record_id: str | int,
    source: Source,
    summary: str,
    **details: Any,
) -> HistoryEntry:
    """An entry of `event` about one record; a system's own report is its own cause."""
    if source in ("crm", "qbo"):
        details = {"cause_id": event.id, "cause_kind": "event", **details}
    return HistoryEntry(
        kind=kind,
        record_id=str(record_id),
        at=event.time,
        source=source,
        event_id=event.id,
        event_type=event.type,
        summary=summary,
        **details,
    )


def _where(kind: RecordKind) -> str:
    return "the CRM" if HOME_SYSTEM[kind] == "crm" else "QBO"


def _system_change(
    event: Envelope,
    kind: RecordKind,
    record_id: str,
    after: dict[str, Any],
    before: dict[str, Any] | None,
    previous: PreviousSnapshot,
) -> HistoryEntry:
    known = previous(kind, record_id)
    base = dict(known) if known is not None else before
    seen = "changed" if base is not None else "first seen"
    return _told(
        event,
        kind,
        record_id,
        HOME_SYSTEM[kind],
        f"{kind} {seen} in {_where(kind)}",
        changes=diff(base, after) if base is not None else (),
        snapshot=after,
    )


def _deleted(
    event: Envelope, kind: RecordKind, record_id: str | int, how: str = "deleted"
) -> HistoryEntry:
    summary = f"{kind} {how} in {_where(kind)}"
    return _told(event, kind, record_id, HOME_SYSTEM[kind], summary, deleted=True)


def _engine(
    event: Envelope,
    kind: RecordKind,
    record_id: str | int,
    summary: str,
    cause: tuple[str | None, CauseKind | None],
    changes: tuple[FieldChange, ...] = (),
    command_id: str | None = None,
) -> HistoryEntry:
    return _told(
        event,
        kind,
        record_id,
        "engine",
        summary,
        cause_id=cause[0],
        cause_kind=cause[1],
        command_id=command_id,
        changes=changes,
    )


def _link_made(event: LinkMade) -> Iterator[HistoryEntry]:
    data = event.data
    cause: tuple[str | None, CauseKind | None] = (
        (data.import_request_id, "import") if data.import_request_id else (data.input_id, "event")
    )
    how = {"import": "by the import", "document": "by a document", "email_match": "by email"}
    yield _engine(
        event,
        "person",
        data.person_id,
        f"linked to QBO customer {data.customer_id} {how[data.via]}"
        + (" (person created)" if data.person_created else ""),
        cause,
        data.crm_changes,
    )
    yield _engine(
        event,
        "customer",
        data.customer_id,
        f"linked to CRM person {data.person_id} {how[data.via]}",
        cause,
        data.qbo_changes,
    )


def _link_synced(event: LinkSynced) -> Iterator[HistoryEntry]:
    data = event.data
    if data.written_side == "crm":
        kind: RecordKind = "person"
        record_id: str | int = data.person_id
        summary = f"the engine writes the CRM person (linked to QBO customer {data.customer_id})"
    else:
        kind, record_id = "customer", data.customer_id
        summary = f"the engine writes the QBO customer (linked to CRM person {data.person_id})"
    yield _engine(
        event, kind, record_id, summary, (data.input_id, "event"), data.changes, data.command_id
    )


def _link_status(event: LinkEnded | LinkInactive | LinkMoved) -> Iterator[HistoryEntry]:
    data = event.data
    if isinstance(event, LinkEnded):
        summary = f"link to QBO customer {data.customer_id} ended ({event.data.reason})"
    elif isinstance(event, LinkInactive):
        summary = f"link to QBO customer {data.customer_id} inactive ({event.data.reason})"
    else:
        summary = (
            f"link moved from QBO customer {data.customer_id} to {event.data.to_customer_id}"
            " (merged in QBO)"
        )
    cause: tuple[str | None, CauseKind | None] = (data.input_id, "event")
    yield _engine(event, "person", data.person_id, summary, cause)
    yield _engine(event, "customer", data.customer_id, summary, cause)


def _link_conflicts(event: LinkObserved) -> Iterator[HistoryEntry]:
    """A change that lost to a later one of the other side: its values are kept here."""
    data = event.data
    if not data.conflicts:
        return
    lost = tuple(
        FieldChange(
            field=note.crm_field if data.side == "crm" else note.qbo_field,
            before=note.crm_value if note.kept == "crm" else note.qbo_value,
            after=note.qbo_value if note.kept == "crm" else note.crm_value,
        )
        for note in data.conflicts
    )
    kind: RecordKind = "person" if data.side == "crm" else "customer"
    record_id = data.person_id if data.side == "crm" else data.customer_id
    yield _engine(
        event,
        kind,
        record_id,
        "conflict: this change lost to a later change of the other side (values kept here)",
        (data.input_id, "event"),
        lost,
    )


def _restore_requested(event: RestoreRequested) -> HistoryEntry:
    data = event.data
    summary = (
        f"user {data.actor.user_id} asked to restore the values of {data.as_of.isoformat()} "
        f"(restore {data.restore_id}, {data.scope} {data.scope_id})"
    )
    # The fields it changes are the engine's writes that name this request as their cause.
    return _told(
        event,
        "person",
        data.person_id,
        "user",
        summary,
        cause_id=data.restore_id,
        cause_kind="request",
    )


def entries_of(event: Envelope, previous: PreviousSnapshot) -> tuple[HistoryEntry, ...]:
    """The history entries one event makes; `previous(kind, id)` is the last snapshot of that
    record from its own system's change events (None when none is known)."""
    if isinstance(event, CrmPersonChanged):
        after = _dump(event.data.after)
        before = _dump(event.data.before) if event.data.before else None
        return (_system_change(event, "person", str(after["id"]), after, before, previous),)
    if isinstance(event, CrmCompanyChanged):
        after = _dump(event.data.after)
        before = _dump(event.data.before) if event.data.before else None
        return (_system_change(event, "company", str(after["id"]), after, before, previous),)
    if isinstance(event, QboCustomerChanged):
        entity = _dump(event.data.entity)
        customer_id = str(entity["Id"])
        return (_system_change(event, "customer", customer_id, entity, None, previous),)
    if isinstance(event, CrmPersonDeleted):
        return (_deleted(event, "person", event.data.id),)
    if isinstance(event, CrmCompanyDeleted):
        return (_deleted(event, "company", event.data.id),)
    if isinstance(event, QboCustomerDeleted):
        return (_deleted(event, "customer", event.data.id),)
    if isinstance(event, QboCustomerMerged):
        how = f"merged into {event.data.surviving_id}"
        return (_deleted(event, "customer", event.data.merged_id, how),)
    if isinstance(event, LinkMade):
        return tuple(_link_made(event))
    if isinstance(event, LinkSynced):
        return tuple(_link_synced(event))
    if isinstance(event, LinkEnded | LinkInactive | LinkMoved):
        return tuple(_link_status(event))
    if isinstance(event, LinkObserved):
        return tuple(_link_conflicts(event))
    if isinstance(event, RestoreRequested):
        return (_restore_requested(event),)
    return ()


def as_of(entries: list[HistoryEntry], kind: RecordKind, when: datetime) -> dict[str, Any] | None:
    """The record as its own system last reported it at or before `when` (None: not known then,
    or deleted). `entries` are in history order."""
    state: dict[str, Any] | None = None
    for entry in entries:
        if entry.at > when:
            break
        if entry.source != HOME_SYSTEM[kind]:
            continue
        if entry.deleted:
            state = None
        elif entry.snapshot is not None:
            state = entry.snapshot
    return state
