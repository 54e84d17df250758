"""What the CRM bridge and poller need from the CRM: full records, recent changes, all ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Literal, Protocol

CrmModel = Literal["person", "company", "deal"]
CRM_MODELS: tuple[CrmModel, ...] = ("person", "company", "deal")


class CrmReader(Protocol):
    async def read(self, model: CrmModel, record_id: int) -> dict[str, Any] | None:
        """The full record as the CRM returns it, or None when it does not exist (any more)."""

    def modified_since(self, model: CrmModel, since: datetime) -> AsyncIterator[dict[str, Any]]:
        """Every record of `model` whose updated_at is at or after `since`."""

    async def all_ids(self, model: CrmModel) -> set[int]:
        """The ids of every record of `model` that exists now (for hard-delete detection)."""
