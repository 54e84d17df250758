"""Wiring from configuration: one httpx client and one limiter per api key for the process.

Every client of one api key draws on the same limiter, so together they stay under the CRM's
10 requests per second for that key.
"""

from __future__ import annotations

import httpx

from adapters.crm.client import CrmClient
from adapters.crm.throttle import LimiterRegistry, RateLimits
from adapters.crm.transport import RetryPolicy
from qbsync.config import Settings
from qbsync.logs import register_secret


class CrmConnector:
    def __init__(self, settings: Settings, *, http: httpx.AsyncClient | None = None) -> None:
        if settings.crm_api_key is None or settings.crm_app_key is None:
            raise ValueError("set QBSYNC_CRM_API_KEY and QBSYNC_CRM_APP_KEY to use Pipeline CRM")
        self.settings = settings
        self._api_key = settings.crm_api_key.get_secret_value()
        self._app_key = settings.crm_app_key.get_secret_value()
        register_secret(self._api_key)
        register_secret(self._app_key)
        self._owns_http = http is None
        self.http = http or httpx.AsyncClient(
            timeout=settings.crm_timeout_s,
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        )
        self.limiters = LimiterRegistry(RateLimits(per_second=settings.crm_rate_per_second))
        self.policy = RetryPolicy(
            max_attempts=settings.crm_max_attempts, timeout_s=settings.crm_timeout_s
        )

    def client(self, api_key: str | None = None, app_key: str | None = None) -> CrmClient:
        """A client for the configured key, or for another installation's key pair."""
        key = api_key or self._api_key
        return CrmClient(
            self.settings.crm_base_url,
            key,
            app_key or self._app_key,
            http=self.http,
            limiter=self.limiters.for_key(key),
            policy=self.policy,
        )

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()
