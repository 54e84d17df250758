"""`test_connection` against the sandbox: each failure has its own, clear reason."""

from __future__ import annotations

import dataclasses

from adapters.qbo import connection
from tests.adapters.qbo.conftest import OTHER_REALM, PAST, REALM

QUICK = dataclasses.replace(connection.CHECK_POLICY, throttle_pause_s=0.05, base_delay_s=0.01)


async def check(client):
    return await connection.test_connection(client, policy=QUICK)


async def test_a_working_connection_reports_ok_and_the_company_name(adapter):
    await adapter.connect_directly()
    result = await check(adapter.client())
    assert (result.ok, result.reason, result.company_name) == (True, "ok", "Sandbox Company_US_1")


async def test_an_expired_access_token_with_a_working_refresh_token_is_ok(adapter, sandbox):
    await adapter.connect_directly()
    sandbox.control("POST", "/_sandbox/oauth/expire", params={"realm_id": REALM})
    result = await check(adapter.client())
    assert result.reason == "ok"
    assert adapter.oauth.refresh_count == 1


async def test_a_revoked_connection_says_revoked(adapter, sandbox):
    await adapter.connect_directly()
    sandbox.control("POST", "/_sandbox/oauth/revoke", params={"realm_id": REALM})
    result = await check(adapter.client())
    assert (result.ok, result.reason) == (False, "revoked")


async def test_a_refresh_token_past_its_expiry_says_expired(adapter, sandbox):
    tokens = await adapter.connect_directly()
    await adapter.store(tokens, refresh_expires_at=PAST)
    for kind in ("access", "refresh"):
        sandbox.control(
            "POST", "/_sandbox/oauth/expire", params={"realm_id": REALM, "tokens": kind}
        )
    result = await check(adapter.client())
    assert result.reason == "expired"


async def test_tokens_of_another_company_say_wrong_realm(adapter):
    tokens = await adapter.connect_directly(REALM)
    await adapter.store(tokens, realm_id=OTHER_REALM)
    result = await check(adapter.client(OTHER_REALM))
    assert result.reason == "wrong_realm"
    assert OTHER_REALM in result.detail


async def test_persistent_429s_say_throttled(adapter, sandbox):
    await adapter.connect_directly()
    sandbox.set_faults(http_429=1.0)
    result = await check(adapter.client())
    assert result.reason == "throttled"


async def test_no_stored_tokens_say_not_connected(adapter):
    result = await check(adapter.client(tenant_id="nobody"))
    assert result.reason == "not_connected"


async def test_a_dead_host_says_unreachable(adapter):
    await adapter.connect_directly()
    result = await check(adapter.client(base_url="http://127.0.0.1:9"))  # nothing listens on 9
    assert result.reason == "unreachable"
