"""What the bridge needs from the outside: a QBO entity reader and a realm → tenant directory."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol


class EntityReader(Protocol):
    async def read_many(
        self, realm_id: str, entity: str, ids: Sequence[str]
    ) -> list[dict[str, Any]]:
        """The current JSON of these entities (inactive ones included); missing ids are absent."""

    async def changes_since(
        self, realm_id: str, entities: Sequence[str], since: datetime
    ) -> Mapping[str, list[dict[str, Any]]]:
        """CDC: per entity name, objects changed since `since` (tombstones have status Deleted)."""


class TenantDirectory(Protocol):
    def tenant_for_realm(self, realm_id: str) -> str | None: ...

    def realms(self) -> Sequence[str]: ...


class StaticTenantDirectory:
    """Realm → tenant from configuration (QBSYNC_QBO_REALM_TENANTS="realm=tenant,...").

    With customer sync, installations (issue 5) become the source of this mapping.
    """

    def __init__(self, mapping: Mapping[str, str]) -> None:
        self._mapping = dict(mapping)

    @classmethod
    def parse(cls, text: str) -> StaticTenantDirectory:
        pairs = (item.split("=", 1) for item in text.split(",") if item.strip())
        return cls({realm.strip(): tenant.strip() for realm, tenant in pairs})

    def tenant_for_realm(self, realm_id: str) -> str | None:
        return self._mapping.get(realm_id)

    def realms(self) -> Sequence[str]:
        return tuple(self._mapping)
