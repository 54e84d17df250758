"""CRM changes reach the topic through the webhook bridge and the poller, as the same events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from adapters.crm_bridge.poller import CrmPoller
from adapters.crm_bridge.webhooks import CrmWebhookReceiver
from adapters.secrets import TenantSecrets
from adapters.watermarks import SqliteKnownIds, SqliteWatermarks
from schemas.crm import CrmPersonChanged, CrmPersonDeleted
from tests.adapters.crm_bridge.fakes import FakeCrmReader, person
from tests.support.fakes import RecordingPublisher

TENANT, TOKEN = "acme-co", "hook-token-123456"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def hooks():
    reader, publisher = FakeCrmReader(), RecordingPublisher()
    receiver = CrmWebhookReceiver(
        TenantSecrets({TENANT: TOKEN}),
        lambda t: reader if t == TENANT else None,
        publisher,
        lambda: NOW,
    )
    app = FastAPI()
    app.include_router(receiver.router)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")
    return reader, publisher, receiver, client


def hook(model: str, action: str, record_id: int) -> dict:
    return {
        "trigger": f"qbsync {model}:{action}",
        "event_model": model,
        "event_action": action,
        "event_model_id": record_id,
    }


async def test_a_webhook_with_a_wrong_or_missing_token_is_refused(hooks):
    _reader, publisher, receiver, client = hooks
    for params in ({"token": "guess"}, {}):
        response = await client.post(
            f"/v1/crm/webhooks/{TENANT}", params=params, json=hook("person", "update", 1)
        )
        assert response.status_code == 401
    other = await client.post(
        "/v1/crm/webhooks/globex", params={"token": TOKEN}, json=hook("person", "update", 1)
    )
    assert other.status_code == 401
    await receiver.drain()
    assert publisher.sent == []


async def test_a_thin_webhook_is_answered_then_the_full_record_is_fetched_and_published(hooks):
    reader, publisher, receiver, client = hooks
    reader.put("person", person(7, phone="555-1234"))
    response = await client.post(
        f"/v1/crm/webhooks/{TENANT}", params={"token": TOKEN}, json=hook("person", "update", 7)
    )
    assert response.status_code == 200 and publisher.sent == []
    await receiver.drain()
    [(topic, event)] = publisher.sent
    assert topic == "qbsync.crm.changes.v1"
    assert isinstance(event, CrmPersonChanged)
    assert (event.tenant, event.subject, event.data.after.phone) == (
        TENANT,
        "crm/person/7",
        "555-1234",
    )


@pytest.mark.parametrize("encoding", ["json", "form"])
@pytest.mark.parametrize("action", ["destroy", "deleted"])
async def test_a_destroy_webhook_becomes_a_deletion_without_a_fetch(hooks, encoding, action):
    _reader, publisher, receiver, client = hooks
    payload = hook("person", action, 9)
    kwargs = {"json": payload} if encoding == "json" else {"data": payload}
    response = await client.post(f"/v1/crm/webhooks/{TENANT}", params={"token": TOKEN}, **kwargs)
    assert response.status_code == 200
    await receiver.drain()
    [event] = publisher.events()
    assert isinstance(event, CrmPersonDeleted)
    assert (event.data.id, event.data.detected_by) == (9, "webhook")


async def test_an_unreadable_webhook_gets_422(hooks):
    _reader, _publisher, _receiver, client = hooks
    response = await client.post(
        f"/v1/crm/webhooks/{TENANT}",
        params={"token": TOKEN},
        json={"event_model": "note", "event_action": "create", "event_model_id": 1},
    )
    assert response.status_code == 422 and "unknown event" in response.json()["error"]


def _poller(reader, publisher, tmp_path, clock=lambda: NOW):
    return CrmPoller(
        TENANT,
        reader,
        publisher,
        SqliteWatermarks(tmp_path / "w.db", table="crm_watermark"),
        SqliteKnownIds(tmp_path / "k.db"),
        clock,
        models=("person",),
    )


async def test_the_poller_publishes_changes_since_its_watermark_and_moves_it_to_the_newest(
    tmp_path,
):
    reader, publisher = FakeCrmReader(), RecordingPublisher()
    reader.put("person", person(1, updated="2026/11/25 06:00:00 -0500"))
    reader.put("person", person(2, updated="2026/11/20 06:00:00 -0500"))  # older than the lookback
    poller = _poller(reader, publisher, tmp_path)
    report = await poller.poll()
    assert report.published == 1
    assert reader.since_asked[0] == ("person", NOW - timedelta(hours=24))
    again = await poller.poll()
    assert again.published == 0 and again.skipped == 1  # same version, same id: not republished
    assert reader.since_asked[1][1] == datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


async def test_the_poller_watermark_stays_when_publishing_fails(tmp_path):
    reader = FakeCrmReader()
    reader.put("person", person(1, updated="2026/11/25 06:00:00 -0500"))
    poller = _poller(reader, RecordingPublisher(fail_flush=True), tmp_path)
    with pytest.raises(ConnectionError):
        await poller.poll()
    marks = SqliteWatermarks(tmp_path / "w.db", table="crm_watermark")
    assert marks.get(TENANT, "person") is None


async def test_a_hard_delete_is_found_by_the_sweep(tmp_path):
    reader, publisher = FakeCrmReader(), RecordingPublisher()
    for record_id in (1, 2, 3):
        reader.put("person", person(record_id))
    poller = _poller(reader, publisher, tmp_path)
    first = await poller.sweep()
    assert first.deleted == 0  # the first sweep only learns what exists
    reader.delete("person", 2)
    second = await poller.sweep()
    assert second.deleted == 1
    [event] = publisher.events()
    assert isinstance(event, CrmPersonDeleted)
    assert (event.data.id, event.data.detected_by) == (2, "poll_sweep")


async def test_a_record_a_sweep_missed_but_that_still_exists_is_not_called_deleted(tmp_path):
    reader, publisher = FakeCrmReader(), RecordingPublisher()
    for record_id in (1, 2):
        reader.put("person", person(record_id))
    poller = _poller(reader, publisher, tmp_path)
    await poller.sweep()
    real_all_ids = reader.all_ids

    async def paging_skipped_one(model: str) -> set[int]:  # as offset paging can, mid-delete
        return (await real_all_ids(model)) - {2}

    reader.all_ids = paging_skipped_one  # type: ignore[method-assign]
    report = await poller.sweep()
    assert report.deleted == 0 and publisher.sent == []


async def test_webhook_bridge_and_poller_publish_equivalent_events_for_one_change(hooks, tmp_path):
    reader, hook_publisher, receiver, client = hooks
    reader.put("person", person(5, updated="2026/11/25 06:30:00 -0500", phone="555-9000"))
    await client.post(
        f"/v1/crm/webhooks/{TENANT}", params={"token": TOKEN}, json=hook("person", "update", 5)
    )
    await receiver.drain()
    poll_publisher = RecordingPublisher()
    await _poller(reader, poll_publisher, tmp_path).poll()
    [from_hook], [from_poll] = hook_publisher.events(), poll_publisher.events()
    assert from_hook.id == from_poll.id
    assert from_hook.subject == from_poll.subject
    assert json.loads(from_hook.data.after.model_dump_json()) == json.loads(
        from_poll.data.after.model_dump_json()
    )
