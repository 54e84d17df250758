"""Production wiring: per-tenant CRM keys and API roots from Settings, QBO clients from a
QboConnector; checked by running commands through them against the sandboxes."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime

import pytest

from adapters.executor import (
    CommandRunner,
    CrmNotConfiguredError,
    crm_gateways_from_settings,
    qbo_gateways_from_connector,
)
from adapters.qbo.connector import QboConnector
from adapters.qbo.tokens import TokenSet
from qbsync.config import Settings
from qbsync.logs import REDACTED, redact_text
from schemas.outcomes import CommandFailed, CommandSucceeded
from tests.adapters.crm.conftest import unique
from tests.adapters.executor import builders
from tests.adapters.executor.builders import NOW, TENANT
from tests.adapters.qbo.conftest import REALM

NOWHERE = "http://127.0.0.1:9/api/v3"  # a default root no test may reach


def crm_settings(crm_sandbox, **changes) -> Settings:
    values = {
        "crm_base_url": NOWHERE,
        "crm_app_key": crm_sandbox.config.app_key,
        "crm_api_keys": f"{TENANT}={crm_sandbox.config.admin_api_key},other-co=otherKey12345",
        "crm_base_urls": f"{TENANT}={crm_sandbox.api_url}",
        "crm_timeout_s": 5,
        **changes,
    }
    return Settings(**values)


async def test_each_tenant_acts_with_its_own_key_against_its_own_api_root(crm_sandbox):
    crm_for, aclose = crm_gateways_from_settings(crm_settings(crm_sandbox))
    try:
        profile = await crm_for(TENANT).profile()
        assert profile.is_admin
        assert crm_for(TENANT) is crm_for(TENANT)  # one client (and limiter) per tenant
        with pytest.raises(CrmNotConfiguredError):
            crm_for("nobody")
        assert redact_text("key otherKey12345 leaked") == f"key {REDACTED} leaked"
    finally:
        await aclose()


async def test_the_single_configured_key_serves_its_tenant_when_no_list_names_it(crm_sandbox):
    settings = crm_settings(
        crm_sandbox,
        crm_api_keys=None,
        crm_api_key=crm_sandbox.config.admin_api_key,
        crm_tenant=TENANT,
        crm_base_urls="",
        crm_base_url=crm_sandbox.api_url,
    )
    crm_for, aclose = crm_gateways_from_settings(settings)
    try:
        assert (await crm_for(TENANT).profile()).is_admin
        with pytest.raises(CrmNotConfiguredError):
            crm_for("other-co")
    finally:
        await aclose()


async def test_a_runner_on_the_production_wiring_creates_in_both_systems(
    crm_sandbox, qbo_sandbox, tmp_path
):
    secret = base64.urlsafe_b64encode(os.urandom(32)).decode()
    settings = crm_settings(
        crm_sandbox,
        data_dir=tmp_path,
        secret_key=secret,
        qbo_base_url=qbo_sandbox.base_url,
        qbo_discovery_url=qbo_sandbox.discovery_url,
        qbo_client_id=qbo_sandbox.config.client_id,
        qbo_client_secret=qbo_sandbox.config.client_secret,
    )
    connector = QboConnector(settings)
    body = qbo_sandbox.grant(REALM)
    await connector.vault.save(
        TokenSet.from_token_response(body, tenant_id=TENANT, realm_id=REALM, now=datetime.now(UTC))
    )
    crm_for, aclose = crm_gateways_from_settings(settings)
    runner = CommandRunner(qbo_gateways_from_connector(connector), crm_for, lambda: NOW)
    try:
        customer = await runner.run(
            builders.create_customer(REALM, 3, {"DisplayName": f"Wired {unique()}"})
        )
        person = await runner.run(builders.create_person({"full_name": f"Wired {unique()}"}))
        unkeyed = await runner.run(builders.update_person(1, {"phone": "1"}, tenant="nobody"))
    finally:
        await aclose()
        await connector.aclose()
    assert isinstance(customer, CommandSucceeded) and isinstance(person, CommandSucceeded)
    assert isinstance(unkeyed, CommandFailed) and unkeyed.data.code == "not_connected"
