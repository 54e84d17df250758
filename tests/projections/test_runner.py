"""The projection runner on the session's real broker: events published with plain aiokafka to the
real topics end up in the projections; bad messages are skipped; an event the projection cannot
take is dead-lettered; a restarted runner resumes after what it applied and applies nothing twice.

Assertions name this test's own tenant and ids: other tests (and a session engine worker, if one
runs) may publish to the same topics meanwhile.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from projections import projector as projector_module
from projections.db import ProjectionDb
from projections.projector import Projector
from projections.queries import ProjectionReader
from projections.runner import ProjectionRunner
from schemas.catalog import encode
from schemas.envelope import Envelope
from schemas.topics import TOPICS
from streams.admin import ensure_topics
from tests.projections.events import TOPIC_OF, event, qbo_customer_changed

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


async def publish(producer: AIOKafkaProducer, *events: Envelope) -> None:
    for item in events:
        await producer.send_and_wait(TOPIC_OF[item.type], encode(item), key=item.tenant.encode())


async def until(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = await asyncio.to_thread(check)
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"not projected within {timeout}s")
        await asyncio.sleep(0.1)


class Running:
    """A runner in a task, stopped through its stop event."""

    def __init__(self, bootstrap: str, projector: Projector, group: str) -> None:
        self.runner = ProjectionRunner(
            bootstrap,
            projector,
            group_id=group,
            fetch_max_wait_ms=100,
            session_timeout_ms=4000,  # tansu: joins take half; a generation-0 member never leaves
            heartbeat_interval_ms=1000,
        )
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.runner.run(self.stop))

    async def close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 20)


async def test_the_runner_projects_the_topics_and_a_restart_applies_nothing_twice(
    topics: str, producer: AIOKafkaProducer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = f"proj-{uuid.uuid4().hex[:8]}"
    db = ProjectionDb.open(f"sqlite:///{tmp_path}/projections.db")
    projector, reader = Projector(db), ProjectionReader(db)
    poison = f"{tenant}-poison"

    def refuse_poison(item: Envelope, _conn: object) -> None:
        if item.id == poison:
            raise ValueError("this projection cannot take it")

    monkeypatch.setattr(
        projector_module, "PROJECTIONS", (*projector_module.PROJECTIONS, refuse_poison)
    )
    group = f"proj-test-{uuid.uuid4().hex[:8]}"
    first = Running(topics, projector, group)
    try:
        await publish(
            producer,
            qbo_customer_changed("58", "3", tenant=tenant),
            event("qbsync.decision.link.made.v1", tenant=tenant),
            event("qbsync.command.qbo.customer.update.v1", tenant=tenant, id=f"{tenant}-cmd"),
            event("qbsync.outcome.failed.v1", tenant=tenant, id=f"{tenant}-fail-1"),
            event("qbsync.decision.import.started.v1", tenant=tenant),
            event(
                "qbsync.decision.link.made.v1", tenant=tenant, id=poison, data={"person_id": 666}
            ),
        )
        await producer.send_and_wait("qbsync.crm.changes.v1", b"{not json", key=tenant.encode())
        stranger = event(
            "qbsync.decision.link.made.v1", tenant=tenant, id=f"{tenant}-k", data={"person_id": 7}
        )
        await producer.send_and_wait("qbsync.decisions.v1", encode(stranger), key=b"someone-else")

        def project_dead_letter() -> Any:
            letters = reader.health(tenant, recent=50).failures.recent_dead_letters
            return next((d for d in letters if d.stage == "project"), None)

        letter = await until(project_dead_letter)
        await until(lambda: reader.import_run(tenant, "req-77e1-import"))
        assert letter.original_id == poison and letter.source_topic == "qbsync.decisions.v1"
        assert "this projection cannot take it" in letter.reason

        link = reader.link(tenant, 4211)
        assert link is not None and link.conflicts == 1 and link.customer_id == "58"
        assert reader.customer(tenant, "58").latest_qbo.sync_token == "3"
        health = reader.health(tenant, recent=50)
        assert [f.outcome_id for f in health.failures.recent_failed_commands] == [
            f"{tenant}-fail-1"
        ]
        assert f"{tenant}-cmd" in [p.command_id for p in health.pending_commands.oldest]
        assert reader.link(tenant, 666) is None, "the refused event changed nothing"
        assert reader.link(tenant, 7) is None, "a message keyed by another tenant is skipped"
        assert first.runner.stats.dead_lettered == 1
        assert first.runner.stats.applied[tenant] >= 6
        assert first.runner.cluster_id
    finally:
        await first.close()
    before = projector.positions(first.runner.cluster_id or "")
    assert before, "positions were recorded"

    second = Running(topics, projector, group)
    try:
        markers = [
            event("qbsync.decision.input.ignored.v1", tenant=tenant, id=f"{tenant}-m1"),
            event("qbsync.command.qbo.customer.update.v1", tenant=tenant, id=f"{tenant}-m2"),
            event("qbsync.outcome.failed.v1", tenant=tenant, id=f"{tenant}-fail-2"),
            qbo_customer_changed("58", "4", tenant=tenant),
            event("qbsync.crm.person.changed.v1", tenant=tenant, id=f"{tenant}-m3"),
        ]
        await publish(producer, *markers)

        def all_markers() -> bool:
            health = reader.health(tenant, recent=50)
            return (
                health.failures.failed_commands_total == 2
                and f"{tenant}-m2" in [p.command_id for p in health.pending_commands.oldest]
                and reader.customer(tenant, "58").latest_qbo.sync_token == "4"
                and reader.person(tenant, 4211) is not None
                and health.decisions.ignored >= 1
            )

        await until(all_markers)
        stats = second.runner.stats
        assert stats.already_applied == 0, "the restart read nothing it had applied"
        assert stats.undecodable == 0, "the bad messages were not read again"
        assert stats.applied[tenant] == stats.received[tenant] >= len(markers)
        assert reader.link(tenant, 4211).conflicts == 1
        assert reader.link(tenant, 666) is None
        projected = [
            d
            for d in reader.health(tenant, recent=50).failures.recent_dead_letters
            if d.stage == "project"
        ]
        assert len(projected) == 1, "the dead letter was neither re-sent nor re-projected"
    finally:
        await second.close()
    after = projector.positions(second.runner.cluster_id or "")
    db.close()
    assert all(after[key] >= offset for key, offset in before.items())
