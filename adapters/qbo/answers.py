"""Reading QBO's answer envelopes: entity wrappers, query pages, CDC and batch items."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from adapters.qbo.errors import QboError
from adapters.qbo.faults import error_from_fault, fault_in
from adapters.qbo.models import BatchOutcome, CdcChanges, Tombstone, parse_entity
from schemas.qbo import QboEntity

CDC_OBJECT_CAP = 1000  # QBO returns at most this many objects per entity per CDC call
_QUERY_META = frozenset({"startPosition", "maxResults", "totalCount"})


def wrapped(body: Mapping[str, Any], entity_name: str) -> dict[str, Any]:
    """`{"Customer": {...}, "time": ...}` → the entity; QBO always wraps in the entity name."""
    entity = body.get(entity_name)
    if not isinstance(entity, dict):
        raise QboError(f"QBO answer lacks {entity_name}", status=200, detail=str(body)[:300])
    return entity


def parse_time(value: Any) -> datetime | None:
    """QBO's top-level `time`: ISO 8601 with offset, or epoch milliseconds from the auth layer."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC)
    if isinstance(value, str) and value:
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def query_rows(query_response: Mapping[str, Any]) -> list[QboEntity]:
    """Entities of one QueryResponse; an empty answer has no entity key at all."""
    return [
        parse_entity(name, row)
        for name, rows in query_response.items()
        if name not in _QUERY_META and isinstance(rows, list)
        for row in rows
    ]


def cdc_changes(body: Mapping[str, Any]) -> CdcChanges:
    changed: list[QboEntity] = []
    deleted: list[Tombstone] = []
    truncated: set[str] = set()
    for cdc in body.get("CDCResponse") or []:
        for page in cdc.get("QueryResponse") or []:
            for name, rows in page.items():
                if name in _QUERY_META or not isinstance(rows, list):
                    continue
                if len(rows) >= CDC_OBJECT_CAP:
                    truncated.add(name)
                for row in rows:
                    if row.get("status") == "Deleted":
                        stamp = (row.get("MetaData") or {}).get("LastUpdatedTime")
                        deleted.append(Tombstone(name, str(row["Id"]), parse_time(stamp)))
                    else:
                        changed.append(parse_entity(name, row))
    return CdcChanges(
        tuple(changed), tuple(deleted), parse_time(body.get("time")), frozenset(truncated)
    )


def batch_outcomes(
    body: Mapping[str, Any], batch_ids: Sequence[str], intuit_tid: str | None = None
) -> list[BatchOutcome]:
    """One outcome per requested bId, in request order; items may come back in any order."""
    by_id: dict[str, Mapping[str, Any]] = {
        str(item.get("bId")): item for item in body.get("BatchItemResponse") or []
    }
    outcomes = []
    for batch_id in batch_ids:
        item = by_id.get(batch_id)
        if item is None:
            error = QboError(f"QBO returned no answer for batch item {batch_id}", status=200)
            outcomes.append(BatchOutcome(batch_id, error=error))
            continue
        fault = fault_in(item)
        if fault is not None:
            outcomes.append(BatchOutcome(batch_id, error=error_from_fault(fault, 200, intuit_tid)))
        elif isinstance(item.get("QueryResponse"), Mapping):
            rows = tuple(query_rows(item["QueryResponse"]))
            outcomes.append(BatchOutcome(batch_id, query_results=rows))
        else:
            name, data = next(
                ((k, v) for k, v in item.items() if k != "bId" and isinstance(v, dict)), ("", {})
            )
            entity = parse_entity(name, data) if name and "MetaData" in data else None
            outcomes.append(BatchOutcome(batch_id, entity=entity))
    return outcomes
