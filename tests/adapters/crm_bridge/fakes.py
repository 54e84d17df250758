"""A CRM reader over an in-memory dict of records (our own port, faked)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from schemas.common import parse_crm_timestamp


def person(
    id_: int, updated: str = "2026/11/24 16:02:11 -0500", created: str | None = None, **fields: Any
) -> dict[str, Any]:
    return {
        "id": id_,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "full_name": "Ada Lovelace",
        "email": f"ada{id_}@example.com",
        "phone": None,
        "type": "Contact",
        "created_at": created or "2026/11/01 09:00:00 -0400",
        "updated_at": updated,
        **fields,
    }


class FakeCrmReader:
    def __init__(self) -> None:
        self.records: dict[tuple[str, int], dict[str, Any]] = {}
        self.since_asked: list[tuple[str, datetime]] = []

    def put(self, model: str, record: dict[str, Any]) -> None:
        self.records[(model, record["id"])] = record

    def delete(self, model: str, record_id: int) -> None:
        del self.records[(model, record_id)]

    async def read(self, model: str, record_id: int) -> dict[str, Any] | None:
        return self.records.get((model, record_id))

    async def modified_since(self, model: str, since: datetime) -> AsyncIterator[dict[str, Any]]:
        self.since_asked.append((model, since))
        for (kind, _id), record in sorted(self.records.items()):
            if kind == model and parse_crm_timestamp(record["updated_at"]) >= since:
                yield record

    async def all_ids(self, model: str) -> set[int]:
        return {record_id for (kind, record_id) in self.records if kind == model}
