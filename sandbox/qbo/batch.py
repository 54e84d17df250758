"""`POST /batch` (reference section 10, "Batch shapes"): up to N independent items per call.

Every item succeeds or fails on its own (HTTP 200 overall, a `Fault` per failed item). Items run
in request order, as Intuit's 2017 blog describes; clients must not rely on that, QBO says.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.qbo import faults
from sandbox.qbo.cdc import run_cdc
from sandbox.qbo.changes import EntityName
from sandbox.qbo.clock import SandboxClock
from sandbox.qbo.entities import SPECS, unsupported
from sandbox.qbo.faults import QboFault
from sandbox.qbo.query_eval import run_query
from sandbox.qbo.realm import Record
from sandbox.qbo.store import QboStore

_ENTITY_KEYS: dict[str, EntityName] = {name: name for name in SPECS}


def run_batch(
    store: QboStore, realm_id: str, body: Any, max_items: int, clock: SandboxClock
) -> list[dict[str, Any]]:
    """The `BatchItemResponse` list; raises only for a malformed or oversized batch."""
    items = body.get("BatchItemRequest") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise QboFault(400, "400", "MalformedRequest", "Batch Request is Empty")
    if len(items) > max_items:
        raise faults.invalid_request(
            f"BatchItemRequest has {len(items)} items; the maximum is {max_items}",
            "BatchItemRequest",
        )
    return [_run_item(store, realm_id, item, clock) for item in items]


def _run_item(store: QboStore, realm_id: str, item: Any, clock: SandboxClock) -> dict[str, Any]:
    bid = item.get("bId") if isinstance(item, dict) else None
    try:
        if not isinstance(item, dict) or not bid:
            raise faults.required_missing("bId")
        return {"bId": bid, **_execute(store, realm_id, item, clock)}
    except QboFault as fault:
        return {"bId": bid, "Fault": fault.body(clock)["Fault"]}


def _execute(
    store: QboStore, realm_id: str, item: dict[str, Any], clock: SandboxClock
) -> dict[str, Any]:
    if "Query" in item:
        with store.locked(realm_id) as realm:
            now = clock.stamp(clock.now())
            return {"QueryResponse": run_query(realm, str(item["Query"]), now)}
    if "CDCQuery" in item:
        cdc = item["CDCQuery"] if isinstance(item["CDCQuery"], dict) else {}
        with store.locked(realm_id) as realm:
            found = run_cdc(realm, cdc.get("Entities"), cdc.get("ChangedSince"), clock.now())
            return {"CDCResponse": found}
    names = [key for key in item if key in _ENTITY_KEYS]
    if len(names) != 1 or not isinstance(item[names[0]], dict):
        raise faults.invalid_request("A batch item needs exactly one entity object, or a Query")
    entity = _ENTITY_KEYS[names[0]]
    body: dict[str, Any] = item[entity]
    operation = str(item.get("operation", "")).lower()
    operations: dict[str, Callable[[], Record]] = {
        "create": lambda: store.create(realm_id, entity, body),
        "update": lambda: store.update(realm_id, entity, body),
        "delete": lambda: store.delete(realm_id, entity, body),
        "void": lambda: store.void(realm_id, entity, body),
        "send": lambda: store.send(realm_id, entity, str(body.get("Id", "")), None),
    }
    if operation not in operations:
        raise unsupported(f"Batch operation '{operation}' is not supported")
    return {entity: operations[operation]()}
