"""The sandbox's OAuth server over real HTTP: authorize, code exchange, rotation, revoke, API auth."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from sandbox.qbo.clock import SandboxClock
from sandbox.qbo.config import QboSandboxConfig
from sandbox.qbo.oauth import OAuthServer
from tests.support.servers import live_server

REALM_1, REALM_2 = "9130357766900456", "9130357766900457"
CALLBACK = "http://127.0.0.1:8700/v1/qbo/oauth/callback"
ACCOUNTING = "com.intuit.quickbooks.accounting"


@dataclass
class Sandbox:
    base: str
    http: httpx.Client
    oauth: OAuthServer
    config: QboSandboxConfig
    clock: SandboxClock

    def authorize(self, **params: str) -> httpx.Response:
        query = {
            "client_id": self.config.client_id,
            "response_type": "code",
            "scope": ACCOUNTING,
            "redirect_uri": CALLBACK,
            "state": "st4te",
            **params,
        }
        return self.http.get("/connect/oauth2", params=query)

    def code_for(self, **params: str) -> tuple[str, str]:
        location = self.authorize(**params).headers["location"]
        query = parse_qs(urlsplit(location).query)
        return query["code"][0], query["realmId"][0]

    def token(self, auth: tuple[str, str] | None = None, **form: str) -> httpx.Response:
        credentials = auth or (self.config.client_id, self.config.client_secret)
        return self.http.post("/oauth2/v1/tokens/bearer", data=form, auth=credentials)

    def exchange(self, code: str, redirect_uri: str = CALLBACK) -> httpx.Response:
        return self.token(grant_type="authorization_code", code=code, redirect_uri=redirect_uri)

    def refresh(self, refresh_token: str) -> httpx.Response:
        return self.token(grant_type="refresh_token", refresh_token=refresh_token)

    def api(self, access_token: str | None, realm_id: str = REALM_1) -> httpx.Response:
        headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
        return self.http.get(f"/v3/company/{realm_id}/companyinfo/{realm_id}", headers=headers)


def _app(oauth: OAuthServer) -> FastAPI:
    """OAuth routes plus one protected v3 route standing in for the data plane."""
    app = FastAPI()
    app.include_router(oauth.router)

    @app.get("/v3/company/{realm_id}/companyinfo/{company}")
    def company_info(realm_id: str, request: Request) -> Response:
        refused = oauth.authenticate(request.headers.get("authorization"), realm_id)
        return refused or JSONResponse({"CompanyInfo": {"Id": "1"}})

    return app


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    config, clock = QboSandboxConfig(), SandboxClock()
    oauth = OAuthServer(config, clock)
    with live_server(_app(oauth)) as base, httpx.Client(base_url=base) as http:
        yield Sandbox(base, http, oauth, config, clock)


def _query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


# -- discovery -----------------------------------------------------------------------------
def test_discovery_document_points_at_the_host_the_client_used(sandbox: Sandbox) -> None:
    for path in (
        "/.well-known/openid_configuration",
        "/.well-known/openid_sandbox_configuration/",
    ):
        doc = sandbox.http.get(path).json()
        assert doc["authorization_endpoint"] == f"{sandbox.base}/connect/oauth2"
        assert doc["token_endpoint"] == f"{sandbox.base}/oauth2/v1/tokens/bearer"
        assert doc["revocation_endpoint"] == f"{sandbox.base}/v2/oauth2/tokens/revoke"
        assert doc["userinfo_endpoint"] == f"{sandbox.base}/v1/openid_connect/userinfo"
        assert doc["issuer"] == f"{sandbox.base}/op/v1"
        assert sandbox.http.get(doc["jwks_uri"]).json()["keys"][0]["alg"] == "RS256"
        assert doc["token_endpoint_auth_methods_supported"] == [
            "client_secret_post",
            "client_secret_basic",
        ]


# -- authorize -----------------------------------------------------------------------------
def test_single_company_user_is_sent_straight_back_with_code_state_and_realm(
    sandbox: Sandbox,
) -> None:
    query = _query(sandbox.authorize())
    assert query["state"] == "st4te" and query["realmId"] == REALM_1 and query["code"]


def test_user_of_several_companies_picks_one_on_the_company_page(sandbox: Sandbox) -> None:
    page = sandbox.authorize(login_hint="accountant")
    assert page.status_code == 200 and "Sandbox Company_US_2" in page.text
    link = next(
        line.split('href="')[1].split('"')[0].replace("&amp;", "&")
        for line in page.text.replace("<li>", "\n").splitlines()
        if f'data-realm-id="{REALM_2}"' in line
    )
    query = _query(sandbox.http.get(link))
    assert query["realmId"] == REALM_2 and query["state"] == "st4te"
    tokens = sandbox.exchange(query["code"]).json()
    assert sandbox.api(tokens["access_token"], REALM_2).status_code == 200
    assert sandbox.http.get(link).status_code == 400  # the consent link works once


def test_cancelling_on_the_company_page_redirects_with_access_denied(sandbox: Sandbox) -> None:
    page = sandbox.authorize(username="accountant")
    cancel = page.text.split('class="cancel" href="')[1].split('"')[0].replace("&amp;", "&")
    query = _query(sandbox.http.get(cancel))
    assert query["error"] == "access_denied" and query["state"] == "st4te"


def test_unknown_client_or_unregistered_redirect_gets_an_error_page_not_a_redirect(
    sandbox: Sandbox,
) -> None:
    assert sandbox.authorize(client_id="someone-else").status_code == 400
    assert sandbox.authorize(redirect_uri="https://evil.example/cb").status_code == 400
    sandbox.config.allow_loopback_redirects = False
    assert sandbox.authorize(redirect_uri="http://127.0.0.1:9/cb").status_code == 400
    assert _query(sandbox.authorize(redirect_uri=CALLBACK))["code"]


def test_loopback_redirect_uris_on_any_port_are_accepted_by_default(sandbox: Sandbox) -> None:
    response = sandbox.authorize(redirect_uri="http://localhost:54321/cb?keep=1")
    assert response.headers["location"].startswith("http://localhost:54321/cb?keep=1&code=")


def test_a_scope_without_accounting_is_refused_with_invalid_scope(sandbox: Sandbox) -> None:
    query = _query(sandbox.authorize(scope="openid email"))
    assert query["error"] == "invalid_scope" and query["state"] == "st4te"
    assert _query(sandbox.authorize(response_type="token"))["error"] == "unsupported_response_type"
    assert _query(sandbox.authorize(login_hint="nobody"))["error"] == "access_denied"


# -- token endpoint ------------------------------------------------------------------------
def test_code_exchange_answers_intuits_token_shape(sandbox: Sandbox) -> None:
    code, _ = sandbox.code_for()
    response = sandbox.exchange(code)
    body = response.json()
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    assert set(body) == {
        "access_token",
        "refresh_token",
        "token_type",
        "expires_in",
        "x_refresh_token_expires_in",
    }
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["x_refresh_token_expires_in"] == sandbox.config.refresh_token_ttl_s
    assert len(body["access_token"]) > 800 and body["refresh_token"].startswith("AB11")
    assert sandbox.api(body["access_token"]).status_code == 200


def test_a_code_works_once(sandbox: Sandbox) -> None:
    code, _ = sandbox.code_for()
    assert sandbox.exchange(code).status_code == 200
    again = sandbox.exchange(code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_a_code_is_bound_to_its_redirect_uri_and_expires(sandbox: Sandbox) -> None:
    code, _ = sandbox.code_for()
    assert sandbox.exchange(code, "http://localhost:8700/v1/qbo/oauth/callback").status_code == 400
    code, _ = sandbox.code_for()
    sandbox.clock.advance(sandbox.config.authorization_code_ttl_s + 1)
    assert sandbox.exchange(code).json()["error"] == "invalid_grant"


def test_refresh_rotates_and_the_superseded_refresh_token_is_invalid_grant(
    sandbox: Sandbox,
) -> None:
    first = sandbox.exchange(sandbox.code_for()[0]).json()
    second = sandbox.refresh(first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    stale = sandbox.refresh(first["refresh_token"])
    assert stale.status_code == 400
    assert stale.json() == {
        "error_description": "Incorrect or invalid refresh token",
        "error": "invalid_grant",
    }
    assert sandbox.refresh(second["refresh_token"]).status_code == 200
    assert sandbox.refresh("AB11-never-issued").json()["error"] == "invalid_grant"


def test_bad_client_credentials_get_401_invalid_client(sandbox: Sandbox) -> None:
    code, _ = sandbox.code_for()
    wrong = sandbox.token(
        auth=(sandbox.config.client_id, "wrong"),
        grant_type="authorization_code",
        code=code,
        redirect_uri=CALLBACK,
    )
    assert wrong.status_code == 401 and wrong.json() == {"error": "invalid_client"}
    posted = sandbox.http.post(  # client_secret_post is accepted too
        "/oauth2/v1/tokens/bearer",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": sandbox.config.client_id,
            "client_secret": sandbox.config.client_secret,
        },
    )
    assert posted.status_code == 200
    assert sandbox.token(grant_type="password").json()["error"] == "unsupported_grant_type"


def test_refresh_token_hard_expiry_is_reported_on_request(sandbox: Sandbox) -> None:
    tokens = sandbox.exchange(sandbox.code_for()[0]).json()
    response = sandbox.http.post(
        "/oauth2/v1/tokens/bearer",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(sandbox.config.client_id, sandbox.config.client_secret),
        headers={"x-include-refresh-token-hard-expires-in": "true"},
    )
    hard = response.json()["x_refresh_token_hard_expires_in"]
    assert sandbox.config.refresh_token_max_lifetime_s - 5 <= hard
    assert hard <= sandbox.config.refresh_token_max_lifetime_s


# -- revoke --------------------------------------------------------------------------------
def test_revoking_either_token_ends_the_whole_grant(sandbox: Sandbox) -> None:
    tokens = sandbox.exchange(sandbox.code_for()[0]).json()
    revoked = sandbox.http.post(
        "/v2/oauth2/tokens/revoke",
        json={"token": tokens["refresh_token"]},
        auth=(sandbox.config.client_id, sandbox.config.client_secret),
    )
    assert revoked.status_code == 200
    api = sandbox.api(tokens["access_token"])
    assert api.status_code == 401 and api.json()["fault"]["error"][0]["detail"] == "Token revoked"
    assert sandbox.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"
    unauthenticated = sandbox.http.post("/v2/oauth2/tokens/revoke", json={"token": "x"})
    assert unauthenticated.status_code == 401


# -- API authentication ----------------------------------------------------------------------
def test_an_expired_access_token_gets_qbos_lower_case_401_and_a_refresh_fixes_it(
    sandbox: Sandbox,
) -> None:
    tokens = sandbox.exchange(sandbox.code_for()[0]).json()
    sandbox.clock.advance(3601)
    response = sandbox.api(tokens["access_token"])
    assert response.status_code == 401
    error = response.json()["fault"]["error"][0]
    assert error["code"] == "3200" and error["detail"].startswith("Token expired: ")
    assert tokens["access_token"] not in response.text
    assert response.json()["fault"]["type"] == "AUTHENTICATION"
    fresh = sandbox.refresh(tokens["refresh_token"]).json()
    assert sandbox.api(fresh["access_token"]).status_code == 200


def test_a_token_for_another_company_gets_403(sandbox: Sandbox) -> None:
    tokens = sandbox.exchange(sandbox.code_for()[0]).json()
    response = sandbox.api(tokens["access_token"], REALM_2)
    assert response.status_code == 403
    assert response.json()["Fault"]["type"] == "AuthorizationFault"


def test_a_missing_or_unknown_token_gets_401(sandbox: Sandbox) -> None:
    assert sandbox.api(None).status_code == 401
    unknown = sandbox.api("eyJnot-a-token")
    assert unknown.status_code == 401
    assert unknown.json()["fault"]["error"][0]["detail"] == "invalid token"


# -- test hooks ----------------------------------------------------------------------------
def test_grant_hook_issues_tokens_without_the_browser(sandbox: Sandbox) -> None:
    response = sandbox.http.post(
        "/_sandbox/oauth/grant", params={"realm_id": REALM_2, "username": "accountant"}
    )
    tokens = response.json()
    assert tokens["realmId"] == REALM_2
    assert sandbox.api(tokens["access_token"], REALM_2).status_code == 200
    refused = sandbox.http.post(
        "/_sandbox/oauth/grant", params={"realm_id": REALM_2, "username": "admin"}
    )
    assert refused.status_code == 400


def test_expire_hook_forces_the_401_then_refresh_path(sandbox: Sandbox) -> None:
    tokens = sandbox.http.post("/_sandbox/oauth/grant", params={"realm_id": REALM_1}).json()
    expired = sandbox.http.post("/_sandbox/oauth/expire", params={"realm_id": REALM_1})
    assert expired.json()["expired"] == 1
    assert sandbox.api(tokens["access_token"]).status_code == 401
    fresh = sandbox.refresh(tokens["refresh_token"]).json()
    assert sandbox.api(fresh["access_token"]).status_code == 200
    sandbox.http.post("/_sandbox/oauth/expire", params={"realm_id": REALM_1, "tokens": "refresh"})
    assert sandbox.refresh(fresh["refresh_token"]).json()["error"] == "invalid_grant"


def test_revoke_hook_disconnects_the_company(sandbox: Sandbox) -> None:
    tokens = sandbox.http.post("/_sandbox/oauth/grant", params={"realm_id": REALM_1}).json()
    assert sandbox.http.post("/_sandbox/oauth/revoke", params={"realm_id": REALM_1}).json() == {
        "realm_id": REALM_1,
        "revoked": 1,
    }
    assert sandbox.api(tokens["access_token"]).status_code == 401
    stats = sandbox.http.get("/_sandbox/oauth/stats").json()
    assert stats["live_grants"] == 0 and tokens["access_token"] not in str(stats)


def test_userinfo_needs_the_openid_scope(sandbox: Sandbox) -> None:
    plain = sandbox.http.post("/_sandbox/oauth/grant", params={"realm_id": REALM_1}).json()
    headers = {"Authorization": f"Bearer {plain['access_token']}"}
    assert sandbox.http.get("/v1/openid_connect/userinfo", headers=headers).status_code == 403
    code, _ = sandbox.code_for(scope=f"{ACCOUNTING} openid email")
    openid = sandbox.exchange(code).json()
    headers = {"Authorization": f"Bearer {openid['access_token']}"}
    info = sandbox.http.get("/v1/openid_connect/userinfo", headers=headers).json()
    assert info["email"] == "admin@example.com" and info["sub"]
