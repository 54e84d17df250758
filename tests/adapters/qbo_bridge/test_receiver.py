"""The webhook endpoint over HTTP: forged → 401 and nothing happens; valid → 200 now, work later."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from adapters.qbo_bridge.ports import StaticTenantDirectory
from adapters.qbo_bridge.receiver import WEBHOOK_PATH, WebhookReceiver
from adapters.qbo_bridge.relay import ChangeRelay
from schemas.deadletter import DeadLettered
from tests.adapters.qbo_bridge.fakes import FakeReader, RecordingPublisher, customer
from tests.adapters.qbo_bridge.test_signature_and_payloads import independent_signature

VERIFIER, REALM = "verifier-xyz", "9130357766900456"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PAYLOAD = json.dumps(
    {
        "eventNotifications": [
            {
                "realmId": REALM,
                "dataChangeEvent": {
                    "entities": [
                        {
                            "name": "Customer",
                            "id": "58",
                            "operation": "Update",
                            "lastUpdated": "2026-11-24T13:04:05-08:00",
                        }
                    ]
                },
            }
        ]
    }
).encode()


@pytest.fixture
def bridge():
    reader, publisher = FakeReader(), RecordingPublisher()
    reader.put(REALM, "Customer", customer("58", sync="2"))
    relay = ChangeRelay(reader, StaticTenantDirectory({REALM: "acme-co"}), publisher, lambda: NOW)
    receiver = WebhookReceiver(VERIFIER, relay, publisher, lambda: NOW)
    app = FastAPI()
    app.include_router(receiver.router)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bridge")
    return receiver, publisher, reader, client


async def test_a_forged_webhook_is_rejected_with_401_and_triggers_nothing(bridge):
    receiver, publisher, reader, client = bridge
    forged = independent_signature(PAYLOAD, "guessed-token")
    response = await client.post(
        WEBHOOK_PATH, content=PAYLOAD, headers={"intuit-signature": forged}
    )
    assert response.status_code == 401
    await receiver.drain()
    assert publisher.sent == [] and reader.reads == []


async def test_a_signed_webhook_is_acknowledged_at_once_and_relayed_afterwards(bridge):
    receiver, publisher, _reader, client = bridge
    response = await client.post(
        WEBHOOK_PATH,
        content=PAYLOAD,
        headers={"intuit-signature": independent_signature(PAYLOAD, VERIFIER)},
    )
    assert response.status_code == 200 and response.json()["accepted"] == 1
    assert publisher.sent == []  # nothing fetched on the request path
    await receiver.drain()
    assert [e.type for _t, e in publisher.sent] == ["qbsync.qbo.customer.changed.v1"]


async def test_a_signed_but_unreadable_payload_is_kept_as_a_dead_letter(bridge):
    _receiver, publisher, _reader, client = bridge
    body = b'{"eventNotifications": "oops"}'
    response = await client.post(
        WEBHOOK_PATH,
        content=body,
        headers={"intuit-signature": independent_signature(body, VERIFIER)},
    )
    assert response.status_code == 200
    [(_topic, letter)] = publisher.sent
    assert isinstance(letter, DeadLettered)
    assert letter.data.value_text == body.decode()
