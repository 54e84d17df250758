"""Production gateways for the executor, from configuration.

QBO: every tenant's client comes from one `QboConnector` (one httpx pool, one token vault, one
limiter per realm: every command of a realm draws on the same 10/s and 500/min budget).

CRM: each tenant acts with its own Pipeline api_key (`QBSYNC_CRM_API_KEYS`, `tenant=key,...`;
`QBSYNC_CRM_API_KEY` serves `QBSYNC_CRM_TENANT` when that tenant is not listed) and the one
app_key of our integration, against its own API root (`QBSYNC_CRM_BASE_URLS`, else
`QBSYNC_CRM_BASE_URL`). One `CrmConnector` per API root, sharing one httpx pool; clients are kept
per tenant, and keys share a limiter per key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from pydantic import SecretStr

from adapters.crm.client import CrmClient
from adapters.crm.connector import CrmConnector
from adapters.executor.ports import CrmGateways, CrmNotConfiguredError, QboGateways
from adapters.qbo.connector import QboConnector
from adapters.secrets import parse_pairs
from qbsync.config import Settings
from qbsync.logs import register_secret

Close = Callable[[], Awaitable[None]]


def qbo_gateways_from_connector(connector: QboConnector) -> QboGateways:
    return connector.client


def crm_api_keys(settings: Settings) -> dict[str, str]:
    """Tenant → the CRM api_key the executor acts with for it."""
    keys = parse_pairs(settings.crm_api_keys.get_secret_value()) if settings.crm_api_keys else {}
    if settings.crm_tenant and settings.crm_api_key is not None:
        keys.setdefault(settings.crm_tenant, settings.crm_api_key.get_secret_value())
    for key in keys.values():
        register_secret(key)
    return keys


def crm_base_urls(settings: Settings) -> dict[str, str]:
    return parse_pairs(settings.crm_base_urls)


class _CrmDirectory:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._keys = crm_api_keys(settings)
        self._urls = crm_base_urls(settings)
        self._http = httpx.AsyncClient(
            timeout=settings.crm_timeout_s,
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        )
        self._connectors: dict[str, CrmConnector] = {}
        self._clients: dict[str, CrmClient] = {}

    def __call__(self, tenant: str, /) -> CrmClient:
        client = self._clients.get(tenant)
        if client is not None:
            return client
        key = self._keys.get(tenant)
        if key is None or self._settings.crm_app_key is None:
            raise CrmNotConfiguredError(
                f"no Pipeline CRM api_key for tenant {tenant!r} (QBSYNC_CRM_API_KEYS) "
                "or no QBSYNC_CRM_APP_KEY"
            )
        url = self._urls.get(tenant, self._settings.crm_base_url)
        client = self._connector(url, key).client(key)
        self._clients[tenant] = client
        return client

    def _connector(self, url: str, key: str) -> CrmConnector:
        connector = self._connectors.get(url)
        if connector is None:
            # CrmConnector wants a default key; every client here names its tenant's key anyway.
            rooted = self._settings.model_copy(
                update={"crm_base_url": url, "crm_api_key": SecretStr(key)}
            )
            connector = self._connectors[url] = CrmConnector(rooted, http=self._http)
        return connector

    async def aclose(self) -> None:
        await self._http.aclose()


def crm_gateways_from_settings(settings: Settings) -> tuple[CrmGateways, Close]:
    """(tenant → CRM gateway, close). An unconfigured tenant raises CrmNotConfiguredError."""
    directory = _CrmDirectory(settings)
    return directory, directory.aclose
