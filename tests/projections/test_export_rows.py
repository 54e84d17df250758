"""The export's rows and writers without a broker: events become `events` and `field_changes`
rows; Parquet, CSV and SQLite files hold them with their documented columns and types."""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from projections.export.rows import (
    TABLES,
    EventRow,
    FieldChangeRow,
    FieldChanges,
    Where,
    event_row,
)
from projections.export.writers import ExportFormat, file_names, open_writer
from tests.projections.events import event
from tests.projections.export_events import EXPECTED_CHANGES, history, person_changed

DOCS = Path(__file__).parents[2] / "docs" / "export.md"


def rows_of(events: list) -> tuple[list[EventRow], list[FieldChangeRow]]:
    changes = FieldChanges()
    event_rows, change_rows = [], []
    for offset, item in enumerate(events):
        event_rows.append(event_row(item, Where("qbsync.test.v1", 3, offset)))
        change_rows += changes.rows_of(item)
    return event_rows, change_rows


def as_tuples(rows: list[FieldChangeRow]) -> list[tuple]:
    return [(r.record_kind, r.record_id, r.source, r.field, r.before, r.after) for r in rows]


def test_an_event_row_is_the_envelope_at_its_position():
    item = event(
        "qbsync.decision.link.synced.v1",
        tenant="rows-a",
        correlationid="flow-1",
        time="2026-11-24T16:02:12-05:00",
    )
    row = event_row(item, Where("qbsync.decisions.v1", 5, 1234))
    assert (row.tenant, row.topic, row.kafka_partition, row.kafka_offset) == (
        "rows-a",
        "qbsync.decisions.v1",
        5,
        1234,
    )
    assert (row.event_id, row.type, row.source, row.subject) == (
        item.id,
        "qbsync.decision.link.synced.v1",
        "/qbsync/engine",
        "crm/person/4211",
    )
    assert row.time == datetime(2026, 11, 24, 21, 2, 12, tzinfo=UTC)
    assert row.time.tzinfo is UTC
    assert (row.correlation_id, row.causation_id) == ("flow-1", "qbo-customer-58-v5")
    assert json.loads(row.data_json) == item.data.model_dump(mode="json")


def test_a_known_history_gives_one_row_per_field_change():
    _, changes = rows_of(history("rows-b"))
    assert as_tuples(changes) == EXPECTED_CHANGES
    phone = changes[0]
    assert phone.event_id == "rows-b-crm-person-4211-1"
    assert phone.event_type == "qbsync.crm.person.changed.v1"
    assert (phone.cause_id, phone.cause_kind, phone.command_id) == (phone.event_id, "event", None)
    assert phone.summary == "person changed in the CRM"
    synced = changes[1]
    assert synced.command_id == "5b1e2f0a-8d7c-5e3b-9a61-2c4d8e0f1a22"
    assert (synced.cause_id, synced.cause_kind) == ("qbo-customer-58-v5", "event")


def test_an_event_delivered_again_later_changes_nothing():
    tenant = "rows-c"
    first, second, third = (
        person_changed(tenant, 0, phone="555-1234"),
        person_changed(tenant, 1, phone="555-9999"),
        person_changed(tenant, 2, phone="555-7777"),
    )
    _, changes = rows_of([first, second, third, second, first])
    assert [(r.before, r.after) for r in changes] == [
        ("555-1234", "555-9999"),
        ("555-9999", "555-7777"),
    ]


def test_a_deleted_record_is_seen_afresh():
    tenant = "rows-d"
    deleted = event("qbsync.crm.person.deleted.v1", tenant=tenant, id=f"{tenant}-deleted")
    _, changes = rows_of(
        [
            person_changed(tenant, 0, phone="555-1234"),
            deleted,
            person_changed(tenant, 1, phone="555-9999"),  # no before: first seen again
        ]
    )
    assert changes == []


def test_the_docs_describe_every_column_of_both_tables():
    text = DOCS.read_text()
    for table, cols in TABLES.items():
        section = text.split(f"## `{table}`", 1)[1].split("\n## ", 1)[0]
        for column in cols:
            [line] = [x for x in section.splitlines() if x.startswith(f"| `{column.name}` |")]
            documented_type = line.split("|")[2].strip()
            assert documented_type.startswith(column.type), (table, column.name)
            assert documented_type.endswith(", null") == column.nullable, (table, column.name)


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_a_writer_writes_both_tables_in_batches_and_duckdb_reads_them(
    fmt: ExportFormat, tmp_path: Path
):
    events, changes = rows_of(history("rows-e"))
    writer = open_writer(fmt, tmp_path)
    writer.write(events[:4], changes[:1])
    writer.write([], [])
    writer.write(events[4:], changes[1:])
    written = writer.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(file_names(fmt))
    assert sorted(written) == sorted(tmp_path / name for name in file_names(fmt))
    con = duckdb.connect()
    if fmt is ExportFormat.sqlite:
        db = sqlite3.connect(tmp_path / "history.sqlite")
        count = lambda table: db.execute(f"select count(*) from {table}").fetchone()[0]  # noqa: E731
        indexes = {r[0] for r in db.execute("select name from sqlite_master where type='index'")}
        assert {"events_event_id", "field_changes_event_id", "field_changes_record"} <= indexes
        fields = db.execute(
            "select field, before, after from field_changes"
            " where record_kind = 'person' and record_id = '4211' order by time, rowid"
        ).fetchall()
        assert fields == [
            ("phone", "555-1234", "555-9999"),
            ("first_name", "John", "Jane"),
            ("phone", "555-1234", None),
        ]
        first = db.execute("select time from events order by time limit 1").fetchone()[0]
        assert first == "2026-11-24T21:00:00.000000Z"
        assert db.execute("select datetime(?)", (first,)).fetchone()[0] == "2026-11-24 21:00:00"
    else:
        read = "read_parquet" if fmt is ExportFormat.parquet else "read_csv_auto"
        count = lambda table: con.sql(  # noqa: E731
            f"select count(*) from {read}('{tmp_path / f'{table}.{fmt.value}'}')"
        ).fetchall()[0][0]
        kinds = con.sql(
            f"select typeof(time), typeof(kafka_offset) from {read}('{tmp_path}/events.{fmt}')"
        ).fetchall()[0]
        assert kinds[0] == "TIMESTAMP WITH TIME ZONE"
    assert count("events") == 9
    assert count("field_changes") == len(EXPECTED_CHANGES)


def test_the_parquet_schema_is_explicit_and_documented(tmp_path: Path):
    writer = open_writer(ExportFormat.parquet, tmp_path)
    writer.commit()  # no rows: the files still have their schema
    events = pq.read_schema(tmp_path / "events.parquet")
    assert events.field("time").type == pa.timestamp("us", tz="UTC")
    assert events.field("kafka_offset").type == pa.int64()
    assert events.field("kafka_partition").type == pa.int32()
    assert not events.field("event_id").nullable and events.field("subject").nullable
    assert events.field("event_id").metadata[b"description"].startswith(b"the event id")
    changes = pq.read_schema(tmp_path / "field_changes.parquet")
    assert changes.names == [c.name for c in TABLES["field_changes"]]
    assert pq.read_table(tmp_path / "field_changes.parquet").num_rows == 0


def test_csv_files_are_rfc_4180_utf8_with_a_header(tmp_path: Path):
    tenant = "rows-f"
    awkward = 'Zoë "the, one"\nand two'
    items = [
        person_changed(tenant, 0, phone="555-1234"),
        person_changed(tenant, 1, phone="555-1234", first_name=awkward),
    ]
    events, changes = rows_of(items)
    writer = open_writer(ExportFormat.csv, tmp_path)
    writer.write(events, changes)
    writer.commit()
    raw = (tmp_path / "field_changes.csv").read_bytes()
    header = ",".join(c.name for c in TABLES["field_changes"])
    assert raw.startswith(header.encode() + b"\r\n")
    assert raw.endswith(b"\r\n")
    assert '"Zoë ""the, one""\nand two"'.encode() in raw
    with (tmp_path / "field_changes.csv").open(encoding="utf-8", newline="") as f:
        [row] = list(csv.DictReader(f))
    assert (row["field"], row["before"], row["after"]) == ("first_name", "John", awkward)
    assert row["command_id"] == ""  # null
    assert row["time"] == "2026-11-24T21:02:11.000000Z"  # the golden event's
    after = duckdb.sql(f"select after from read_csv_auto('{tmp_path}/field_changes.csv')")
    assert after.fetchall() == [(awkward,)]


def test_an_aborted_export_leaves_no_files(tmp_path: Path):
    for fmt in ExportFormat:
        made, there = tmp_path / f"made-{fmt}", tmp_path / f"there-{fmt}"
        there.mkdir()
        for directory in (made, there):
            writer = open_writer(fmt, directory)
            writer.write(*rows_of(history("rows-g")))
            writer.abort()
        assert not made.exists(), "the directory made for the export is removed"
        assert list(there.iterdir()) == []
