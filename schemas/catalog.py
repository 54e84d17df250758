"""The v1 event catalog: every wire type, and how bytes become a typed event or a clear refusal."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from schemas.commands import COMMANDS, JOBS
from schemas.common import FieldError
from schemas.crm import CRM_EVENTS
from schemas.deadletter import DEAD_LETTERS
from schemas.decisions import DECISIONS
from schemas.envelope import Envelope, type_of
from schemas.outcomes import OUTCOMES
from schemas.qbo import QBO_EVENTS
from schemas.requests import REQUEST_EVENTS

ALL_EVENT_CLASSES: tuple[type[Envelope], ...] = (
    *CRM_EVENTS,
    *QBO_EVENTS,
    *REQUEST_EVENTS,
    *DECISIONS,
    *COMMANDS,
    *JOBS,
    *OUTCOMES,
    *DEAD_LETTERS,
)
EVENT_TYPES: Mapping[str, type[Envelope]] = {type_of(cls): cls for cls in ALL_EVENT_CLASSES}


class EventRejected(ValueError):
    """The bytes are not an event of the catalog. `errors` name each offending field."""

    def __init__(self, reason: str, errors: tuple[FieldError, ...]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors


def _dotted(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(document)"


def field_errors(exc: ValidationError) -> tuple[FieldError, ...]:
    return tuple(FieldError(field=_dotted(err["loc"]), message=err["msg"]) for err in exc.errors())


def _reject(errors: tuple[FieldError, ...]) -> EventRejected:
    summary = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
    more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
    return EventRejected(f"invalid event: {summary}{more}", errors)


def event_class_for(document: Any) -> type[Envelope]:
    """The class a decoded JSON document claims to be, or EventRejected naming the `type` field."""
    if not isinstance(document, dict):
        raise _reject((FieldError(field="(document)", message="expected a JSON object"),))
    wire_type = document.get("type")
    if wire_type is None:
        raise _reject((FieldError(field="type", message="Field required"),))
    cls = EVENT_TYPES.get(wire_type) if isinstance(wire_type, str) else None
    if cls is None:
        raise _reject((FieldError(field="type", message=f"unknown event type {wire_type!r}"),))
    return cls


def parse_document(document: Any) -> Envelope:
    cls = event_class_for(document)
    try:
        return cls.model_validate(document)
    except ValidationError as exc:
        raise _reject(field_errors(exc)) from exc


def decode(raw: bytes | str) -> Envelope:
    """Bytes from a topic (or an HTTP body) to a typed event; EventRejected names the field."""
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _reject((FieldError(field="(document)", message=f"not valid JSON: {exc}"),)) from exc
    return parse_document(document)


def encode(event: Envelope) -> bytes:
    return event.model_dump_json().encode()
