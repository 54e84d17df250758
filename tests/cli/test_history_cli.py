"""`qbsync history` and `qbsync restore --dry-run` through typer's CliRunner, on a projections
database fed the demo's Jane Smith story (no broker: both read the history projection)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from projections.db import ProjectionDb
from projections.projector import Projector
from qbsync.cli import app
from qbsync.follow import EXIT_USAGE
from qbsync.history_cli import EXIT_NOT_FOUND
from tests.projections.events import Feed
from tests.projections.test_history import T0, TENANT, _linked_story


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/projections.db"
    db = ProjectionDb.open(url)
    try:
        Feed(Projector(db))(*_linked_story())
    finally:
        db.close()
    return url


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), terminal_width=200)


def words(output: str) -> str:
    """The output's text without rich's boxes and line wrapping."""
    return " ".join(re.sub(r"[│┃╭╮╰╯─━┏┓┗┛┡┩└┘┌┐├┤┼╇╈╋┠┨┯┷]", " ", output).split())


def test_history_prints_the_timeline_with_the_cause_of_the_cleared_phone(db_url):
    result = invoke("history", "person", "4211", "--tenant", TENANT, "--db", db_url, "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    [write] = [e for e in found["entries"] if e["event_id"] == "dec-synced"]
    assert {"field": "phone", "before": "555-1234", "after": None} in write["changes"]
    assert write["cause"]["type"] == "qbsync.qbo.customer.changed.v1"


def test_history_as_of_shows_the_record_then_and_the_table_names_the_fields(db_url):
    when = (T0 + timedelta(minutes=5)).isoformat()
    result = invoke(
        "history", "person", "4211", "--tenant", TENANT, "--db", db_url, "--as-of", when
    )
    assert result.exit_code == 0, result.output
    assert '"phone": "555-1234"' in result.output
    full = invoke("history", "person", "4211", "--tenant", TENANT, "--db", db_url)
    text = words(full.output)
    assert "phone: '555-1234' → ∅" in text or ("phone:" in text and "'555-1234' → ∅" in text)


def test_history_of_an_unknown_record_or_another_tenant_exits_4(db_url):
    for tenant, record in ((TENANT, "999"), ("beta-co", "4211")):
        result = invoke("history", "person", record, "--tenant", tenant, "--db", db_url)
        assert result.exit_code == EXIT_NOT_FOUND
        assert "no history" in result.output


def test_history_refuses_a_time_it_cannot_read_naming_the_option(db_url):
    result = invoke(
        "history", "person", "4211", "--tenant", TENANT, "--db", db_url, "--as-of", "soon"
    )
    assert result.exit_code == EXIT_USAGE
    assert "--as-of" in result.output


def test_restore_dry_run_prints_the_plan_and_sends_nothing(db_url, monkeypatch):
    monkeypatch.delenv("QBSYNC_KAFKA_BOOTSTRAP", raising=False)  # a send would need it
    when = (T0 + timedelta(minutes=5)).isoformat()
    args = ["--tenant", TENANT, "--user-id", "1", "--admin", "--to", when, "--db", db_url]
    result = invoke("restore", *args, "--person", "4211", "--only-cleared", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["dry_run"] is True and "request_ids" not in answer
    [person] = answer["plan"]["people"]
    assert {c["field"] for c in person["changes"]} == {"phone", "website"}


def test_restore_needs_exactly_one_scope(db_url):
    args = ["--tenant", TENANT, "--user-id", "1", "--to", T0.isoformat(), "--db", db_url]
    none = invoke("restore", *args, "--dry-run")
    both = invoke("restore", *args, "--person", "1", "--customer", "2", "--dry-run")
    for result in (none, both):
        assert result.exit_code == EXIT_USAGE
        assert "exactly one of --person, --customer, --qbo-change, --import" in words(result.output)
