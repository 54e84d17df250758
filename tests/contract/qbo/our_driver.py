"""The contract driver for our own adapter (adapters/qbo), wired as QboConnector would wire it."""

from __future__ import annotations

import os
import tempfile
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from adapters.qbo.client import QboClient
from adapters.qbo.errors import QboError
from adapters.qbo.models import BatchOperation
from adapters.qbo.oauth import OAuthApp, QboOAuth
from adapters.qbo.oauth_state import StateSigner
from adapters.qbo.throttle import LimiterRegistry, RateLimits
from adapters.qbo.tokens import TokenSet
from adapters.qbo.vault import SqliteTokenVault
from schemas.qbo import QboEntity
from schemas.requests import DocumentLine
from tests.contract.qbo.drivers import ContractFault
from tests.support.qbo_sandbox import RunningSandbox

TENANT = "contract"


def _json(entity: QboEntity) -> dict[str, Any]:
    return entity.model_dump(mode="json", exclude_none=True)


def _dotted(body: dict[str, Any], prefix: str = "") -> dict[str, str | None]:
    """{"PrimaryPhone": {"FreeFormNumber": "5"}} → {"PrimaryPhone.FreeFormNumber": "5"}."""
    flat: dict[str, str | None] = {}
    for key, value in body.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_dotted(value, f"{path}."))
        else:
            flat[path] = value
    return flat


class OurAdapterDriver:
    name = "ours"

    def __init__(self, sandbox: RunningSandbox) -> None:
        self._sandbox = sandbox
        self._client: QboClient | None = None

    async def _gateway(self) -> QboClient:
        # Built lazily on the test's own event loop (httpx clients are loop-bound).
        if self._client is None:
            config = self._sandbox.config
            key = os.urandom(32)
            vault = SqliteTokenVault.in_data_dir(
                Path(tempfile.mkdtemp(prefix="qbo-contract-")), key
            )
            http = httpx.AsyncClient(timeout=10)
            app = OAuthApp(
                client_id=config.client_id,
                client_secret=config.client_secret,
                redirect_uri=config.redirect_uris[0],
            )
            oauth = QboOAuth(app, self._sandbox.discovery_url, vault, StateSigner(key), http)
            access, refresh = self._sandbox.grant()
            await vault.save(
                TokenSet.from_token_response(
                    {
                        "access_token": access,
                        "refresh_token": refresh,
                        "expires_in": 3600,
                        "x_refresh_token_expires_in": 8_726_400,
                        "token_type": "bearer",
                    },
                    tenant_id=TENANT,
                    realm_id=self._sandbox.realm_id,
                    now=datetime.now(UTC),
                )
            )
            limits = LimiterRegistry(RateLimits(per_second=5000, per_minute=1_000_000))
            self._client = QboClient(
                self._sandbox.base_url,
                tenant_id=TENANT,
                realm_id=self._sandbox.realm_id,
                oauth=oauth,
                limiter=limits.for_realm(self._sandbox.realm_id),
                http=http,
            )
        return self._client

    @staticmethod
    def _request_id() -> str:
        return str(uuid.uuid4())

    async def _run(self, call: Any) -> Any:
        try:
            return await call
        except QboError as exc:
            raise ContractFault(exc.code, str(exc)) from exc

    async def create_customer(self, display_name: str, email: str | None = None) -> dict[str, Any]:
        client = await self._gateway()
        fields = {
            "DisplayName": display_name,
            **({"PrimaryEmailAddr.Address": email} if email else {}),
        }
        return _json(await self._run(client.create_customer(fields, self._request_id())))

    async def read_customer(self, customer_id: str) -> dict[str, Any]:
        client = await self._gateway()
        return _json(await self._run(client.get_customer(customer_id)))

    async def sparse_update_customer(
        self, customer_id: str, sync_token: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        client = await self._gateway()
        update = client.update_customer(customer_id, sync_token, _dotted(body), self._request_id())
        return _json(await self._run(update))

    async def query_all(self, select: str, page_size: int) -> list[dict[str, Any]]:
        # Our adapter always pages at QBO's maximum (1000); paging past 1000 rows is covered by
        # tests/adapters/qbo/test_gateway_against_sandbox.py with 1,205 customers.
        client = await self._gateway()
        try:
            return [_json(row) async for row in client.query(select)]
        except QboError as exc:
            raise ContractFault(exc.code, str(exc)) from exc

    async def changes_since(
        self, entities: list[str], since: datetime
    ) -> dict[str, list[dict[str, Any]]]:
        client = await self._gateway()
        changes = await self._run(client.cdc(entities, since))
        out: dict[str, list[dict[str, Any]]] = {entity: [] for entity in entities}
        for entity in changes.changed:
            out[type(entity).__name__.removeprefix("Qbo")].append(_json(entity))
        return out

    async def batch_create_customers(
        self, names: list[str]
    ) -> list[dict[str, Any] | ContractFault]:
        client = await self._gateway()
        operations = [BatchOperation("create", "Customer", {"DisplayName": n}) for n in names]
        outcomes = await self._run(client.batch(operations, self._request_id()))
        return [ContractFault(o.error.code) if o.error else _json(o.entity) for o in outcomes]

    async def create_item(self, name: str, unit_price: str) -> dict[str, Any]:
        # Items are not part of the engine's gateway; created through a batch, as the engine could.
        client = await self._gateway()
        body = {
            "Name": name,
            "Type": "Service",
            "UnitPrice": float(unit_price),
            "IncomeAccountRef": {"value": "79"},
        }
        [outcome] = await self._run(
            client.batch([BatchOperation("create", "Item", body)], self._request_id())
        )
        if outcome.error:
            raise ContractFault(outcome.error.code, str(outcome.error))
        return _json(outcome.entity)

    async def create_invoice(
        self, customer_id: str, item_id: str, qty: int, unit_price: str
    ) -> dict[str, Any]:
        client = await self._gateway()
        line = DocumentLine(item_id=item_id, quantity=Decimal(qty), unit_price=Decimal(unit_price))
        return _json(
            await self._run(client.create_invoice(customer_id, [line], self._request_id()))
        )

    async def send_invoice(self, invoice_id: str, send_to: str) -> dict[str, Any]:
        client = await self._gateway()
        return _json(
            await self._run(client.send("invoice", invoice_id, send_to, self._request_id()))
        )
