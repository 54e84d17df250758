"""`qbsync restore` sending its requests through a real Kafka-protocol broker, answered by the
fake engine of the document CLI's tests: the plan comes from a projections database fed the demo's
Jane Smith story, one request goes out per person, and the engine's verdict decides the exit."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from projections.db import ProjectionDb
from projections.projector import Projector
from qbsync.cli import app
from qbsync.follow import EXIT_DENIED
from schemas.envelope import Envelope
from schemas.requests import RestoreRequested
from tests.cli import answers
from tests.cli.test_document_cli_broker import bootstrap, fake_engine
from tests.projections.events import Feed
from tests.projections.test_history import T0, _linked_story

pytestmark = pytest.mark.broker
__all__ = ["bootstrap"]  # the module's broker fixture, shared


def other_requests_answers(request: Envelope) -> list[Envelope]:
    """A denial and an applied about another request of the tenant: the command ignores them."""
    other = request.model_copy(update={"id": str(uuid.uuid4())})
    return [answers.denied(other), answers.applied(other)]


def restore(bootstrap: str, tmp_path: Path, monkeypatch, answer) -> tuple[object, Envelope]:
    tenant = f"rst-{uuid.uuid4().hex[:8]}"
    url = f"sqlite:///{tmp_path}/projections.db"
    db = ProjectionDb.open(url)
    try:
        Feed(Projector(db))(*(e.model_copy(update={"tenant": tenant}) for e in _linked_story()))
    finally:
        db.close()
    seen: list[Envelope] = []
    engine = threading.Thread(
        target=lambda: seen.append(
            asyncio.run(fake_engine(bootstrap, tenant, answer, other_requests_answers))
        ),
        daemon=True,
    )
    engine.start()
    monkeypatch.setenv("QBSYNC_KAFKA_BOOTSTRAP", bootstrap)
    when = (T0 + timedelta(minutes=5)).isoformat()
    args = ["restore", "--tenant", tenant, "--user-id", "1", "--admin", "--to", when]
    result = CliRunner().invoke(
        app, [*args, "--person", "4211", "--only-cleared", "--db", url, "--timeout", "30", "--json"]
    )
    engine.join(timeout=30)
    assert seen, result.output
    return result, seen[0]


def test_a_restore_sends_one_request_with_the_values_and_reports_the_verdict(
    bootstrap, tmp_path, monkeypatch
):
    result, request = restore(bootstrap, tmp_path, monkeypatch, lambda r: [answers.applied(r)])
    assert result.exit_code == 0, result.output
    assert isinstance(request, RestoreRequested)
    assert request.data.values == {"phone": "555-1234", "website": "https://johnsmith.example"}
    answer = json.loads(result.stdout)
    assert answer["verdicts"] == {"4211": "applied (1 command(s))"}


def test_a_denied_restore_exits_3_with_the_reason(bootstrap, tmp_path, monkeypatch):
    result, _ = restore(bootstrap, tmp_path, monkeypatch, lambda r: [answers.denied(r)])
    assert result.exit_code == EXIT_DENIED
    assert json.loads(result.stdout)["verdicts"]["4211"].startswith("denied: ")
