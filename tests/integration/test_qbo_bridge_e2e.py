"""The QBO webhook bridge end to end: sandbox webhooks → bridge (HTTP) → Kafka, on a real broker.

Also: a change whose webhook is lost reaches the topic through the scheduled CDC sweep, and a
webhook with a forged signature is refused.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from adapters.http_api import build_api
from adapters.qbo.tokens import TokenSet
from adapters.qbo.vault import SqliteTokenVault
from qbsync.config import Settings
from tests.support.kafka import collect
from tests.support.qbo_sandbox import RunningSandbox, fast_config, running_sandbox
from tests.support.servers import serving

pytestmark = pytest.mark.broker
TOPIC = "qbsync.qbo.changes.v1"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox(fast_config(webhook_batch_window_s=0.1)) as running:
        yield running


@pytest.fixture(scope="module")
def bridge(sandbox: RunningSandbox, kafka_bootstrap: str, tmp_path_factory) -> Iterator[dict]:
    data_dir: Path = tmp_path_factory.mktemp("bridge")
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    key = os.urandom(32)
    settings = Settings(
        data_dir=data_dir,
        secret_key=base64.urlsafe_b64encode(key).decode(),
        qbo_base_url=sandbox.base_url,
        qbo_discovery_url=sandbox.discovery_url,
        qbo_client_id=sandbox.config.client_id,
        qbo_client_secret=sandbox.config.client_secret,
        qbo_webhook_verifier_token=sandbox.config.webhook_verifier_token,
        qbo_realm_tenants=f"{sandbox.realm_id}={tenant}",
        qbo_cdc_interval_s=1.0,
    )
    # The realm is connected: its tokens are in the bridge's vault, as a connect would leave them.
    access, refresh = sandbox.grant()
    vault = SqliteTokenVault.in_data_dir(data_dir, key)
    tokens = TokenSet.from_token_response(
        {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": 3600,
            "x_refresh_token_expires_in": 8_726_400,
            "token_type": "bearer",
        },
        tenant_id=tenant,
        realm_id=sandbox.realm_id,
        now=datetime.now(UTC),
    )
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # not on pytest-asyncio's loop thread
        pool.submit(asyncio.run, vault.save(tokens)).result()
    with serving(build_api(settings, kafka_bootstrap)) as url:
        webhook = f"{url}/v1/qbo/webhooks"
        httpx.put(
            f"{sandbox.base_url}/_sandbox/webhooks", json={"urls": [webhook]}
        ).raise_for_status()
        yield {"url": url, "webhook": webhook, "tenant": tenant}


def _api(sandbox: RunningSandbox, method: str, path: str, **kwargs) -> dict:
    response = httpx.request(
        method,
        f"{sandbox.api_base}/company/{sandbox.realm_id}/{path}",
        headers={"Authorization": f"Bearer {sandbox.access_token}", "Accept": "application/json"},
        params={"minorversion": 75},
        **kwargs,
    )
    response.raise_for_status()
    return response.json()


def _customer_events(tenant: str, customer_id: str):
    def matching(records):
        return [
            r
            for (_t, key, r) in records
            if key == tenant.encode() and r["subject"] == f"qbo/customer/{customer_id}"
        ]

    return matching


async def test_a_qbo_change_reaches_the_topic_through_the_signed_webhook(
    sandbox, bridge, kafka_bootstrap
):
    created = _api(
        sandbox, "POST", "customer", json={"DisplayName": f"Webhook {uuid.uuid4().hex[:6]}"}
    )
    customer_id = created["Customer"]["Id"]
    mine = _customer_events(bridge["tenant"], customer_id)
    records = await collect(kafka_bootstrap, [TOPIC], lambda rs: len(mine(rs)) >= 1, timeout=30)
    event = mine(records)[0]
    assert event["type"] == "qbsync.qbo.customer.changed.v1"
    assert event["data"]["op"] == "created"
    assert event["data"]["entity"]["SyncToken"] == "0"
    deliveries = httpx.get(f"{sandbox.base_url}/_sandbox/webhooks/deliveries").json()
    assert any(d.get("status") == 200 for d in deliveries["deliveries"]), deliveries


async def test_a_change_whose_webhook_was_lost_is_healed_by_the_cdc_sweep(
    sandbox, bridge, kafka_bootstrap
):
    created = _api(
        sandbox, "POST", "customer", json={"DisplayName": f"Lost {uuid.uuid4().hex[:6]}"}
    )["Customer"]
    mine = _customer_events(bridge["tenant"], created["Id"])
    await collect(kafka_bootstrap, [TOPIC], lambda rs: len(mine(rs)) >= 1, timeout=30)

    httpx.put(f"{sandbox.base_url}/_sandbox/webhooks", json={"drop_next": 1}).raise_for_status()
    _api(
        sandbox,
        "POST",
        "customer",
        json={"Id": created["Id"], "SyncToken": "0", "sparse": True, "CompanyName": "Healed Ltd"},
    )
    records = await collect(
        kafka_bootstrap,
        [TOPIC],
        lambda rs: any(r["data"]["entity"]["SyncToken"] == "1" for r in mine(rs)),
        timeout=30,
    )
    healed = next(r for r in mine(records) if r["data"]["entity"]["SyncToken"] == "1")
    assert healed["data"]["entity"]["CompanyName"] == "Healed Ltd"
    assert httpx.get(f"{sandbox.base_url}/_sandbox/webhooks").json()["counts"]["dropped"] >= 1


async def test_a_webhook_with_a_forged_signature_is_refused(sandbox, bridge):
    body = json.dumps(
        [
            {
                "specversion": "1.0",
                "id": "forged-1",
                "source": "intuit.x",
                "type": "qbo.customer.updated.v1",
                "time": "2026-11-25T10:00:00Z",
                "intuitentityid": "1",
                "intuitaccountid": sandbox.realm_id,
            }
        ]
    ).encode()
    async with httpx.AsyncClient() as client:
        response = await client.post(
            bridge["webhook"],
            content=body,
            headers={"intuit-signature": "Zm9yZ2Vk", "Content-Type": "application/json"},
        )
    assert response.status_code == 401
