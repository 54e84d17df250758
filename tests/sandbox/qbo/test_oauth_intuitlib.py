"""Intuit's own OAuth client (intuitlib, from oauth-pythonclient) against the sandbox's OAuth server.

intuitlib reads every endpoint from the discovery document, so pointing `environment` at the
sandbox's discovery URL is all it takes. It is synchronous (requests); the server runs in a thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from sandbox.qbo.clock import SandboxClock
from sandbox.qbo.config import QboSandboxConfig
from sandbox.qbo.oauth import OAuthServer
from tests.support.servers import live_server

REDIRECT_URI = "http://localhost:8700/v1/qbo/oauth/callback"


@pytest.fixture
def served() -> Iterator[tuple[str, QboSandboxConfig]]:
    config = QboSandboxConfig()
    app = FastAPI()
    app.include_router(OAuthServer(config, SandboxClock()).router)
    with live_server(app) as base:
        yield base, config


def _client(base: str, config: QboSandboxConfig) -> AuthClient:
    return AuthClient(
        config.client_id,
        config.client_secret,
        REDIRECT_URI,
        environment=f"{base}/.well-known/openid_configuration",
    )


def _follow(url: str) -> dict[str, str]:
    """Play the browser: follow the authorize URL to the redirect and read its query."""
    response = httpx.get(url, follow_redirects=False)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_intuitlib_connects_refreshes_and_revokes(served: tuple[str, QboSandboxConfig]) -> None:
    client = _client(*served)
    callback = _follow(client.get_authorization_url([Scopes.ACCOUNTING]))
    assert callback["state"] == client.state_token

    client.get_bearer_token(callback["code"], realm_id=callback["realmId"])
    assert client.realm_id == "9130357766900456"
    assert client.expires_in == 3600 and client.access_token
    first_refresh_token = client.refresh_token

    client.refresh()
    assert client.refresh_token != first_refresh_token
    with pytest.raises(AuthClientError) as superseded:
        client.refresh(refresh_token=first_refresh_token)
    assert superseded.value.status_code == 400
    assert b"invalid_grant" in superseded.value.content

    assert client.revoke() is True
    with pytest.raises(AuthClientError):
        client.refresh()


def test_intuitlib_verifies_the_id_token_of_an_openid_grant(
    served: tuple[str, QboSandboxConfig],
) -> None:
    client = _client(*served)
    url = client.get_authorization_url([Scopes.ACCOUNTING, Scopes.OPENID, Scopes.EMAIL])
    callback = _follow(url)
    client.get_bearer_token(callback["code"], realm_id=callback["realmId"])
    # intuitlib sets id_token only after checking iss, aud, exp and the RS256 signature (JWKS).
    assert client.id_token is not None
    info = client.get_user_info().json()
    assert info["email"] == "admin@example.com"
