"""Webhook bodies as Intuit sends them (reference section 6), and their signature.

Legacy: one object, one `eventNotification` per realm, each with its changed `entities` (ids
only; Merge adds `deletedId`). CloudEvents: a JSON array of events, at most 100 per POST, `type`
`qbo.<entity>.<created|updated|deleted|merged|voided|emailed>.v1`, `id` `<uuid>-<Entity>-<id>`.
Signature: base64(HMAC-SHA256(key=verifier token, msg=the exact body bytes)).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

from sandbox.qbo.changes import EntityChange

PayloadFormat = Literal["legacy", "cloudevents"]
CLOUDEVENTS_PER_POST = 100

_VERBS = {
    "Create": "created",
    "Update": "updated",
    "Delete": "deleted",
    "Merge": "merged",
    "Void": "voided",
    "Emailed": "emailed",
}


def sign(body: bytes, verifier_token: str) -> str:
    digest = hmac.new(verifier_token.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def event_source(client_id: str) -> str:
    """Intuit's `source` is an opaque, app-specific `intuit.<base64>=` string."""
    digest = base64.b64encode(hashlib.sha256(client_id.encode()).digest()).decode()
    return f"intuit.{digest.rstrip('=')}="


def _utc(moment: datetime, timespec: str) -> str:
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def legacy_document(changes: Sequence[EntityChange]) -> dict[str, Any]:
    by_realm: dict[str, list[dict[str, str]]] = {}
    for change in changes:
        entity = {
            "name": change.entity,
            "id": change.entity_id,
            "operation": change.operation,
            "lastUpdated": _utc(change.last_updated, "milliseconds"),
        }
        if change.operation == "Merge" and change.deleted_id is not None:
            entity["deletedId"] = change.deleted_id
        by_realm.setdefault(change.realm_id, []).append(entity)
    return {
        "eventNotifications": [
            {"realmId": realm_id, "dataChangeEvent": {"entities": entities}}
            for realm_id, entities in by_realm.items()
        ]
    }


def cloud_event(change: EntityChange, source: str) -> dict[str, Any]:
    data = (
        {"deletedid": change.deleted_id}
        if change.operation == "Merge" and change.deleted_id is not None
        else {}
    )
    verb = _VERBS.get(change.operation, change.operation.lower())
    return {
        "specversion": "1.0",
        "id": f"{uuid.uuid4()}-{change.entity}-{change.entity_id}",
        "source": source,
        "type": f"qbo.{change.entity.lower()}.{verb}.v1",
        "datacontenttype": "application/json",
        "time": _utc(change.last_updated, "microseconds"),
        "intuitentityid": change.entity_id,
        "intuitaccountid": change.realm_id,
        "data": data,
    }


class Body(NamedTuple):
    content: bytes
    events: int


def encode(changes: Sequence[EntityChange], fmt: PayloadFormat, source: str) -> list[Body]:
    """The request bodies for these changes, in order (CloudEvents split at 100 per POST)."""
    if not changes:
        return []
    if fmt == "legacy":
        return [Body(_compact(legacy_document(changes)), len(changes))]
    events = [cloud_event(change, source) for change in changes]
    chunks = [
        events[i : i + CLOUDEVENTS_PER_POST] for i in range(0, len(events), CLOUDEVENTS_PER_POST)
    ]
    return [Body(_compact(chunk), len(chunk)) for chunk in chunks]


def _compact(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()
