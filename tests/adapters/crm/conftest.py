"""Fixtures for CRM adapter tests against the real CRM sandbox (a uvicorn server on a free port).

The shared sandbox's rate limit is scaled up so the suite is fast; the rate-limit tests start
their own sandbox at Pipeline's 10 requests per second.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from adapters.crm.client import CrmClient
from adapters.crm.throttle import KeyLimiter, RateLimits
from adapters.crm.transport import RetryPolicy
from sandbox.crm.config import CrmSandboxConfig
from sandbox.crm.server import create_app
from tests.support.servers import serving

FAST = {"rate_limit_per_second": 5000}
# Retries as in production, with delays short enough for tests.
TEST_POLICY = RetryPolicy(base_delay_s=0.01, max_delay_s=0.05, timeout_s=5)


@dataclass
class Sandbox:
    base_url: str
    config: CrmSandboxConfig
    app: Any

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v3"

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        """A `/_sandbox` control call (sync: the sandbox runs in its own thread)."""
        response = httpx.request(method, f"{self.base_url}/_sandbox{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def set_faults(self, **plan: Any) -> None:
        self.control("PUT", "/faults", json=plan)

    def injected(self) -> dict[str, int]:
        return self.control("GET", "/faults")["injected"]

    def stats(self) -> dict[str, Any]:
        return self.control("GET", "/stats")

    def now(self) -> str:
        return self.control("GET", "/clock")["now"]


def start_sandbox(**overrides: Any) -> Iterator[Sandbox]:
    config = CrmSandboxConfig(**{**FAST, **overrides})
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
        request.getfixturevalue("sandbox").control("POST", "/faults/reset")


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


def make_client(
    sandbox: Sandbox,
    http: httpx.AsyncClient,
    *,
    api_key: str | None = None,
    limiter: KeyLimiter | None = None,
    policy: RetryPolicy = TEST_POLICY,
    base_url: str | None = None,
) -> CrmClient:
    return CrmClient(
        base_url or sandbox.api_url,
        api_key or sandbox.config.admin_api_key,
        sandbox.config.app_key,
        http=http,
        limiter=limiter or KeyLimiter(RateLimits(per_second=5000)),
        policy=policy,
    )


@pytest.fixture
def client(sandbox: Sandbox, http: httpx.AsyncClient) -> CrmClient:
    return make_client(sandbox, http)


def unique(prefix: str = "") -> str:
    return f"{prefix}{os.urandom(4).hex()}"
