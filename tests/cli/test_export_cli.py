"""`qbsync export` through typer's CliRunner: usage errors name their option and exit 2 before
Kafka is needed; on the session's broker it writes the files and prints its summary."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from aiokafka import AIOKafkaProducer
from typer.testing import CliRunner

from projections.export import ExportFormat
from qbsync.cli import app
from qbsync.export_cli import Format, default_out, parse_since
from qbsync.follow import EXIT_FAILED, EXIT_USAGE
from schemas.catalog import encode
from schemas.topics import TOPICS
from streams.admin import ensure_topics
from tests.projections.events import TOPIC_OF
from tests.projections.export_events import EXPECTED_CHANGES, history


def invoke(*args: str):
    return CliRunner().invoke(app, ["export", *args], terminal_width=200)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xlsx", "--tenant", "acme-co"], "Invalid value for '--format'"),
        (["--tenant", "acme-co"], "Missing option '--format'"),
        (["--format", "csv", "--tenant", "acme co"], "Invalid value for '--tenant'"),
        (
            ["--format", "csv", "--tenant", "acme-co", "--since", "last tuesday"],
            "Invalid value for '--since': 'last tuesday' is not an ISO 8601 date",
        ),
    ],
)
def test_usage_errors_exit_2_naming_the_option(args, message, monkeypatch, tmp_path):
    monkeypatch.delenv("QBSYNC_KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.chdir(tmp_path)
    result = invoke(*args)
    assert result.exit_code == EXIT_USAGE, result.output
    assert message in result.output
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_an_out_directory_holding_the_files_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("QBSYNC_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    (tmp_path / "events.csv").write_text("mine")
    result = invoke("--format", "csv", "--tenant", "acme-co", "--out", str(tmp_path))
    assert result.exit_code == EXIT_USAGE, result.output
    assert "Invalid value for '--out'" in result.output and "events.csv" in result.output
    assert (tmp_path / "events.csv").read_text() == "mine"


def test_without_a_bootstrap_the_command_exits_2(monkeypatch, tmp_path):
    monkeypatch.delenv("QBSYNC_KAFKA_BOOTSTRAP", raising=False)
    result = invoke("--format", "csv", "--tenant", "acme-co", "--out", str(tmp_path))
    assert result.exit_code == EXIT_USAGE
    assert "QBSYNC_KAFKA_BOOTSTRAP is not set" in result.output


def test_an_unreachable_broker_exits_1_saying_so_and_leaves_no_files(monkeypatch, tmp_path):
    monkeypatch.setenv("QBSYNC_KAFKA_BOOTSTRAP", "127.0.0.1:1")  # nothing listens there
    result = invoke("--format", "sqlite", "--tenant", "acme-co", "--out", str(tmp_path / "x"))
    assert result.exit_code == EXIT_FAILED, result.output
    assert "cannot reach the Kafka broker at 127.0.0.1:1" in result.output
    assert not (tmp_path / "x").exists()


def test_the_options_parse_as_documented():
    assert {f.value for f in Format} == {f.value for f in ExportFormat}
    assert parse_since("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_since("2026-11-01T09:00:00-05:00") == datetime(2026, 11, 1, 14, tzinfo=UTC)
    assert parse_since("2026-11-01T09:00:00Z") == datetime(2026, 11, 1, 9, tzinfo=UTC)
    now = datetime(2026, 11, 25, 8, 0, 1, tzinfo=UTC)
    assert default_out("acme-co", now) == Path("qbsync-export-acme-co-20261125T080001Z")


async def _publish(bootstrap: str, tenant: str) -> int:
    await ensure_topics(bootstrap, TOPICS, clamp_replication=True)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        events = history(tenant)
        for item in events:
            await producer.send_and_wait(
                TOPIC_OF[item.type], encode(item), key=item.tenant.encode()
            )
        return len(events)
    finally:
        await producer.stop()


@pytest.mark.broker
def test_the_command_exports_parquet_to_the_default_directory_and_prints_json(
    kafka_bootstrap, monkeypatch, tmp_path
):
    tenant = f"exp-cli-{uuid.uuid4().hex[:8]}"
    published = asyncio.run(_publish(kafka_bootstrap, tenant))
    monkeypatch.setenv("QBSYNC_KAFKA_BOOTSTRAP", kafka_bootstrap)
    monkeypatch.chdir(tmp_path)

    result = invoke("--format", "parquet", "--tenant", tenant, "--json")

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    [directory] = list(tmp_path.iterdir())
    assert directory.name.startswith(f"qbsync-export-{tenant}-")
    assert summary["directory"] == directory.name
    assert (summary["events"], summary["field_changes"]) == (published, len(EXPECTED_CHANGES))
    events = duckdb.sql(f"select count(*) from '{directory}/events.parquet'").fetchall()
    assert events == [(published,)]

    again = invoke("--format", "csv", "--tenant", tenant, "--out", str(directory))
    assert again.exit_code == 0, again.output
    assert f"exported {published} events and {len(EXPECTED_CHANGES)} field changes" in (
        again.stdout
    )
    counts = duckdb.sql(f"select count(*) from read_csv_auto('{directory}/events.csv')").fetchall()
    assert counts == [(published,)]
