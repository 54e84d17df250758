"""Batch requests: 30 items per call, stable item ids, a requestid per chunk (reference 1, 10)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from adapters.qbo.models import BatchOperation

MAX_BATCH_ITEMS = 30  # QBO's recommended maximum, used by python-quickbooks and node-quickbooks
MAX_BATCH_ID = 10  # a bId may be at most 10 characters when the batch carries a requestid
_CHUNK_NAMESPACE = uuid.UUID("6d1f4c8e-0b8a-4f7e-9c57-2a9d3b1e5f60")


def chunks(
    operations: Sequence[BatchOperation], size: int = MAX_BATCH_ITEMS
) -> Iterator[Sequence[BatchOperation]]:
    for start in range(0, len(operations), size):
        yield operations[start : start + size]


def chunk_request_id(request_id: str, chunk_index: int) -> str:
    """A deterministic requestid per chunk, 36 characters (QBO's batch limit).

    A retried command re-sends the same chunks with the same ids, so QBO replays each chunk's
    first answer instead of executing it twice.
    """
    return str(uuid.uuid5(_CHUNK_NAMESPACE, f"{request_id}/{chunk_index}"))


def batch_ids(operations: Sequence[BatchOperation]) -> list[str]:
    ids = [op.batch_id or str(position) for position, op in enumerate(operations)]
    too_long = [batch_id for batch_id in ids if len(batch_id) > MAX_BATCH_ID]
    if too_long:
        raise ValueError(f"batch ids longer than {MAX_BATCH_ID} characters: {too_long}")
    if len(set(ids)) != len(ids):
        raise ValueError("batch ids must be unique within a chunk")
    return ids


def batch_item(operation: BatchOperation, batch_id: str) -> dict[str, Any]:
    if operation.operation == "query":
        if not operation.query:
            raise ValueError(f"batch item {batch_id}: a query needs its SELECT")
        return {"bId": batch_id, "Query": operation.query}
    if not operation.entity:
        raise ValueError(f"batch item {batch_id}: {operation.operation} needs an entity name")
    return {"bId": batch_id, "operation": operation.operation, operation.entity: operation.body}


def batch_payload(operations: Sequence[BatchOperation], ids: Sequence[str]) -> dict[str, Any]:
    return {
        "BatchItemRequest": [batch_item(op, bid) for op, bid in zip(operations, ids, strict=True)]
    }
