"""Decider throughput ÷ raw broker pipe, measured in one run on one broker.

Baseline: a plain aiokafka consume→produce pipe (A→B, bytes passed through) in a consumer group.
Engine: the real `qbsync worker` process deciding CRM person changes (parse, validate, decide,
publish the decision with acks=all). Both are measured the same way: the consumer is running and
joined first; then N events are produced; the clock stops when the N-th output is observed.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.machine import peak_rss_mib
from qbsync.processes import spawn_child, stop_child
from streams.admin import ensure_topics
from streams.broker import find_free_port

PARTITIONS = 4
TENANTS = 50


class _Topic:
    def __init__(self, name: str) -> None:
        self.name, self.partitions, self.replication = name, PARTITIONS, 1
        self.config = {"retention.ms": "-1"}


def make_events(n: int) -> list[tuple[bytes, bytes]]:
    events = []
    for i in range(n):
        tenant = f"bench-{i % TENANTS}"
        doc = {
            "specversion": "1.0",
            "id": f"bench-{uuid.uuid4()}",
            "source": "/bench",
            "type": "qbsync.crm.person.changed.v1",
            "subject": f"crm/person/{i}",
            "time": "2026-11-25T10:00:00Z",
            "tenant": tenant,
            "data": {
                "op": "updated",
                "updated_at": "2026/11/25 05:00:00 -0500",
                "after": {
                    "id": i,
                    "first_name": "Ada",
                    "last_name": f"Lovelace {i}",
                    "email": f"ada{i}@example.com",
                    "phone": "555-0100",
                    "work_city": "London",
                    "updated_at": "2026/11/25 05:00:00 -0500",
                },
            },
        }
        events.append((tenant.encode(), json.dumps(doc).encode()))
    return events


async def _produce(bootstrap: str, topic: str, events: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=512 * 1024
    )
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key) for key, value in events]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _count_until(
    bootstrap: str,
    topic: str,
    n: int,
    started: asyncio.Event,
    predicate: Any = None,
    timeout: float = 600,
) -> float:
    """Count outputs on `topic` (from its current end) until n; return the monotonic end time."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="latest",
        enable_auto_commit=False,
        fetch_max_wait_ms=50,
    )
    await consumer.start()
    await consumer.getmany(timeout_ms=500)  # take the assignment and position before we start
    started.set()
    seen, deadline = 0, time.monotonic() + timeout
    try:
        while seen < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"saw {seen}/{n} on {topic}")
            for messages in (await consumer.getmany(timeout_ms=200, max_records=10_000)).values():
                seen += sum(1 for m in messages if predicate is None or predicate(m))
        return time.monotonic()
    finally:
        await consumer.stop()


async def _pipe(
    bootstrap: str, source: str, sink: str, ready: asyncio.Event, stop: asyncio.Event
) -> None:
    group = f"pipe-{uuid.uuid4()}"
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="latest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=2000,
        fetch_max_wait_ms=50,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await consumer.start()
    await producer.start()
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=200)
        ready.set()
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=200, max_records=5000)
            futures = [
                await producer.send(sink, m.value, key=m.key)
                for messages in batch.values()
                for m in messages
            ]
            await asyncio.gather(*futures)
            await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()


async def measure_pipe(bootstrap: str, events: list[tuple[bytes, bytes]]) -> float:
    source, sink = f"bench.pipe.in.{uuid.uuid4().hex[:6]}", f"bench.pipe.out.{uuid.uuid4().hex[:6]}"
    await ensure_topics(bootstrap, [_Topic(source), _Topic(sink)])
    ready, stop, counting = asyncio.Event(), asyncio.Event(), asyncio.Event()
    pipe = asyncio.create_task(_pipe(bootstrap, source, sink, ready, stop))
    await ready.wait()
    counter = asyncio.create_task(_count_until(bootstrap, sink, len(events), counting))
    await counting.wait()
    t0 = time.monotonic()
    await _produce(bootstrap, source, events)
    t_end = await counter
    stop.set()
    await pipe
    return len(events) / (t_end - t0)


async def measure_engine(bootstrap: str, events: list[tuple[bytes, bytes]]) -> dict[str, float]:
    data_dir = Path(tempfile.mkdtemp(prefix="qbsync-bench-"))
    env = {
        **os.environ,
        "QBSYNC_KAFKA_BOOTSTRAP": bootstrap,
        "QBSYNC_LOG_LEVEL": "WARNING",
        "QBSYNC_APP_ID": f"bench-{uuid.uuid4().hex[:6]}",
        "QBSYNC_DATA_DIR": str(data_dir),
        "QBSYNC_TOPIC_PARTITIONS": str(PARTITIONS),
    }
    worker = spawn_child(
        [sys.executable, "-m", "qbsync", "worker", "--web-port", str(find_free_port())],
        env,
        data_dir / "worker.log",
    )
    try:
        # Warm up: the worker has joined its group once one event is decided.
        warm = make_events(1)
        counting = asyncio.Event()
        counter = asyncio.create_task(
            _count_until(bootstrap, "qbsync.decisions.v1", 1, counting, timeout=120)
        )
        await counting.wait()
        await _produce(bootstrap, "qbsync.crm.changes.v1", warm)
        await counter
        counting = asyncio.Event()
        counter = asyncio.create_task(
            _count_until(bootstrap, "qbsync.decisions.v1", len(events), counting)
        )
        await counting.wait()
        t0 = time.monotonic()
        await _produce(bootstrap, "qbsync.crm.changes.v1", events)
        t_end = await counter
        return {"rate": len(events) / (t_end - t0), "peak_rss_mib": peak_rss_mib(worker.pid) or 0}
    finally:
        stop_child(worker)
