"""The relay: each entity version published once, keyed by tenant; CDC heals; watermarks obey Singer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.qbo_bridge.cdc import CdcSweeper
from adapters.qbo_bridge.payloads import Notification
from adapters.qbo_bridge.ports import StaticTenantDirectory
from adapters.qbo_bridge.relay import ChangeRelay
from adapters.watermarks import SqliteWatermarks
from schemas.deadletter import DeadLettered
from schemas.qbo import QboCustomerChanged, QboCustomerDeleted, QboCustomerMerged
from tests.adapters.qbo_bridge.fakes import FakeReader, RecordingPublisher, customer

REALM, TENANT = "9130357766900456", "acme-co"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def note(
    id_: str,
    op: str = "Update",
    realm: str = REALM,
    key: str | None = None,
    deleted_id: str | None = None,
) -> Notification:
    return Notification(realm, "Customer", id_, op, NOW, deleted_id, key or f"{realm}-{id_}-{op}")  # type: ignore[arg-type]


@pytest.fixture
def parts():
    reader, publisher = FakeReader(), RecordingPublisher()
    relay = ChangeRelay(reader, StaticTenantDirectory({REALM: TENANT}), publisher, lambda: NOW)
    return reader, publisher, relay


async def test_a_notification_is_fetched_and_published_as_a_change_keyed_by_tenant(parts):
    reader, publisher, relay = parts
    reader.put(REALM, "Customer", customer("58", sync="3"))
    report = await relay.relay_notifications([note("58", "Create")])
    assert report.published == 1
    [(topic, event)] = publisher.sent
    assert topic == "qbsync.qbo.changes.v1"
    assert isinstance(event, QboCustomerChanged)
    assert (event.tenant, event.data.op, event.data.entity.SyncToken) == (TENANT, "created", "3")
    assert event.id == f"qbo:{REALM}:customer:58:v3"


async def test_a_redelivered_notification_is_neither_refetched_nor_republished(parts):
    reader, publisher, relay = parts
    reader.put(REALM, "Customer", customer("58"))
    await relay.relay_notifications([note("58", key="k1")])
    report = await relay.relay_notifications([note("58", key="k1")])
    assert (report.published, report.duplicates) == (0, 1)
    assert len(reader.reads) == 1 and len(publisher.sent) == 1


async def test_the_same_version_seen_by_webhook_and_by_cdc_is_published_once(parts):
    reader, publisher, relay = parts
    reader.put(REALM, "Customer", customer("58", sync="4"))
    await relay.relay_notifications([note("58")])
    report = await relay.relay_cdc(REALM, {"Customer": [customer("58", sync="4")]})
    assert report.duplicates == 1
    assert len(publisher.sent) == 1


async def test_a_deleted_invoice_becomes_a_tombstone_without_a_fetch(parts):
    reader, publisher, relay = parts
    await relay.relay_notifications(
        [Notification(REALM, "Invoice", "130", "Delete", NOW, None, "k-del")]
    )
    [(_topic, event)] = publisher.sent
    assert event.type == "qbsync.qbo.invoice.deleted.v1" and reader.reads == []


async def test_a_deleted_customer_is_published_as_the_inactive_record_qbo_keeps(parts):
    reader, publisher, relay = parts
    reader.put(REALM, "Customer", {**customer("61", sync="4"), "Active": False})
    await relay.relay_notifications([note("61", "Delete")])
    [(_topic, event)] = publisher.sent
    assert isinstance(event, QboCustomerChanged)
    assert event.data.entity.Active is False and event.data.op == "updated"


async def test_a_deleted_customer_that_is_really_gone_becomes_a_tombstone(parts):
    _reader, publisher, relay = parts
    await relay.relay_notifications([note("62", "Delete")])
    [(_topic, event)] = publisher.sent
    assert isinstance(event, QboCustomerDeleted)


async def test_a_merge_names_both_customers_and_publishes_the_survivor(parts):
    reader, publisher, relay = parts
    reader.put(REALM, "Customer", customer("9", sync="2"))
    await relay.relay_notifications([note("9", "Merge", deleted_id="61")])
    merged = next(e for _t, e in publisher.sent if isinstance(e, QboCustomerMerged))
    assert (merged.data.merged_id, merged.data.surviving_id) == ("61", "9")
    assert any(isinstance(e, QboCustomerChanged) for _t, e in publisher.sent)
    assert reader.reads == [(REALM, "Customer", ("9",))]


async def test_a_realm_connected_to_no_installation_is_dead_lettered_with_the_reason(parts):
    _reader, publisher, relay = parts
    report = await relay.relay_notifications([note("1", realm="777"), note("2", realm="777")])
    assert report.unrouted == 2
    letters = [e for _t, e in publisher.sent if isinstance(e, DeadLettered)]
    assert len(letters) == 2 and len({letter.id for letter in letters}) == 2
    assert "777 is connected to no installation" in letters[0].data.reason


async def test_an_entity_gone_before_the_fetch_is_reported_not_invented(parts):
    _reader, publisher, relay = parts
    report = await relay.relay_notifications([note("404")])
    assert report.missing == ["Customer 404"] and publisher.sent == []


def _sweeper(reader, publisher, tmp_path, clock=lambda: NOW):
    tenants = StaticTenantDirectory({REALM: TENANT})
    relay = ChangeRelay(reader, tenants, publisher, clock)
    marks = SqliteWatermarks(tmp_path / "bridge.db")
    return CdcSweeper(reader, tenants, relay, marks, clock), marks


async def test_a_first_sweep_looks_back_a_day_and_publishes_changes_and_tombstones(tmp_path):
    reader, publisher = FakeReader(), RecordingPublisher()
    tombstone = {
        "Id": "61",
        "domain": "QBO",
        "status": "Deleted",
        "MetaData": {"LastUpdatedTime": "2026-11-25T03:00:00-08:00"},
    }
    reader.cdc[REALM] = {"Customer": [customer("58", sync="5"), tombstone]}
    sweeper, marks = _sweeper(reader, publisher, tmp_path)
    await sweeper.sweep_realm(REALM)
    assert reader.cdc_calls == [(REALM, NOW - timedelta(hours=24))]
    kinds = sorted(type(e).__name__ for _t, e in publisher.sent)
    assert kinds == ["QboCustomerChanged", "QboCustomerDeleted"]
    assert marks.get(REALM, "Customer") == NOW - timedelta(minutes=2)


async def test_the_watermark_does_not_move_when_publishing_fails(tmp_path):
    reader = FakeReader()
    reader.cdc[REALM] = {"Customer": [customer("58")]}
    sweeper, marks = _sweeper(reader, RecordingPublisher(fail_flush=True), tmp_path)
    with pytest.raises(ConnectionError):
        await sweeper.sweep_realm(REALM)
    assert marks.get(REALM, "Customer") is None


async def test_a_capped_cdc_answer_continues_from_the_newest_change_seen(tmp_path):
    reader = FakeReader()
    base = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    reader.cdc[REALM] = {
        "Customer": [
            customer(str(i), updated=(base + timedelta(seconds=i)).isoformat()) for i in range(1000)
        ]
    }
    sweeper, marks = _sweeper(reader, RecordingPublisher(), tmp_path)
    await sweeper.sweep_realm(REALM)
    assert marks.get(REALM, "Customer") == base + timedelta(seconds=999)
    assert marks.get(REALM, "Invoice") == NOW - timedelta(minutes=2)


async def test_the_next_sweep_starts_from_the_persisted_watermark(tmp_path):
    reader = FakeReader()
    sweeper, marks = _sweeper(reader, RecordingPublisher(), tmp_path)
    marks.set(REALM, "Customer", NOW - timedelta(hours=3))
    for entity in ("Invoice", "Estimate", "Item"):
        marks.set(REALM, entity, NOW - timedelta(hours=1))
    await sweeper.sweep_realm(REALM)
    assert reader.cdc_calls[-1] == (REALM, NOW - timedelta(hours=3))


async def test_a_sweep_never_asks_beyond_qbos_thirty_day_window(tmp_path):
    reader = FakeReader()
    sweeper, marks = _sweeper(reader, RecordingPublisher(), tmp_path)
    for entity in ("Customer", "Invoice", "Estimate", "Item"):
        marks.set(REALM, entity, NOW - timedelta(days=45))
    await sweeper.sweep_realm(REALM)
    assert reader.cdc_calls[-1][1] >= NOW - timedelta(days=30)
