"""The embedded tansu broker: start, readiness, round trips, topics, and no orphans."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiokafka import AIOKafkaClient, AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

import streams.broker as broker_mod
import streams.broker.launcher as launcher_mod
from streams.admin import ensure_topics
from streams.broker import (
    BrokerStartError,
    EmbeddedBroker,
    PortInUseError,
    wait_until_ready,
)

pytestmark = pytest.mark.broker

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int = 1
    replication: int = 1
    config: dict[str, str] = field(default_factory=dict)


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for a reaper counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return not pid_alive(pid)


def child_pids(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.fixture(scope="module")
def broker() -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker() as running:
        yield running


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# --- start / readiness ------------------------------------------------------------------------


async def test_starts_and_answers_metadata(broker: EmbeddedBroker) -> None:
    assert broker.running
    assert broker.bootstrap == f"127.0.0.1:{broker.port}"
    client = AIOKafkaClient(bootstrap_servers=broker.bootstrap)
    await client.bootstrap()
    try:
        brokers = client.cluster.brokers()
        assert [(b.host, b.port) for b in brokers] == [("127.0.0.1", broker.port)]
    finally:
        await client.close()


async def test_start_from_inside_a_running_event_loop() -> None:
    # start() is sync; its readiness check runs on a helper thread's own loop.
    started = time.monotonic()
    with EmbeddedBroker() as b:
        await wait_until_ready(b.bootstrap, timeout=5)
        assert b.running
    assert time.monotonic() - started < 10


async def test_wait_until_ready_times_out_when_nothing_listens() -> None:
    port = broker_mod.find_free_port()
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=f"127.0.0.1:{port}"):
        await wait_until_ready(f"127.0.0.1:{port}", timeout=0.3)
    assert time.monotonic() - started < 2


# --- produce / consume --------------------------------------------------------------------------


async def test_produce_consume_round_trip(broker: EmbeddedBroker) -> None:
    topic = unique("roundtrip")
    assert await ensure_topics(broker.bootstrap, [Topic(topic, partitions=2)]) == [topic]
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    await producer.start()
    try:
        sent = [(f"tenant-{i % 2}".encode(), f"event-{i}".encode()) for i in range(10)]
        for key, value in sent:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        bootstrap_servers=broker.bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=100,  # tansu answers a fetch when the wait runs out (ADR 0002)
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0), TopicPartition(topic, 1)])
        received: list[tuple[bytes | None, bytes | None, int]] = []
        async with asyncio.timeout(10):
            while len(received) < len(sent):
                batches = await consumer.getmany(timeout_ms=200)
                for tp, records in batches.items():
                    received.extend((r.key, r.value, tp.partition) for r in records)
    finally:
        await consumer.stop()
    assert sorted((k, v) for k, v, _ in received) == sorted(sent)
    # keyed by tenant: one tenant, one partition
    partitions_by_key: dict[bytes | None, set[int]] = {}
    for record_key, _, partition in received:
        partitions_by_key.setdefault(record_key, set()).add(partition)
    assert all(len(p) == 1 for p in partitions_by_key.values())


async def test_consumer_group_joins_with_short_session_timeout(broker: EmbeddedBroker) -> None:
    # Group join on tansu takes session_timeout / 2: keep it short locally (ADR 0002).
    topic = unique("group")
    await ensure_topics(broker.bootstrap, [Topic(topic)])
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"hello", key=b"t1")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=broker.bootstrap,
        group_id=unique("g"),
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=2000,
        fetch_max_wait_ms=100,
    )
    started = time.monotonic()
    await consumer.start()
    try:
        async with asyncio.timeout(15):
            record = await consumer.getone()
        assert record.value == b"hello"
        await consumer.commit()
        assert await consumer.committed(TopicPartition(topic, 0)) == 1
    finally:
        await consumer.stop()
    assert time.monotonic() - started < 12


# --- ensure_topics ------------------------------------------------------------------------------


async def test_ensure_topics_creates_with_partitions_and_is_idempotent(
    broker: EmbeddedBroker,
) -> None:
    a, b = unique("events"), unique("commands")
    specs = [
        Topic(a, partitions=4, config={"retention.ms": "-1"}),
        Topic(b, partitions=2, config={"retention.ms": "-1", "cleanup.policy": "delete"}),
    ]
    assert await ensure_topics(broker.bootstrap, specs) == [a, b]
    assert await ensure_topics(broker.bootstrap, specs) == []
    # a third topic next to existing ones: only it is created
    c = unique("outcomes")
    assert await ensure_topics(broker.bootstrap, [*specs, Topic(c, partitions=3)]) == [c]

    client = AIOKafkaClient(bootstrap_servers=broker.bootstrap)
    await client.bootstrap()
    try:
        await client.fetch_all_metadata()
        cluster = client.cluster
        assert cluster.partitions_for_topic(a) == {0, 1, 2, 3}
        assert cluster.partitions_for_topic(b) == {0, 1}
        assert cluster.partitions_for_topic(c) == {0, 1, 2}
    finally:
        await client.close()


async def test_ensure_topics_with_nothing_to_do(broker: EmbeddedBroker) -> None:
    assert await ensure_topics(broker.bootstrap, []) == []


# --- stop / no orphans --------------------------------------------------------------------------


def test_stop_leaves_no_process_and_is_idempotent() -> None:
    b = EmbeddedBroker()
    b.start()
    pid = b.pid
    assert pid is not None and pid_alive(pid)
    log_path = b.log_path
    b.stop()
    assert not pid_alive(pid)
    assert b.pid is None and not b.running
    assert log_path is not None and not log_path.exists()  # temp log removed on clean stop
    b.stop()  # idempotent


def test_killing_the_parent_leaves_no_orphan(tmp_path: Path) -> None:
    # log_path under tmp_path: a SIGKILLed parent cannot remove a temporary log itself.
    script = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from streams.broker import EmbeddedBroker
        broker = EmbeddedBroker(log_path=Path({str(tmp_path / "tansu.log")!r}))
        broker.start()
        print(broker.pid, flush=True)
        time.sleep(120)
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env=subprocess_env(),
    )
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        assert line.strip().isdigit(), f"child printed {line!r}"
        broker_pid = int(line)
        assert pid_alive(broker_pid)
        parent.send_signal(signal.SIGKILL)  # no atexit, no finally: only PDEATHSIG can help
        parent.wait(5)
        assert wait_gone(broker_pid, 5), f"tansu pid {broker_pid} outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_serve_forever_prints_bootstrap_and_stops_on_sigterm() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", "from streams.broker import serve_forever; serve_forever()"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env=subprocess_env(),
    )
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline().strip()
        assert line.startswith("QBSYNC_KAFKA_BOOTSTRAP=127.0.0.1:"), line
        bootstrap = line.split("=", 1)[1]
        asyncio.run(wait_until_ready(bootstrap, timeout=5))
        (broker_pid,) = child_pids(parent.pid)
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(10) == 0
        assert wait_gone(broker_pid, 2)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


# --- failures -----------------------------------------------------------------------------------


def test_taken_port_fails_with_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(PortInUseError, match=rf"127\.0\.0\.1:{port} is already in use"):
            EmbeddedBroker(port=port).start()
        assert time.monotonic() - started < 2


def test_port_taken_by_another_kafka_broker_is_not_mistaken_for_ours(
    broker: EmbeddedBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Skip the pre-bind check to exercise the path where tansu itself hits EADDRINUSE while
    # another Kafka broker (the module's one) happily answers Metadata on that port.
    monkeypatch.setattr(launcher_mod, "check_port_free", lambda host, port: None)
    second = EmbeddedBroker(port=broker.port)
    with pytest.raises(PortInUseError, match="already in use") as info:
        second.start(timeout=5)
    assert "AddrInUse" in str(info.value)  # the log tail is in the message
    assert second.pid is None
    assert broker.running


def test_port_taken_by_a_non_kafka_listener_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launcher_mod, "check_port_free", lambda host, port: None)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        b = EmbeddedBroker(port=port)
        with pytest.raises(PortInUseError, match="AddrInUse"):
            b.start(timeout=10)
        assert time.monotonic() - started < 2
        assert b.log_path is None  # the temporary log is removed; its tail is in the error


def test_broker_dying_during_start_reports_its_log(tmp_path: Path) -> None:
    # This tansu build has no sqlite engine: it exits at once with FeatureNotEnabled.
    log_path = tmp_path / "tansu.log"
    b = EmbeddedBroker(log_path=log_path, storage_engine=f"sqlite://{tmp_path}/x.db")
    with pytest.raises(BrokerStartError, match="exited with status") as info:
        b.start(timeout=5)
    assert "FeatureNotEnabled" in str(info.value)
    assert str(log_path) in str(info.value)
    assert not b.running
