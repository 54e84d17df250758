"""The CRM bridge's reader over our CRM gateway (adapters/crm)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from adapters.crm.ports import CrmGateway
from adapters.crm_bridge.ports import CrmModel
from schemas.common import SnapshotModel


def _json(record: SnapshotModel) -> dict[str, Any]:
    # The full record, unknown keys included, as JSON values (timestamps in RFC 3339).
    return record.model_dump(mode="json")


class GatewayCrmReader:
    def __init__(self, gateway: CrmGateway) -> None:
        self._gateway = gateway

    async def read(self, model: CrmModel, record_id: int) -> dict[str, Any] | None:
        getter = {
            "person": self._gateway.get_person,
            "company": self._gateway.get_company,
            "deal": self._gateway.get_deal,
        }[model]
        record = await getter(record_id)
        return _json(record) if record is not None else None

    async def modified_since(
        self, model: CrmModel, since: datetime
    ) -> AsyncIterator[dict[str, Any]]:
        iterate = {
            "person": self._gateway.people_modified_since,
            "company": self._gateway.companies_modified_since,
            "deal": self._gateway.deals_modified_since,
        }[model]
        async for record in iterate(since):
            yield _json(record)

    async def all_ids(self, model: CrmModel) -> set[int]:
        ids = {
            "person": self._gateway.all_person_ids,
            "company": self._gateway.all_company_ids,
            "deal": self._gateway.all_deal_ids,
        }[model]
        return await ids()
