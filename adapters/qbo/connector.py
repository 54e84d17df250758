"""Wiring from configuration: one process-wide set of QBO parts, and a client per connection.

One httpx client (connection pooling), one vault, one OAuth (so refresh locks are shared), and
one limiter per realm (so every client of a realm draws on the same budget).
"""

from __future__ import annotations

import httpx

from adapters.qbo.client import QboClient
from adapters.qbo.oauth import OAuthApp, QboOAuth
from adapters.qbo.oauth_state import StateSigner
from adapters.qbo.secret_key import load_secret_key
from adapters.qbo.throttle import LimiterRegistry, RateLimits
from adapters.qbo.transport import RetryPolicy
from adapters.qbo.vault import SqliteTokenVault, TokenVault
from qbsync.config import Settings


class QboConnector:
    def __init__(
        self,
        settings: Settings,
        *,
        http: httpx.AsyncClient | None = None,
        vault: TokenVault | None = None,
    ) -> None:
        if not settings.qbo_client_id or settings.qbo_client_secret is None:
            raise ValueError("set QBSYNC_QBO_CLIENT_ID and QBSYNC_QBO_CLIENT_SECRET to use QBO")
        configured = settings.secret_key.get_secret_value() if settings.secret_key else None
        key = load_secret_key(configured, settings.data_dir)
        self.settings = settings
        self._owns_http = http is None
        self.http = http or httpx.AsyncClient(
            timeout=settings.qbo_timeout_s,
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        )
        self.vault: TokenVault = vault or SqliteTokenVault.in_data_dir(settings.data_dir, key)
        app = OAuthApp(
            client_id=settings.qbo_client_id,
            client_secret=settings.qbo_client_secret.get_secret_value(),
            redirect_uri=settings.qbo_redirect_uri,
        )
        self.oauth = QboOAuth(
            app, settings.qbo_discovery_url, self.vault, StateSigner(key), self.http
        )
        self.limiters = LimiterRegistry(
            RateLimits(
                per_second=settings.qbo_rate_per_second,
                per_minute=settings.qbo_rate_per_minute,
                batch_per_minute=settings.qbo_batch_per_minute,
            )
        )
        self.policy = RetryPolicy(
            max_attempts=settings.qbo_max_attempts,
            throttle_pause_s=settings.qbo_throttle_pause_s,
            timeout_s=settings.qbo_timeout_s,
        )

    def client(self, tenant_id: str, realm_id: str) -> QboClient:
        return QboClient(
            self.settings.qbo_base_url,
            tenant_id=tenant_id,
            realm_id=realm_id,
            oauth=self.oauth,
            limiter=self.limiters.for_realm(realm_id),
            http=self.http,
            policy=self.policy,
        )

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()
