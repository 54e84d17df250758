"""Fixtures for adapter tests against the real QBO sandbox (a uvicorn server on a free port).

The sandbox's limits are scaled up so the suite is fast; the burst test starts its own sandbox
with limits it can measure against.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.qbo.client import QboClient
from adapters.qbo.oauth import OAuthApp, QboOAuth
from adapters.qbo.oauth_state import StateSigner
from adapters.qbo.throttle import LimiterRegistry, RateLimits
from adapters.qbo.tokens import TokenSet
from adapters.qbo.transport import RetryPolicy
from adapters.qbo.vault import SqliteTokenVault
from sandbox.qbo.config import QboSandboxConfig
from sandbox.qbo.server import create_app
from tests.support.servers import serving

REALM = "9130357766900456"  # user "admin" can connect only this one
OTHER_REALM = "9130357766900457"  # "accountant" can connect both
TENANT = "acme"
FAST_LIMITS = {
    "rate_per_second": 5000,
    "rate_per_minute": 1_000_000,
    "batch_requests_per_minute": 100_000,
}
# Retries as in production, but with delays short enough for tests.
TEST_POLICY = RetryPolicy(base_delay_s=0.01, max_delay_s=0.05, throttle_pause_s=0.05, timeout_s=5)


@dataclass
class Sandbox:
    base_url: str
    config: QboSandboxConfig
    app: Any

    @property
    def discovery_url(self) -> str:
        return f"{self.base_url}/.well-known/openid_configuration"

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        """A `/_sandbox` control call (sync: the sandbox runs in its own thread)."""
        response = httpx.request(method, f"{self.base_url}{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json()

    def grant(self, realm_id: str = REALM, username: str = "admin") -> dict[str, Any]:
        return self.control(
            "POST", "/_sandbox/oauth/grant", params={"realm_id": realm_id, "username": username}
        )

    def set_faults(self, **plan: Any) -> None:
        self.control("PUT", "/_sandbox/faults", json=plan)

    def throttled_count(self) -> int:
        return int(self.app.state.qbo.throttle.stats()["throttled"])


def start_sandbox(**overrides: Any) -> Iterator[Sandbox]:
    config = QboSandboxConfig(**{**FAST_LIMITS, **overrides})
    app = create_app(config)
    with serving(app) as base_url:
        yield Sandbox(base_url, config, app)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    yield from start_sandbox()


@pytest.fixture(autouse=True)
def no_faults_left_behind(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sandbox" in request.fixturenames:
        request.getfixturevalue("sandbox").control("POST", "/_sandbox/faults/reset")


@dataclass
class Adapter:
    """Our side: the parts a QboConnector would wire, pointed at the sandbox."""

    sandbox: Sandbox
    http: httpx.AsyncClient
    vault: SqliteTokenVault
    oauth: QboOAuth
    limiters: LimiterRegistry
    data_dir: Path

    def client(self, realm_id: str = REALM, tenant_id: str = TENANT, **kw: Any) -> QboClient:
        return QboClient(
            kw.pop("base_url", self.sandbox.base_url),
            tenant_id=tenant_id,
            realm_id=realm_id,
            oauth=self.oauth,
            limiter=self.limiters.for_realm(realm_id),
            http=self.http,
            policy=kw.pop("policy", TEST_POLICY),
            **kw,
        )

    async def connect_directly(
        self, realm_id: str = REALM, username: str = "admin", tenant_id: str = TENANT
    ) -> TokenSet:
        """Tokens through the sandbox's grant hook (no browser), stored as a real connect would."""
        body = self.sandbox.grant(realm_id, username)
        tokens = TokenSet.from_token_response(
            body, tenant_id=tenant_id, realm_id=realm_id, now=datetime.now(UTC)
        )
        await self.vault.save(tokens)
        return tokens

    async def store(self, tokens: TokenSet, **changes: Any) -> TokenSet:
        values = {**tokens.__dict__, **changes}
        changed = TokenSet(**values)
        await self.vault.save(changed)
        return changed


def make_adapter(
    sandbox: Sandbox, data_dir: Path, http: httpx.AsyncClient, **limits: Any
) -> Adapter:
    key = os.urandom(32)
    vault = SqliteTokenVault.in_data_dir(data_dir, key)
    app = OAuthApp(
        client_id=sandbox.config.client_id,
        client_secret=sandbox.config.client_secret,
        redirect_uri=sandbox.config.redirect_uris[0],
    )
    oauth = QboOAuth(app, sandbox.discovery_url, vault, StateSigner(key), http)
    registry = LimiterRegistry(
        RateLimits(**(limits or {"per_second": 5000, "per_minute": 1_000_000}))
    )
    return Adapter(sandbox, http, vault, oauth, registry, data_dir)


@pytest.fixture
async def adapter(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[Adapter]:
    async with httpx.AsyncClient(timeout=10) as http:
        yield make_adapter(sandbox, tmp_path, http)


def unique(prefix: str) -> str:
    return f"{prefix} {os.urandom(4).hex()}"


PAST = datetime.now(UTC) - timedelta(days=1)
