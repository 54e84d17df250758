"""A live QBO sandbox (uvicorn on a free loopback port) for the data-plane tests.

`qbo_sandbox` is one server per test session, connected through the real OAuth flow (authorize,
then the code exchange). `qbo` gives each test an empty company: it resets the realm first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sandbox.qbo.config import QboSandboxConfig
from sandbox.qbo.server import SandboxParts, create_app
from tests.support.servers import serving

REDIRECT_URI = "http://127.0.0.1:8700/v1/qbo/oauth/callback"


@dataclass(frozen=True)
class LiveSandbox:
    base_url: str
    config: QboSandboxConfig
    parts: SandboxParts
    realm_id: str
    access_token: str
    refresh_token: str


@dataclass
class Qbo:
    """An HTTP client for one company of the live sandbox, speaking JSON like QBO clients do."""

    sandbox: LiveSandbox
    http: httpx.Client

    @property
    def realm_id(self) -> str:
        return self.sandbox.realm_id

    def post(self, path: str, body: Any = None, **params: str) -> httpx.Response:
        params.setdefault("minorversion", "75")
        return self.http.post(self._url(path), json=body, params=params)

    def get(self, path: str, **params: str) -> httpx.Response:
        params.setdefault("minorversion", "75")
        return self.http.get(self._url(path), params=params)

    def query(self, text: str) -> httpx.Response:
        headers = {"Content-Type": "application/text"}
        return self.http.post(self._url("query"), content=text, headers=headers)

    def ok(self, response: httpx.Response) -> dict[str, Any]:
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "Fault" not in body, body
        return body

    def create(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = self.ok(self.post(entity.lower(), body))[entity]
        return record

    def customer(self, name: str, **fields: Any) -> dict[str, Any]:
        return self.create("Customer", {"DisplayName": name, **fields})

    def item(self, name: str = "Services", price: float = 100.0) -> dict[str, Any]:
        return self.create("Item", {"Name": name, "Type": "Service", "UnitPrice": price})

    def _url(self, path: str) -> str:
        return f"/v3/company/{self.realm_id}/{path}"


def fault_code(response: httpx.Response) -> str:
    code: str = response.json()["Fault"]["Error"][0]["code"]
    return code


def sales_line(item_id: str, qty: float = 1, price: float = 100.0) -> dict[str, Any]:
    return {
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": item_id}, "Qty": qty, "UnitPrice": price},
    }


def connect(base_url: str, config: QboSandboxConfig) -> tuple[str, str, str]:
    """(realm id, access token, refresh token) through Intuit's code flow."""
    with httpx.Client(base_url=base_url) as http:
        consent = http.get(
            "/connect/oauth2",
            params={
                "client_id": config.client_id,
                "response_type": "code",
                "scope": "com.intuit.quickbooks.accounting",
                "redirect_uri": REDIRECT_URI,
                "state": "test",
            },
        )
        redirect = parse_qs(urlsplit(consent.headers["location"]).query)
        tokens = http.post(
            "/oauth2/v1/tokens/bearer",
            data={
                "grant_type": "authorization_code",
                "code": redirect["code"][0],
                "redirect_uri": REDIRECT_URI,
            },
            auth=(config.client_id, config.client_secret),
        )
        tokens.raise_for_status()
        body = tokens.json()
        return redirect["realmId"][0], body["access_token"], body["refresh_token"]


@pytest.fixture(scope="session")
def qbo_sandbox() -> Iterator[LiveSandbox]:
    # Limits far above what the tests send: throttling has its own tests.
    config = QboSandboxConfig(
        rate_per_second=100_000,
        rate_per_minute=1_000_000,
        batch_requests_per_minute=100_000,
        webhook_urls=[],
    )
    app = create_app(config)
    with serving(app) as base_url:
        realm_id, access, refresh = connect(base_url, config)
        yield LiveSandbox(base_url, config, app.state.qbo, realm_id, access, refresh)


@pytest.fixture
def qbo(qbo_sandbox: LiveSandbox) -> Iterator[Qbo]:
    headers = {
        "Authorization": f"Bearer {qbo_sandbox.access_token}",
        "Accept": "application/json",
    }
    with httpx.Client(base_url=qbo_sandbox.base_url, headers=headers) as http:
        http.post(f"/_sandbox/realms/{qbo_sandbox.realm_id}/reset").raise_for_status()
        yield Qbo(qbo_sandbox, http)
