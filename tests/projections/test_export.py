"""`export_history` on the session's real broker: events published with plain aiokafka to the real
topics come out as the tenant's `events` and `field_changes` tables, read back with DuckDB and
sqlite3. Other tenants' events, undecodable bytes and events keyed by the wrong tenant stay out.

Assertions name this test's own tenant: other tests may publish to the same topics meanwhile
(and those later messages are past the end offsets the export takes at start anyway).
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from aiokafka import AIOKafkaProducer

from projections.export import ExportFormat, TopicsMissing, export_history
from schemas.catalog import encode
from schemas.envelope import Envelope
from schemas.topics import CRM_CHANGES, TOPICS
from streams.admin import ensure_topics
from tests.projections.events import TOPIC_OF, event
from tests.projections.export_events import EXPECTED_CHANGES, T0, history, person_changed

pytestmark = pytest.mark.broker


@pytest.fixture(scope="module")
async def topics(kafka_bootstrap: str) -> str:
    await ensure_topics(kafka_bootstrap, TOPICS, clamp_replication=True)
    return kafka_bootstrap


@pytest.fixture
async def producer(topics: str) -> AsyncIterator[AIOKafkaProducer]:
    started = AIOKafkaProducer(bootstrap_servers=topics, acks="all")
    await started.start()
    yield started
    await started.stop()


async def publish(producer: AIOKafkaProducer, events: list[Envelope]) -> None:
    for item in events:
        await producer.send_and_wait(TOPIC_OF[item.type], encode(item), key=item.tenant.encode())


async def publish_with_noise(producer: AIOKafkaProducer, tenant: str) -> list[Envelope]:
    """The tenant's known history, another tenant's, and two messages with the tenant's key that
    are not its events."""
    mine, theirs = history(tenant), history(f"{tenant}-other")
    await publish(producer, theirs[:4])
    await publish(producer, mine)
    await publish(producer, theirs[4:])
    await producer.send_and_wait(CRM_CHANGES.name, b"{not json", key=tenant.encode())
    stranger = event("qbsync.decision.input.ignored.v1", tenant=f"{tenant}-other", id="x")
    await producer.send_and_wait("qbsync.decisions.v1", encode(stranger), key=tenant.encode())
    return mine


def one(sql: str) -> tuple:
    return duckdb.sql(sql).fetchall()[0]


async def test_the_parquet_export_has_one_row_per_event_of_the_tenant(
    topics: str, producer: AIOKafkaProducer, tmp_path: Path
):
    tenant = f"exp-{uuid.uuid4().hex[:8]}"
    published = await publish_with_noise(producer, tenant)

    summary = await export_history(topics, tenant, ExportFormat.parquet, tmp_path, flush_rows=4)

    events, changes = tmp_path / "events.parquet", tmp_path / "field_changes.parquet"
    assert sorted(summary.files) == sorted([events, changes])
    assert one(f"select count(*) from '{events}'") == (len(published),)
    assert summary.events == len(published)
    assert one(f"select count(distinct tenant), min(tenant) from '{events}'") == (1, tenant)
    ids = duckdb.sql(f"select event_id from '{events}'").fetchall()
    assert sorted(i for (i,) in ids) == sorted(e.id for e in published)
    # one tenant's events of one topic are on one partition, each at its own offset
    assert one(
        f"select count(*), count(distinct (topic, kafka_partition, kafka_offset)),"
        f" count(distinct (topic, kafka_partition)), count(distinct topic) from '{events}'"
    ) == (9, 9, 6, 6)
    assert one(f"select min(time), typeof(min(time)) from '{events}'")[1] == (
        "TIMESTAMP WITH TIME ZONE"
    )
    assert (summary.read.undecodable, summary.read.other_tenant) == (1, 1)

    rows = duckdb.sql(
        "select record_kind, record_id, source, field, before, after"
        f" from '{changes}' order by time, field"
    ).fetchall()
    assert rows == EXPECTED_CHANGES
    assert summary.field_changes == len(EXPECTED_CHANGES)
    joined = one(
        f"select count(*) from '{changes}' c join '{events}' e using (event_id)"
        " where e.type = c.event_type and e.time = c.time"
    )
    assert joined == (len(EXPECTED_CHANGES),)


@pytest.mark.parametrize("fmt", [ExportFormat.csv, ExportFormat.sqlite])
async def test_csv_and_sqlite_exports_hold_the_same_rows(
    fmt: ExportFormat, topics: str, producer: AIOKafkaProducer, tmp_path: Path
):
    tenant = f"exp-{uuid.uuid4().hex[:8]}"
    published = await publish_with_noise(producer, tenant)

    summary = await export_history(topics, tenant, fmt, tmp_path)

    assert (summary.events, summary.field_changes) == (len(published), len(EXPECTED_CHANGES))
    if fmt is ExportFormat.csv:

        def count(table: str) -> tuple:
            return one(f"select count(*) from read_csv_auto('{tmp_path}/{table}.csv')")

        phone = one(
            f"select before, after from read_csv_auto('{tmp_path}/field_changes.csv')"
            " where field = 'phone' and source = 'crm'"
        )
    else:
        db = sqlite3.connect(tmp_path / "history.sqlite")

        def count(table: str) -> tuple:
            return db.execute(f"select count(*) from {table}").fetchone()

        phone = db.execute(
            "select before, after from field_changes where field = 'phone' and source = 'crm'"
        ).fetchone()
        assert db.execute(
            "select count(*) from events where event_id = ?", (published[0].id,)
        ).fetchone() == (1,)
    assert count("events") == (len(published),)
    assert count("field_changes") == (len(EXPECTED_CHANGES),)
    assert phone == ("555-1234", "555-9999")


async def test_since_leaves_out_earlier_events_but_compares_with_them(
    topics: str, producer: AIOKafkaProducer, tmp_path: Path
):
    tenant = f"exp-{uuid.uuid4().hex[:8]}"
    published = history(tenant)
    await publish(producer, published)

    since = T0 + timedelta(minutes=4)  # from the LinkSynced on
    summary = await export_history(topics, tenant, ExportFormat.parquet, tmp_path, since=since)

    kept = [e for e in published if e.time >= since]
    assert len(kept) == 5 and summary.before_since == 4
    events = tmp_path / "events.parquet"
    assert one(f"select count(*), min(time) from '{events}'") == (5, since)
    rows = duckdb.sql(
        "select record_kind, record_id, source, field, before, after"
        f" from '{tmp_path}/field_changes.parquet' order by time, field"
    ).fetchall()
    # the DisplayName change is compared with customer 58 as QBO reported it before `since`
    assert rows == EXPECTED_CHANGES[1:]


async def test_messages_published_in_one_batch_are_all_exported(topics: str, tmp_path: Path):
    """tansu lists the end of a partition as the first offset of its last batch + 1: the
    export must read on to the high watermark (docs/adr/0002)."""
    tenant = f"exp-{uuid.uuid4().hex[:8]}"
    batched = AIOKafkaProducer(bootstrap_servers=topics, acks="all", linger_ms=200)
    await batched.start()
    try:
        sent = [
            await batched.send(
                CRM_CHANGES.name,
                encode(person_changed(tenant, n, phone=f"555-{n:04}")),
                key=tenant.encode(),
            )
            for n in range(20)
        ]
        offsets = [meta.offset for meta in await asyncio.gather(*sent)]
    finally:
        await batched.stop()
    assert len(set(offsets)) == 20

    summary = await export_history(topics, tenant, ExportFormat.parquet, tmp_path)

    assert one(f"select count(*) from '{tmp_path}/events.parquet'") == (20,)
    assert (summary.events, summary.field_changes) == (20, 19)


async def test_a_tenant_without_events_gets_empty_tables(topics: str, tmp_path: Path):
    summary = await export_history(
        topics, f"exp-none-{uuid.uuid4().hex[:8]}", ExportFormat.parquet, tmp_path
    )
    assert (summary.events, summary.field_changes) == (0, 0)
    assert one(f"select count(*) from '{tmp_path}/events.parquet'") == (0,)
    assert one(f"select count(*) from '{tmp_path}/field_changes.parquet'") == (0,)


async def test_a_cluster_without_the_topics_is_an_error_and_leaves_nothing(
    topics: str, tmp_path: Path
):
    with pytest.raises(TopicsMissing, match="has the engine ever run on it"):
        await export_history(
            topics, "exp-x", ExportFormat.csv, tmp_path / "out", topics=("qbsync.nope.v1",)
        )
    assert not (tmp_path / "out").exists()
