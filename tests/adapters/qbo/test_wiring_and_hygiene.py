"""Wiring from QBSYNC_* settings, and hygiene: no token in any log line, requestid limits, and
QBO's XML throttle answers understood."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from structlog.testing import capture_logs

from adapters.qbo.connector import QboConnector
from adapters.qbo.errors import ThrottledError
from adapters.qbo.secret_key import KEY_FILE_NAME
from adapters.qbo.tokens import TokenSet
from qbsync.config import Settings
from tests.adapters.qbo.conftest import REALM, TENANT, TEST_POLICY, make_adapter, start_sandbox


async def test_a_connector_built_from_settings_talks_to_qbo(sandbox, tmp_path):
    settings = Settings(
        data_dir=tmp_path,
        qbo_base_url=sandbox.base_url,
        qbo_discovery_url=sandbox.discovery_url,
        qbo_client_id=sandbox.config.client_id,
        qbo_client_secret=sandbox.config.client_secret,
    )
    connector = QboConnector(settings)
    try:
        from datetime import UTC, datetime

        body = sandbox.grant()
        await connector.vault.save(
            TokenSet.from_token_response(
                body, tenant_id=TENANT, realm_id=REALM, now=datetime.now(UTC)
            )
        )
        info = await connector.client(TENANT, REALM).company_info()
        assert info.CompanyName == "Sandbox Company_US_1"
        assert (tmp_path / KEY_FILE_NAME).exists()  # no QBSYNC_SECRET_KEY: a dev key was made
    finally:
        await connector.aclose()


def test_a_connector_without_app_credentials_says_what_to_set(tmp_path):
    with pytest.raises(ValueError, match="QBSYNC_QBO_CLIENT_ID"):
        QboConnector(Settings(data_dir=tmp_path))


async def test_no_log_line_ever_contains_a_token(adapter, sandbox):
    with capture_logs() as logs:
        tokens = await adapter.connect_directly()
        client = adapter.client()
        await client.company_info()
        sandbox.control("POST", "/_sandbox/oauth/expire", params={"realm_id": REALM})
        await client.company_info()  # 401 → refresh → retry
    refreshed = await adapter.vault.load(TENANT, REALM)
    assert refreshed is not None and refreshed.access_token != tokens.access_token
    text = repr(logs)
    assert any(entry["event"] == "qbo tokens refreshed" for entry in logs)
    for secret in (
        tokens.access_token,
        tokens.refresh_token,
        refreshed.access_token,
        refreshed.refresh_token,
        sandbox.config.client_secret,
    ):
        assert secret not in text


async def test_a_requestid_longer_than_qbo_accepts_is_refused_before_sending(adapter):
    await adapter.connect_directly()
    with pytest.raises(ValueError, match=r"1\.\.50 characters"):
        await adapter.client().create_customer({"DisplayName": "X"}, "x" * 51)


@pytest.fixture
def xml_throttling_sandbox():
    yield from start_sandbox(rate_per_second=1, throttle_fault_format="xml")


async def test_an_xml_429_from_qbo_is_understood_as_a_throttle(xml_throttling_sandbox, tmp_path):
    async with httpx.AsyncClient(timeout=10) as http:
        # Our limiter set far above the server's limit, so the server has to say no.
        adapter = make_adapter(xml_throttling_sandbox, tmp_path, http, per_second=1000)
        await adapter.connect_directly()
        client = adapter.client(policy=dataclasses.replace(TEST_POLICY, max_throttle_pauses=1))
        await client.company_info()
        with pytest.raises(ThrottledError) as caught:
            await client.company_info()
        assert (caught.value.status, caught.value.code) == (429, "3001")
        assert caught.value.fault_type == "SERVICE"
        assert client.transport.limiter.total_wait_s > 0  # it paused before giving up
