"""A running QBO sandbox for tests, with a connected app and tokens for one realm."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from sandbox.qbo.config import QboSandboxConfig
from sandbox.qbo.server import create_app
from tests.support.servers import serving


@dataclass(frozen=True)
class RunningSandbox:
    base_url: str
    config: QboSandboxConfig
    realm_id: str
    access_token: str
    refresh_token: str

    @property
    def discovery_url(self) -> str:
        return f"{self.base_url}/.well-known/openid_configuration"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/v3"

    def grant(self, realm_id: str | None = None) -> tuple[str, str]:
        """A fresh (access, refresh) token pair through the sandbox's test hook."""
        response = httpx.post(
            f"{self.base_url}/_sandbox/oauth/grant",
            params={"realm_id": realm_id or self.realm_id, "username": "admin"},
        )
        response.raise_for_status()
        body = response.json()
        return body["access_token"], body["refresh_token"]


@contextlib.contextmanager
def running_sandbox(config: QboSandboxConfig | None = None) -> Iterator[RunningSandbox]:
    config = config or QboSandboxConfig()
    realm_id = config.realms[0].realm_id
    with serving(create_app(config)) as base_url:
        probe = RunningSandbox(base_url, config, realm_id, "", "")
        access, refresh = probe.grant()
        yield RunningSandbox(base_url, config, realm_id, access, refresh)


def fast_config(**overrides: object) -> QboSandboxConfig:
    """Limits raised so a contract suite is not throttled; everything else as QBO does it."""
    values: dict[str, object] = {
        "rate_per_second": 1000,
        "rate_per_minute": 100_000,
        "batch_requests_per_minute": 10_000,
    }
    values.update(overrides)
    return QboSandboxConfig(**values)  # type: ignore[arg-type]
