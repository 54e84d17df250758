"""Change Data Capture (reference section 5): everything changed since a moment, per entity type.

Changes are read from the store's microsecond change times (not the whole-second MetaData), so
a client using the response `time` as its next `changedSince` never misses a write.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sandbox.qbo import faults
from sandbox.qbo.entities import EntitySpec, spec_for_name, stamp_time
from sandbox.qbo.realm import RealmState, Record

LOOKBACK = timedelta(days=30)
MAX_OBJECTS_PER_ENTITY = 1000


def run_cdc(
    realm: RealmState, entities: str | None, changed_since: str | None, now: datetime
) -> list[dict[str, Any]]:
    """The `CDCResponse` list for `?entities=A,B&changedSince=...`."""
    specs = _entities(entities)
    since = _since(changed_since, now)
    responses: list[dict[str, Any]] = []
    for spec in specs:
        objects = _changes(realm, spec, since)
        if objects:
            responses.append({spec.name: objects, "startPosition": 1, "maxResults": len(objects)})
    # With no change at all QBO answers a list holding one empty object.
    return [{"QueryResponse": responses or [{}]}]


def _entities(text: str | None) -> list[EntitySpec]:
    if not text or not text.strip():
        raise faults.required_missing("entities")
    specs: list[EntitySpec] = []
    for name in (part.strip() for part in text.split(",")):
        spec = spec_for_name(name)
        if spec is None:
            raise faults.invalid_request(
                f"CDC is not supported for entity '{name}' in this sandbox", "entities"
            )
        if spec not in specs:
            specs.append(spec)
    return specs


def _since(text: str | None, now: datetime) -> datetime:
    if not text:
        raise faults.required_missing("changedSince")
    try:
        since = datetime.fromisoformat(text.strip().replace(" ", "+"))
    except ValueError:
        raise faults.invalid_request(
            f"changedSince '{text}' is not an ISO 8601 date or date-time", "changedSince"
        ) from None
    if since.tzinfo is None:
        since = since.replace(tzinfo=now.tzinfo)  # a bare time is the company's local time
    if since < now - LOOKBACK:
        raise faults.invalid_request(
            "changedSince must be within the last 30 days", element="changedSince"
        )
    return since


def _changes(realm: RealmState, spec: EntitySpec, since: datetime) -> list[Record]:
    records = realm.records[spec.name]
    changed: list[tuple[datetime, Record]] = [
        (at, records[id_]) for id_, at in realm.changed_at[spec.name].items() if at >= since
    ]
    changed += [
        (at, _tombstone(id_, at)) for id_, at in realm.tombstones[spec.name].items() if at >= since
    ]
    changed.sort(key=lambda pair: pair[0])
    # Oldest first, so a client that hits the cap can move its watermark and ask again.
    return [record for _, record in changed[:MAX_OBJECTS_PER_ENTITY]]


def _tombstone(id_: str, at: datetime) -> Record:
    return {
        "Id": id_,
        "domain": "QBO",
        "status": "Deleted",
        "MetaData": {"LastUpdatedTime": stamp_time(at)},
    }
