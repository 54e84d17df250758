"""A live Pipeline CRM sandbox (uvicorn on a free loopback port) for the CRM sandbox tests.

`crm_sandbox` is one server per test session, with the rate limit raised (its own tests start
their own server) and webhook delays scaled down 1000x. `crm` gives each test an empty account
(reset, faults and webhook settings back to defaults) and a client that signs every call with
the admin's api_key and the app_key. `receiver` is a webhook endpoint that records every POST.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from sandbox.crm.config import CrmSandboxConfig
from sandbox.crm.server import CrmParts, create_app
from tests.support.servers import live_server, serving
from tests.support.webhook_receiver import Receiver

FAST = {"rate_limit_per_second": 100_000, "time_scale": 0.001, "webhook_timeout_s": 2.0}


def fast_config(**overrides: Any) -> CrmSandboxConfig:
    return CrmSandboxConfig(**(FAST | overrides))


@dataclass
class Crm:
    """A client of the live sandbox: `api` speaks /api/v3 as a user, `control` /_sandbox."""

    base_url: str
    parts: CrmParts
    api: httpx.Client
    control: httpx.Client

    @property
    def config(self) -> CrmSandboxConfig:
        return self.parts.config

    def as_user(self, api_key: str) -> httpx.Client:
        params = {"api_key": api_key, "app_key": self.config.app_key}
        return httpx.Client(base_url=f"{self.base_url}/api/v3", params=params)

    def ok(self, response: httpx.Response) -> Any:
        assert response.status_code == 200, (response.status_code, response.text)
        return response.json()

    def create(self, collection: str, root: str, **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = self.ok(self.api.post(f"/{collection}.json", json={root: fields}))
        return body

    def person(self, **fields: Any) -> dict[str, Any]:
        fields.setdefault("full_name", "Test Person")
        return self.create("people", "person", **fields)

    def company(self, name: str, **fields: Any) -> dict[str, Any]:
        return self.create("companies", "company", name=name, **fields)

    def deal(self, name: str, **fields: Any) -> dict[str, Any]:
        return self.create("deals", "deal", name=name, **fields)

    def set_clock(self, iso: str) -> None:
        self.control.post("/clock/set", params={"at": iso}).raise_for_status()

    def basic_user(self, email: str = "basic@sandbox-crm.example.com") -> dict[str, Any]:
        body = {"first_name": "Basil", "last_name": "User", "email": email}
        user: dict[str, Any] = self.ok(self.control.post("/users", json=body))
        return user


def client_for(base_url: str, config: CrmSandboxConfig) -> httpx.Client:
    params = {"api_key": config.admin_api_key, "app_key": config.app_key}
    return httpx.Client(base_url=f"{base_url}/api/v3", params=params)


@pytest.fixture(scope="session")
def crm_sandbox() -> Iterator[tuple[str, CrmParts]]:
    app = create_app(fast_config())
    with serving(app) as base_url:
        yield base_url, app.state.crm


@pytest.fixture
def crm(crm_sandbox: tuple[str, CrmParts]) -> Iterator[Crm]:
    base_url, parts = crm_sandbox
    with (
        client_for(base_url, parts.config) as api,
        httpx.Client(base_url=f"{base_url}/_sandbox") as control,
    ):
        control.post("/reset").raise_for_status()
        control.post("/faults/reset").raise_for_status()
        defaults = {"paused": False, "drop_next": 0, "action_tense": "present"}
        defaults |= {"encoding": "json", "max_attempts": 3, "delay_s": 1.0}
        control.put("/webhooks", json=defaults).raise_for_status()
        control.delete("/webhooks/deliveries").raise_for_status()
        yield Crm(base_url, parts, api, control)


@pytest.fixture(scope="session")
def served_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    with live_server(receiver.app()) as base:
        receiver.base = base
        yield receiver


@pytest.fixture
def receiver(served_receiver: Receiver) -> Receiver:
    served_receiver.clear()
    return served_receiver
