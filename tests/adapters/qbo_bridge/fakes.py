"""In-memory stand-ins for the bridge's ports (our own Protocols, not mocks of a library)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tests.support.fakes import RecordingPublisher


def customer(
    id_: str,
    sync: str = "0",
    name: str = "Jane Smith",
    created: str | None = None,
    updated: str = "2026-11-24T13:04:05-08:00",
) -> dict[str, Any]:
    return {
        "Id": id_,
        "SyncToken": sync,
        "DisplayName": name,
        "domain": "QBO",
        "MetaData": {"CreateTime": created or updated, "LastUpdatedTime": updated},
    }


class FakeReader:
    def __init__(self) -> None:
        self.entities: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.cdc: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.reads: list[tuple[str, str, tuple[str, ...]]] = []
        self.cdc_calls: list[tuple[str, datetime]] = []

    def put(self, realm: str, entity: str, obj: dict[str, Any]) -> None:
        self.entities[(realm, entity, obj["Id"])] = obj

    async def read_many(self, realm_id: str, entity: str, ids: Sequence[str]) -> list[dict]:
        self.reads.append((realm_id, entity, tuple(ids)))
        return [
            self.entities[(realm_id, entity, i)]
            for i in ids
            if (realm_id, entity, i) in self.entities
        ]

    async def changes_since(
        self, realm_id: str, entities: Sequence[str], since: datetime
    ) -> Mapping[str, list[dict]]:
        self.cdc_calls.append((realm_id, since))
        return {e: v for e, v in self.cdc.get(realm_id, {}).items() if e in entities}


__all__ = ["FakeReader", "RecordingPublisher", "customer"]
