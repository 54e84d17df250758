"""The bridge's EntityReader over our QBO gateway: batched reads by id, and CDC."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from adapters.qbo.ports import QboGateway
from schemas.qbo import QboEntity

# QBO name lists hide inactive records unless the query asks; a deactivated customer must be seen.
_NAME_LISTS = frozenset({"Customer", "Item"})
_ENTITIES = frozenset({"Customer", "Invoice", "Estimate", "Item"})
_IDS_PER_QUERY = 200  # keeps the SELECT well under QBO's URL/query length limits


def _json(entity: QboEntity) -> dict[str, Any]:
    return entity.model_dump(mode="json", exclude_none=True)


class GatewayEntityReader:
    def __init__(self, gateway_for_realm: Callable[[str], QboGateway]) -> None:
        self._gateway_for_realm = gateway_for_realm

    async def read_many(
        self, realm_id: str, entity: str, ids: Sequence[str]
    ) -> list[dict[str, Any]]:
        if entity not in _ENTITIES or not all(i.isdigit() for i in ids):
            # Ids arrive in webhooks; only digits may ever reach a query string.
            raise ValueError(f"refusing to query {entity} by ids {list(ids)[:5]}")
        gateway = self._gateway_for_realm(realm_id)
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), _IDS_PER_QUERY):
            chunk = ", ".join(f"'{i}'" for i in ids[start : start + _IDS_PER_QUERY])
            active = " AND Active IN (true, false)" if entity in _NAME_LISTS else ""
            select = f"SELECT * FROM {entity} WHERE Id IN ({chunk}){active} ORDERBY Id"  # noqa: S608 - digits only, checked above
            found += [_json(row) async for row in gateway.query(select)]
        return found

    async def changes_since(
        self, realm_id: str, entities: Sequence[str], since: datetime
    ) -> Mapping[str, list[dict[str, Any]]]:
        changes = await self._gateway_for_realm(realm_id).cdc(entities, since)
        out: dict[str, list[dict[str, Any]]] = {entity: [] for entity in entities}
        for entity in changes.changed:
            name = type(entity).__name__.removeprefix("Qbo")
            if name in out:
                out[name].append(_json(entity))
        for tombstone in changes.deleted:
            if tombstone.entity in out and tombstone.deleted_at is not None:
                out[tombstone.entity].append(
                    {
                        "Id": tombstone.id,
                        "domain": "QBO",
                        "status": "Deleted",
                        "MetaData": {"LastUpdatedTime": tombstone.deleted_at.isoformat()},
                    }
                )
        return out
