"""`qbsync replay` on the session's real broker, against the live runner.

This module publishes a realistic history (every kind of event the projections fold, for three
tenants, with a decision published again after a later one, QBO versions out of order, a message
that does not decode and one keyed by the wrong tenant) to a topic set of its own (the catalog's
names with a suffix: other tests publish to the real topics meanwhile). The first two tenants'
messages carry a Kafka timestamp an hour old, for `--since`. The real ProjectionRunner projects
them as they are published, one by one (the live rows); each test replays them into a fresh
database and compares every projection table row for row (position bookkeeping aside, and every
column compared).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from typer.testing import CliRunner

from projections.db import ProjectionDb
from projections.projector import Projector
from projections.replay import TargetRefused, replay
from projections.runner import ProjectionRunner
from projections.tables import conflicts, decisions_seen, links, positions
from qbsync.cli import app
from schemas.catalog import encode
from schemas.envelope import Envelope
from schemas.topics import TOPICS, TopicSpec
from streams.admin import ensure_topics
from streams.broker import find_free_port
from tests.projections.events import (
    TOPIC_OF,
    document_created,
    dump,
    event,
    invoice_request_flow,
    qbo_customer_changed,
    qbo_document_changed,
)
from tests.store.backends import postgres_backend

pytestmark = pytest.mark.broker
Rows = dict[str, list[tuple[Any, ...]]]
HOUR_MS = 3_600_000


def story(tenant: str) -> list[Envelope]:
    """One tenant's history: every kind of event some projection folds."""
    made = event("qbsync.decision.link.made.v1", tenant=tenant)
    return [
        event("qbsync.crm.person.changed.v1", tenant=tenant),
        qbo_customer_changed("58", "5", tenant=tenant),
        qbo_customer_changed("58", "4", tenant=tenant),  # an older version, later
        event("qbsync.qbo.customer.merged.v1", tenant=tenant),
        event("qbsync.qbo.customer.deleted.v1", tenant=tenant),
        made,
        event("qbsync.decision.link.synced.v1", tenant=tenant),
        made,  # published again after a later decision (ADR 0009): changes nothing
        event("qbsync.decision.link.observed.v1", tenant=tenant),
        event("qbsync.decision.link.moved.v1", tenant=tenant),
        event("qbsync.decision.link.inactive.v1", tenant=tenant),
        event("qbsync.decision.input.applied.v1", tenant=tenant),
        event("qbsync.decision.input.ignored.v1", tenant=tenant),
        event("qbsync.decision.request.denied.v1", tenant=tenant),
        event("qbsync.command.qbo.customer.update.v1", tenant=tenant),
        event("qbsync.outcome.failed.v1", tenant=tenant),
        event("qbsync.outcome.succeeded.v1", tenant=tenant),
        event("qbsync.request.import.v1", tenant=tenant),
        event("qbsync.command.import.run.v1", tenant=tenant),
        event("qbsync.decision.import.started.v1", tenant=tenant),
        event("qbsync.decision.import.progressed.v1", tenant=tenant),
        event("qbsync.decision.import.finished.v1", tenant=tenant),
        event("qbsync.deadletter.v1", tenant=tenant),
        event(
            "qbsync.decision.installation.changed.v1",
            tenant=tenant,
            data={"change": "installed", "crm_account_id": 42},
        ),
        *[item.model_copy(update={"tenant": tenant}) for item in invoice_request_flow("130")],
        qbo_document_changed("invoice", "130", "2", tenant=tenant),
        qbo_document_changed("estimate", "140", "0", tenant=tenant),
        document_created("141", "estimate", tenant=tenant),
        event("qbsync.decision.document.sent.v1", tenant=tenant),
        event("qbsync.crm.person.deleted.v1", tenant=tenant),
        event("qbsync.decision.link.ended.v1", tenant=tenant),
    ]


@dataclasses.dataclass
class TopicSet:
    """The catalog's topics under names of their own (2 partitions each)."""

    bootstrap: str
    suffix: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex[:8])
    count: int = 0

    @property
    def names(self) -> dict[str, str]:
        return {spec.name: f"{spec.name}.{self.suffix}" for spec in TOPICS}

    @property
    def specs(self) -> tuple[TopicSpec, ...]:
        return tuple(
            dataclasses.replace(spec.sized(2, 1), name=self.names[spec.name]) for spec in TOPICS
        )

    async def create(self) -> TopicSet:
        await ensure_topics(self.bootstrap, self.specs, clamp_replication=True)
        return self

    async def publish(
        self,
        events: list[Envelope],
        timestamp_ms: int | None = None,
        raw: tuple[tuple[str, bytes, bytes], ...] = (),
        one_by_one: bool = False,
    ) -> None:
        """Publish `events`, then the `raw` (topic, key, value) messages; `one_by_one`: each
        acknowledged before the next is sent, so a reader meets them in this order."""
        messages = [
            (TOPIC_OF[item.type], item.tenant.encode(), encode(item)) for item in events
        ] + list(raw)
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", linger_ms=5)
        await producer.start()
        try:
            sent = []
            for topic, key, value in messages:
                name = self.names[topic]
                sent.append(await producer.send(name, value, key=key, timestamp_ms=timestamp_ms))
                if one_by_one:
                    await sent[-1]
            await asyncio.gather(*sent)
        finally:
            await producer.stop()
        self.count += len(messages)

    async def replay(self, db: ProjectionDb, *names: str, **options: Any) -> Any:
        return await replay(
            self.bootstrap, db, names or ("all",), topic_names=self.names, **options
        )


@dataclasses.dataclass(frozen=True)
class History:
    topics: TopicSet
    tenants: tuple[str, str, str]
    old: int  # messages stamped an hour before `since`
    since: datetime
    live: Rows
    live_url: str


def rows(db: ProjectionDb, tenants: tuple[str, ...] | None = None) -> Rows:
    """Every projection table's rows (positions aside), of `tenants` if given."""
    found = {name: table for name, table in dump(db).items() if name != positions.name}
    if tenants is None:
        return found
    keep = {repr(tenant) for tenant in tenants}
    return {name: [row for row in table if row[0] in keep] for name, table in found.items()}


def sqlite(tmp_path: Path, name: str = "replay") -> ProjectionDb:
    return ProjectionDb.open(f"sqlite:///{tmp_path}/{name}.db")


async def project_live(
    topics: TopicSet,
    url: str,
    marker: Callable[[], Awaitable[None]],
    feed: Callable[[], Awaitable[None]],
) -> Rows:
    """What the live runner makes of the topics, fed while it runs: once it has taken what
    `marker` publishes (one undecodable message), `feed` publishes, then the runner runs until
    it has taken every message."""
    db = ProjectionDb.open(url)
    runner = ProjectionRunner(
        topics.bootstrap,
        Projector(db),
        group_id=f"replay-live-{topics.suffix}",
        topics=list(topics.names.values()),
        fetch_max_wait_ms=100,
        session_timeout_ms=4000,  # tansu: a join takes half of it
        heartbeat_interval_ms=1000,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    deadline = time.monotonic() + 30
    try:
        await marker()
        while runner.stats.undecodable < 1:
            assert time.monotonic() < deadline, "the live runner took nothing"
            assert not task.done(), task
            await asyncio.sleep(0.05)
        await feed()
        while True:
            stats = runner.stats
            taken = sum(stats.applied.values()) + stats.undecodable + stats.dead_lettered
            if taken >= topics.count:
                break
            assert time.monotonic() < deadline, f"the live runner took {taken}/{topics.count}"
            assert not task.done(), task
            await asyncio.sleep(0.05)
        assert stats.dead_lettered == 0
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
    live = rows(db)
    db.close()
    return live


@pytest.fixture(scope="module")
async def history(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> History:
    topics = await TopicSet(kafka_bootstrap).create()
    tenants = tuple(f"replay-{uuid.uuid4().hex[:6]}-{n}" for n in range(3))
    now_ms = int(time.time() * 1000)
    old = story(tenants[0]) + story(tenants[1])
    not_json = ("qbsync.crm.changes.v1", tenants[0].encode(), b"{not json")
    wrong_key = ("qbsync.decisions.v1", b"someone-else", encode(story(tenants[2])[5]))

    async def marker() -> None:
        await topics.publish([], timestamp_ms=now_ms - HOUR_MS, raw=(not_json,))

    async def feed() -> None:  # as the engine would: one tenant's events in causal order
        await topics.publish(old, timestamp_ms=now_ms - HOUR_MS, one_by_one=True)
        await topics.publish(story(tenants[2]), raw=(wrong_key,), one_by_one=True)

    url = f"sqlite:///{tmp_path_factory.mktemp('replay-live')}/live.db"
    live = await project_live(topics, url, marker, feed)
    since = datetime.fromtimestamp((now_ms - HOUR_MS // 2) / 1000, UTC)
    return History(topics, (tenants[0], tenants[1], tenants[2]), len(old) + 1, since, live, url)


async def test_a_replay_from_the_beginning_has_the_rows_the_live_runner_has(
    history: History, tmp_path: Path
) -> None:
    db = sqlite(tmp_path)
    result = await history.topics.replay(db)
    stats = result.stats
    assert rows(db) == history.live
    assert all(history.live[table.name] for table in (links, conflicts, decisions_seen))
    assert result.mode == "rebuild" and result.partitions == 2 * len(TOPICS)
    assert (stats.read, stats.undecodable, stats.failed) == (history.topics.count, 2, 0)
    assert stats.applied == history.topics.count - 2
    assert stats.events_per_s > 0
    db.close()


async def test_replaying_again_gives_the_same_tables_and_applies_nothing_twice(
    history: History, tmp_path: Path
) -> None:
    db = sqlite(tmp_path)
    await history.topics.replay(db)
    first = rows(db)
    again = await history.topics.replay(db)  # resumes: nothing new was published
    assert (again.mode, again.stats.read, again.stats.applied) == ("resume", 0, 0)
    assert rows(db) == first
    rebuilt = await history.topics.replay(db, from_beginning=True, window=2)
    assert (rebuilt.mode, rebuilt.stats.read) == ("rebuild", history.topics.count)
    assert rows(db) == first == history.live
    db.close()


async def test_one_projection_touches_only_its_tables_and_another_set_needs_a_rebuild(
    history: History, tmp_path: Path
) -> None:
    db = sqlite(tmp_path)
    result = await history.topics.replay(db, "links")
    assert result.topics == (history.topics.names["qbsync.decisions.v1"],)
    assert result.consumer == "qbsync-replay:links"
    mine = {links.name, conflicts.name, decisions_seen.name}
    replayed = rows(db)
    assert {name for name, table in replayed.items() if table} == mine
    assert {name: replayed[name] for name in mine} == {name: history.live[name] for name in mine}
    with pytest.raises(TargetRefused, match="holds a replay of links"):
        await history.topics.replay(db)
    await history.topics.replay(db, "all", from_beginning=True)
    assert rows(db) == history.live
    db.close()


async def test_since_replays_what_was_published_from_then_on(
    history: History, tmp_path: Path
) -> None:
    db = sqlite(tmp_path)
    result = await history.topics.replay(db, since=history.since)
    # tansu's ListOffsets by time answers offset 0: the older messages are read and skipped
    assert result.stats.skipped_before_since == history.old
    assert result.stats.read == history.topics.count
    assert result.stats.applied == history.topics.count - history.old - 1  # the wrong key
    recent = history.tenants[2:]
    assert rows(db) == rows_of_live(history, recent)
    again = await history.topics.replay(db)  # resumes after what it read: older stays out
    assert (again.mode, again.stats.read) == ("resume", 0)
    assert rows(db) == rows_of_live(history, recent)
    db.close()


def rows_of_live(history: History, tenants: tuple[str, ...]) -> Rows:
    keep = {repr(tenant) for tenant in tenants}
    return {name: [row for row in table if row[0] in keep] for name, table in history.live.items()}


async def test_a_live_projections_database_is_refused(history: History) -> None:
    db = ProjectionDb.open(history.live_url)
    with pytest.raises(TargetRefused, match="qbsync-projections"):
        await history.topics.replay(db, from_beginning=True)
    assert rows(db) == history.live, "nothing was touched"
    db.close()


async def test_a_replay_into_postgresql_has_the_rows_the_live_runner_has(
    history: History, tmp_path: Path
) -> None:
    with postgres_backend(tmp_path) as url:
        db = ProjectionDb.open(url)
        try:
            result = await history.topics.replay(db)
            assert result.stats.applied == history.topics.count - 2
            assert rows(db) == history.live
            again = await history.topics.replay(db)
            assert again.stats.read == 0 and rows(db) == history.live
        finally:
            db.close()


async def test_a_resumed_replay_applies_only_what_was_published_since(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topics = await TopicSet(kafka_bootstrap).create()
    await topics.publish(story("resume-a"))
    db = sqlite(tmp_path, "resumed")
    await topics.replay(db)
    later = story("resume-b")
    await topics.publish(later)
    resumed = await topics.replay(db)
    assert (resumed.mode, resumed.stats.read, resumed.stats.applied) == (
        "resume",
        len(later),
        len(later),
    )
    fresh = sqlite(tmp_path, "fresh")
    await topics.replay(fresh)
    assert rows(db) == rows(fresh)
    db.close()
    fresh.close()


# --- the command -------------------------------------------------------------------------------


def said(result: Any) -> str:
    """What the command printed, rich's boxes and line wrapping undone."""
    return " ".join(str(result.output).replace("│", " ").split())


@pytest.fixture
def cli(history: History, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The command on this module's topic set, logging left as the test session has it."""
    renamed = tuple(
        dataclasses.replace(spec, name=history.topics.names[spec.name]) for spec in TOPICS
    )
    monkeypatch.setattr("projections.replay.TOPICS", renamed)
    monkeypatch.setattr("qbsync.logs.configure_logging", lambda *_args, **_kw: None)
    monkeypatch.setenv("QBSYNC_KAFKA_BOOTSTRAP", history.topics.bootstrap)
    yield CliRunner()


def test_the_command_replays_prints_json_and_a_second_run_reads_nothing(
    cli: CliRunner, history: History, tmp_path: Path
) -> None:
    args = ["replay", "--projection", "all", "--to", f"sqlite:///{tmp_path}/cli.db", "--json"]
    first = cli.invoke(app, args, terminal_width=200)
    assert first.exit_code == 0, first.output
    figures = json.loads(first.stdout)
    assert figures["read"] == history.topics.count and figures["mode"] == "rebuild"
    assert figures["undecodable"] == 2 and figures["events_per_s"] > 0
    second = json.loads(cli.invoke(app, args, terminal_width=200).stdout)
    assert (second["mode"], second["read"]) == ("resume", 0)
    db = ProjectionDb.open(f"sqlite:///{tmp_path}/cli.db")
    assert rows(db) == history.live
    db.close()
    subset = ["replay", "-p", "links,imports", "--to", f"sqlite:///{tmp_path}/cli.db"]
    table = cli.invoke(app, [*subset, "--from-beginning"], terminal_width=200)
    assert table.exit_code == 0, table.output
    assert "Replay of links, imports (rebuild)" in said(table)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "linkz"], "unknown projection linkz: links, customers, imports, health"),
        (["--from-beginning", "--since", "2026-11-01"], "not both"),
        (["--since", "last tuesday"], "is not a time"),
    ],
)
def test_the_command_says_what_is_wrong_with_its_arguments(
    cli: CliRunner, tmp_path: Path, args: list[str], message: str
) -> None:
    result = cli.invoke(
        app, ["replay", "--to", f"sqlite:///{tmp_path}/x.db", *args], terminal_width=200
    )
    assert result.exit_code == 2
    assert message in said(result)
    assert not (tmp_path / "x.db").exists()


def test_the_command_refuses_a_bad_url_a_live_database_and_an_unreachable_broker(
    cli: CliRunner, history: History, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad_url = cli.invoke(app, ["replay", "--to", "mysql://db/x"], terminal_width=200)
    assert bad_url.exit_code == 2 and "expected sqlite:///PATH or postgresql://" in said(bad_url)
    live = cli.invoke(app, ["replay", "--to", history.live_url], terminal_width=200)
    assert live.exit_code == 2 and "live projections database" in said(live)
    monkeypatch.setenv("QBSYNC_KAFKA_BOOTSTRAP", f"127.0.0.1:{find_free_port()}")
    down = cli.invoke(app, ["replay", "--to", f"sqlite:///{tmp_path}/down.db"], terminal_width=200)
    assert down.exit_code == 1 and "does not answer" in said(down)
