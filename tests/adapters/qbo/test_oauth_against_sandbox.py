"""OAuth against the sandbox's real OAuth server: connect, refresh rotation, serialized refreshes."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from adapters.qbo.oauth import InvalidGrantError, OAuthDeniedError
from adapters.qbo.oauth_state import OAuthStateError
from tests.adapters.qbo.conftest import REALM, TENANT


async def follow_consent(adapter, url: str) -> dict[str, str]:
    """What the user's browser does: open Intuit's page, get redirected back to our callback."""
    response = await adapter.http.get(url, follow_redirects=False)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(adapter.oauth.app.redirect_uri)
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


async def test_the_connect_flow_stores_tokens_encrypted_and_they_work(adapter):
    url = await adapter.oauth.authorization_url(TENANT)
    query = parse_qs(urlsplit(url).query)
    assert query["scope"] == ["com.intuit.quickbooks.accounting"]
    assert query["response_type"] == ["code"]

    callback = await follow_consent(adapter, url)
    tokens = await adapter.oauth.complete_connect(
        code=callback["code"], state=callback["state"], realm_id=callback["realmId"]
    )

    assert tokens.realm_id == REALM and tokens.tenant_id == TENANT
    assert await adapter.vault.load(TENANT, REALM) == tokens
    for path in adapter.data_dir.iterdir():
        raw = path.read_bytes()
        assert tokens.access_token.encode() not in raw
        assert tokens.refresh_token.encode() not in raw
    info = await adapter.client().company_info()
    assert info.CompanyName == "Sandbox Company_US_1"


async def test_a_callback_with_a_forged_or_replayed_state_is_refused_before_any_exchange(adapter):
    callback = await follow_consent(adapter, await adapter.oauth.authorization_url(TENANT))
    with pytest.raises(OAuthStateError):
        await adapter.oauth.complete_connect(
            code=callback["code"], state=callback["state"] + "x", realm_id=REALM
        )
    await adapter.oauth.complete_connect(
        code=callback["code"], state=callback["state"], realm_id=REALM
    )
    with pytest.raises(OAuthStateError, match="already used"):
        await adapter.oauth.complete_connect(
            code=callback["code"], state=callback["state"], realm_id=REALM
        )


async def test_a_user_who_declines_gets_a_clear_refusal(adapter):
    state = adapter.oauth._state.issue(TENANT)
    with pytest.raises(OAuthDeniedError, match="access_denied"):
        await adapter.oauth.complete_connect(
            code=None, state=state, realm_id=None, error="access_denied"
        )


async def test_refresh_persists_the_rotated_token_and_the_old_one_then_fails(adapter):
    before = await adapter.connect_directly()
    after = await adapter.oauth.refresh(TENANT, REALM, rejected_access_token=before.access_token)

    assert after.refresh_token != before.refresh_token
    assert await adapter.vault.load(TENANT, REALM) == after  # stored before it was returned
    await adapter.vault.save(before)  # pretend a stale copy of the old pair came back
    with pytest.raises(InvalidGrantError):
        await adapter.oauth.refresh(TENANT, REALM, rejected_access_token=before.access_token)


async def test_two_concurrent_401s_cause_exactly_one_refresh(adapter, sandbox):
    await adapter.connect_directly()
    client = adapter.client()
    await client.company_info()
    sandbox.control("POST", "/_sandbox/oauth/expire", params={"realm_id": REALM})

    results = await asyncio.gather(*(client.company_info() for _ in range(5)))

    assert {info.CompanyName for info in results} == {"Sandbox Company_US_1"}
    assert adapter.oauth.refresh_count == 1


async def test_an_access_token_past_its_stated_expiry_is_refreshed_before_the_call(adapter):
    tokens = await adapter.connect_directly()
    from tests.adapters.qbo.conftest import PAST

    await adapter.store(tokens, access_expires_at=PAST)
    await adapter.client().company_info()
    assert adapter.oauth.refresh_count == 1


async def test_disconnect_revokes_at_intuit_and_forgets_the_tokens(adapter):
    tokens = await adapter.connect_directly()
    await adapter.oauth.revoke(TENANT, REALM)
    assert await adapter.vault.load(TENANT, REALM) is None
    response = await adapter.http.get(
        f"{adapter.sandbox.base_url}/v3/company/{REALM}/companyinfo/{REALM}",
        headers={"Authorization": f"Bearer {tokens.access_token}", "Accept": "application/json"},
    )
    assert response.status_code == 401


async def test_the_token_endpoint_gets_http_basic_client_auth(adapter, sandbox):
    tokens = await adapter.connect_directly()
    endpoints = await adapter.oauth.endpoints()
    # Same request without Basic auth: the sandbox, like Intuit, refuses the client.
    response = await adapter.http.post(
        endpoints.token_endpoint,
        data={"grant_type": "refresh_token", "refresh_token": tokens.refresh_token},
    )
    assert response.status_code == 401
    assert isinstance(response, httpx.Response)
