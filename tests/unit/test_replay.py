"""The pieces of `qbsync replay` that need no broker: which projections, tables and topics a
replay touches, what it decides about a target database, where `--since` starts, the command's
arguments. The replay itself runs on a broker in tests/projections/test_replay.py."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from projections import customers, links
from projections.db import ProjectionDb
from projections.projector import (
    PROJECTIONS,
    Position,
    Projector,
    UnknownProjection,
    projection_name,
    projections_named,
)
from projections.replay import (
    TargetRefused,
    _before_since,
    _clear,
    _plan,
    consumer_name,
    tables_of,
    topics_for,
)
from projections.tables import decisions_seen, metadata, positions
from qbsync.replay_cli import parse_since, projection_names
from schemas.catalog import encode
from schemas.topics import TOPICS
from tests.projections.events import dump, event, qbo_customer_changed

CLUSTER = "cluster-1"


@pytest.fixture
def db(tmp_path: Path) -> ProjectionDb:
    return ProjectionDb.open(f"sqlite:///{tmp_path}/p.db")


def test_every_projection_table_belongs_to_exactly_one_projection() -> None:
    owners: dict[str, list[str]] = {}
    for projection in PROJECTIONS:
        for table in tables_of(projection):
            owners.setdefault(table.name, []).append(projection_name(projection))
    bookkeeping = {positions.name, decisions_seen.name}
    assert set(owners) == {table.name for table in metadata.sorted_tables} - bookkeeping
    assert {name: who for name, who in owners.items() if len(who) != 1} == {}
    assert [t.name for t in tables_of(links.project)] == ["proj_conflicts", "proj_links"]


def test_a_projection_reads_only_the_topics_carrying_what_it_folds() -> None:
    assert topics_for([links.project]) == ("qbsync.decisions.v1",)
    assert topics_for([customers.project]) == ("qbsync.crm.changes.v1", "qbsync.qbo.changes.v1")
    assert topics_for(PROJECTIONS) == tuple(spec.name for spec in TOPICS)


def test_projections_are_chosen_by_name_in_their_own_order() -> None:
    assert projections_named(["customers", "links"]) == (links.project, customers.project)
    assert projections_named(["all"]) == PROJECTIONS
    assert projections_named(["links", "all"]) == PROJECTIONS
    with pytest.raises(UnknownProjection, match=r"unknown projection linkz: links, customers"):
        projections_named(["links", "linkz"])
    assert consumer_name((links.project, customers.project)) == "qbsync-replay:links+customers"


def test_a_projector_folds_only_its_projections(db: ProjectionDb) -> None:
    projector = Projector(db, "only-links", (links.project,))
    made = event("qbsync.decision.link.made.v1")
    projector.apply_batch(
        [
            (qbo_customer_changed("58", "3"), Position("qbo", 0, 0, CLUSTER)),
            (made, Position("decisions", 0, 0, CLUSTER)),
        ]
    )
    filled = {name for name, rows in dump(db).items() if rows}
    assert filled == {"proj_links", "proj_conflicts", "proj_decisions_seen", "proj_positions"}


def _hold(db: ProjectionDb, consumer: str, cluster: str = CLUSTER) -> None:
    Projector(db, consumer).apply(None, Position("t", 0, 5, cluster))


def test_a_database_is_built_resumed_or_refused_by_what_it_holds(db: ProjectionDb) -> None:
    mine = "qbsync-replay:links+customers"
    assert _plan(db, mine, CLUSTER, rebuild=False).mode == "rebuild", "a fresh one is built"
    _hold(db, mine)
    assert _plan(db, mine, CLUSTER, rebuild=False).mode == "resume"
    rebuild = _plan(db, mine, CLUSTER, rebuild=True)
    assert (rebuild.mode, rebuild.previous) == ("rebuild", (links.project, customers.project))
    with pytest.raises(TargetRefused, match="holds a replay of links\\+customers from cluster"):
        _plan(db, "qbsync-replay:links", CLUSTER, rebuild=False)
    with pytest.raises(TargetRefused, match="from cluster cluster-1, not of"):
        _plan(db, mine, "cluster-2", rebuild=False)
    other = _plan(db, "qbsync-replay:imports", CLUSTER, rebuild=True)
    assert other.previous == (links.project, customers.project), "their tables are emptied"
    _hold(db, "qbsync-projections")
    with pytest.raises(TargetRefused, match="qbsync-projections: it is a live projections"):
        _plan(db, mine, CLUSTER, rebuild=True)


def test_a_rebuild_empties_its_tables_and_positions_and_records_where_it_starts(
    db: ProjectionDb,
) -> None:
    Projector(db, "qbsync-replay:links+customers").apply_batch(
        [
            (qbo_customer_changed("58", "3"), Position("qbo", 0, 0, CLUSTER)),
            (event("qbsync.decision.link.made.v1"), Position("decisions", 0, 0, CLUSTER)),
            (event("qbsync.decision.import.started.v1"), Position("decisions", 0, 1, CLUSTER)),
        ]
    )
    assert dump(db)["proj_imports"], "folded by every projection"
    starts = {TopicPartition("decisions", 0): 7, TopicPartition("decisions", 1): 0}
    _clear(db, (links.project,), "qbsync-replay:links", CLUSTER, starts)
    after = dump(db)
    emptied = {"proj_links", "proj_conflicts", "proj_decisions_seen"}
    assert {name for name in emptied if after[name]} == set()
    assert after["proj_qbo_customers"] and after["proj_imports"], "other tables are left alone"
    # partition 1 starts at its first offset: -1, which `positions` leaves out (none yet)
    assert Projector(db, "qbsync-replay:links").positions(CLUSTER) == {("decisions", 0): 6}
    assert Projector(db, "qbsync-replay:links+customers").positions(CLUSTER) == {}


def _record(timestamp: int | None, value: bytes) -> ConsumerRecord[bytes, bytes]:
    stamp: Any = timestamp  # a record without a timestamp, as old message formats give
    return ConsumerRecord("t", 0, 0, stamp, 0, b"acme-co", value, None, 0, len(value), ())


def test_since_compares_the_kafka_timestamp_else_the_events_own_time() -> None:
    since_ms = int(datetime(2026, 11, 24, 21, 3, tzinfo=UTC).timestamp() * 1000)
    made = encode(event("qbsync.decision.link.made.v1"))  # time 21:02:12
    assert _before_since(_record(since_ms - 1, made), since_ms)
    assert not _before_since(_record(since_ms, made), since_ms)
    assert _before_since(_record(-1, made), since_ms)
    later = encode(event("qbsync.decision.link.made.v1", time="2026-11-24T21:04:00Z"))
    assert not _before_since(_record(None, later), since_ms)


def test_the_command_reads_since_and_projection_names() -> None:
    assert parse_since("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_since("2026-11-01T10:00:00Z") == datetime(2026, 11, 1, 10, tzinfo=UTC)
    assert parse_since("2026-11-01T12:00:00+02:00") == datetime(2026, 11, 1, 10, tzinfo=UTC)
    with pytest.raises(typer.BadParameter, match="is not a time"):
        parse_since("yesterday")
    assert projection_names(None) == ["all"]
    assert projection_names(["links,customers", "imports"]) == ["links", "customers", "imports"]
    with pytest.raises(typer.BadParameter, match="unknown projection nope"):
        projection_names(["links", "nope"])
