"""`qbsync invoice|estimate` end to end through a real Kafka-protocol broker.

The command publishes its request to `qbsync.requests.v1` and follows `qbsync.decisions.v1` and
`qbsync.outcomes.v1` for the answer about *its* request. The engine's side is a small fake on the
same broker: it waits for the test's request, publishes another request's answers first (which
the command must ignore), then the answer the test chose: created, sent, converted, denied,
ignored, failed, or nothing more than "applied" (the command times out). Each exit code and what
the command prints is checked."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from typer.testing import CliRunner

from adapters.kafka import KafkaPublisher
from qbsync.cli import app
from qbsync.follow import EXIT_DENIED, EXIT_FAILED, EXIT_TIMEOUT
from schemas.catalog import decode
from schemas.envelope import Envelope
from schemas.requests import (
    DocumentSendRequested,
    EstimateConvertRequested,
    EstimateCreateRequested,
    InvoiceCreateRequested,
)
from schemas.topics import DECISIONS_TOPIC, OUTCOMES_TOPIC, REQUESTS, topic_for
from streams.admin import ensure_topics
from tests.cli import answers

pytestmark = pytest.mark.broker
Answer = Callable[[Envelope], list[Envelope]]


def noise(request: Envelope) -> list[Envelope]:
    """Every kind of answer, about another request of the same tenant."""
    other = request.model_copy(update={"id": str(uuid.uuid4())})
    events: list[Envelope] = [answers.denied(other), answers.ignored(other), answers.failed(other)]
    if isinstance(other, InvoiceCreateRequested | EstimateCreateRequested):
        events.append(answers.created(other))
    return events


async def fake_engine(
    bootstrap: str, tenant: str, answer: Answer, noise_for: Answer | None = None
) -> Envelope:
    """Wait for the tenant's request; publish another request's answers (`noise_for`, default
    `noise`), then `answer`'s."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, fetch_max_wait_ms=100
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(REQUESTS.name) or set()
        if not partitions:
            await consumer.topics()
            partitions = consumer.partitions_for_topic(REQUESTS.name) or set()
        consumer.assign([TopicPartition(REQUESTS.name, p) for p in partitions])
        await consumer.seek_to_beginning()
        while True:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    request = decode(record.value)
                    if request.tenant != tenant:
                        continue
                    assert record.key == tenant.encode()  # keyed by tenant
                    publisher = KafkaPublisher(bootstrap)
                    await publisher.start()
                    for event in [*(noise_for or noise)(request), *answer(request)]:
                        await publisher.publish(topic_for(type(event)), event)
                    await publisher.stop()
                    return request
    finally:
        await consumer.stop()


@pytest.fixture(scope="module")
async def bootstrap(kafka_bootstrap):
    topics = (REQUESTS, DECISIONS_TOPIC, OUTCOMES_TOPIC)
    await ensure_topics(kafka_bootstrap, [topic.sized(3, 1) for topic in topics])
    return kafka_bootstrap


class Run:
    """One command run against the fake engine: its result and the request the engine saw."""

    def __init__(
        self, bootstrap: str, monkeypatch, args: list[str], answer: Answer, timeout: int = 30
    ) -> None:
        self.tenant = f"doc-{uuid.uuid4().hex[:8]}"
        seen: list[Envelope] = []
        engine = threading.Thread(
            target=lambda: seen.append(asyncio.run(fake_engine(bootstrap, self.tenant, answer))),
            daemon=True,
        )
        engine.start()
        monkeypatch.setenv("QBSYNC_KAFKA_BOOTSTRAP", bootstrap)
        args = [*args, "--tenant", self.tenant, "--timeout", str(timeout)]
        self.result = CliRunner().invoke(app, args)
        engine.join(timeout=30)
        assert seen, f"the engine saw no request; the command said: {self.result.output}"
        self.request = seen[0]
        self.lines = self.result.stdout.splitlines()

    @property
    def exit_code(self) -> int:
        return self.result.exit_code


def applied_then(*then: Callable[[Envelope], Envelope]) -> Answer:
    return lambda request: [answers.applied(request), *(make(request) for make in then)]


INVOICE = ["invoice", "create", "--user-id", "8", "--deal", "9", "--person", "42"]
ESTIMATE = ["estimate", "create", "--user-id", "8", "--deal", "9", "--person", "42"]
LINES = ["--line", "5:10:150:On-site consulting: day 1", "--line", "7:1:0"]


def test_an_invoice_is_created_and_sent(bootstrap, monkeypatch):
    args = [*INVOICE, *LINES, "--send", "--send-to", "x@y.example", "--date", "2026-11-24"]

    run = Run(bootstrap, monkeypatch, args, applied_then(answers.created))

    assert run.exit_code == 0, run.result.output
    request = run.request
    assert isinstance(request, InvoiceCreateRequested)
    assert run.lines == [
        f"request {request.id}",
        "invoice 1038 (QBO id 130) for customer 58, person 42, deal 9: total 1,500.00; "
        "sent to x@y.example",
    ]
    data = request.data
    assert (data.actor.user_id, data.actor.is_admin) == (8, False)  # --basic by default
    assert (data.deal_id, data.person_id, data.txn_date) == (9, 42, "2026-11-24")
    assert (data.send_now, data.send_to) == (True, "x@y.example")
    assert [
        (line.item_id, line.quantity, line.unit_price, line.description) for line in data.lines
    ] == [
        ("5", Decimal(10), Decimal(150), "On-site consulting: day 1"),
        ("7", Decimal(1), Decimal(0), None),
    ]


def test_an_estimate_is_created_and_printed_as_one_json_object(bootstrap, monkeypatch):
    args = [*ESTIMATE, *LINES, "--admin", "--json"]

    run = Run(bootstrap, monkeypatch, args, applied_then(answers.created))

    assert run.exit_code == 0, run.result.output
    assert isinstance(run.request, EstimateCreateRequested)
    assert run.request.data.actor.is_admin is True
    printed = json.loads(run.result.stdout)  # stdout is the JSON object, nothing else
    assert printed["request_id"] == run.request.id
    assert (printed["command"], printed["status"], printed["exit_code"]) == (
        "estimate create",
        "created",
        0,
    )
    assert printed["document"]["type"] == "estimate"
    assert printed["document"]["doc_number"] == "1038"
    assert printed["command_ids"] == [answers.command_id(run.request)]


def test_a_document_is_sent(bootstrap, monkeypatch):
    args = ["invoice", "send", "--user-id", "8", "--id", "130", "--send-to", "x@y.example"]

    run = Run(bootstrap, monkeypatch, args, applied_then(answers.sent))

    assert run.exit_code == 0, run.result.output
    assert isinstance(run.request, DocumentSendRequested)
    assert (run.request.data.document_type, run.request.data.qbo_id) == ("invoice", "130")
    assert run.lines[-1] == "invoice 1038 (QBO id 130) for customer 58 sent to x@y.example"


def test_an_estimate_is_converted_under_the_request_id_given(bootstrap, monkeypatch):
    request_id = f"convert-{uuid.uuid4()}"
    args = ["estimate", "convert", "--user-id", "7", "--admin", "--id", "101"]

    run = Run(
        bootstrap, monkeypatch, [*args, "--request-id", request_id], applied_then(answers.converted)
    )

    assert run.exit_code == 0, run.result.output
    assert isinstance(run.request, EstimateConvertRequested)
    assert (run.request.id, run.request.data.estimate_id) == (request_id, "101")
    assert run.lines == [
        f"request {request_id}",
        "estimate 1001 converted to invoice 1039 (QBO id 131) for customer 58: "
        "total 1,500.00; estimate is Closed",
    ]


def test_a_denied_request_says_why_and_exits_3(bootstrap, monkeypatch):
    run = Run(bootstrap, monkeypatch, [*INVOICE, *LINES], lambda r: [answers.denied(r)])

    assert run.exit_code == EXIT_DENIED
    assert run.lines[-1] == f"invoice create denied (not_allowed): {answers.DENIAL}"


def test_an_ignored_request_says_why_and_exits_3(bootstrap, monkeypatch):
    run = Run(bootstrap, monkeypatch, [*ESTIMATE, *LINES], lambda r: [answers.ignored(r)])

    assert run.exit_code == EXIT_DENIED
    assert run.lines[-1] == (
        f"estimate create not done (not_installed): tenant {run.tenant} is not installed"
    )


def test_a_failed_qbo_call_says_why_and_exits_1(bootstrap, monkeypatch):
    def fails(request: Envelope) -> list[Envelope]:
        # known by the applied command id: the outcome does not carry the request's correlation
        return [answers.applied(request), answers.failed(request, correlated=False)]

    run = Run(bootstrap, monkeypatch, [*INVOICE, *LINES, "--json"], fails)

    assert run.exit_code == EXIT_FAILED
    printed = json.loads(run.result.stdout)
    assert (printed["status"], printed["code"]) == ("failed", "6000")
    assert printed["reason"] == answers.QBO_FAILURE


def test_no_answer_in_time_exits_4_and_says_how_to_retry(bootstrap, monkeypatch):
    run = Run(bootstrap, monkeypatch, [*INVOICE, *LINES], lambda r: [answers.applied(r)], timeout=2)

    assert run.exit_code == EXIT_TIMEOUT, run.result.output
    assert "no answer from QuickBooks within" in run.lines[-1]
    assert f"--request-id {run.request.id}" in run.lines[-1]


def test_no_wait_publishes_the_request_and_exits_0(bootstrap, monkeypatch):
    run = Run(bootstrap, monkeypatch, [*INVOICE, *LINES, "--no-wait"], lambda r: [])

    assert run.exit_code == 0, run.result.output
    assert run.lines == [f"request {run.request.id}", f"invoice create requested: {run.request.id}"]


def test_the_installed_qbsync_command_runs_it(bootstrap):
    """The real entry point, in a process of its own."""
    tenant = f"doc-{uuid.uuid4().hex[:8]}"
    seen: list[Envelope] = []
    engine = threading.Thread(
        target=lambda: seen.append(
            asyncio.run(fake_engine(bootstrap, tenant, applied_then(answers.created)))
        ),
        daemon=True,
    )
    engine.start()
    qbsync = Path(sys.executable).parent / "qbsync"
    args = [*INVOICE, *LINES, "--tenant", tenant, "--timeout", "30", "--json"]
    env = os.environ | {"QBSYNC_KAFKA_BOOTSTRAP": bootstrap}

    done = subprocess.run([str(qbsync), *args], env=env, capture_output=True, text=True, timeout=60)

    engine.join(timeout=30)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["status"] == "created" and printed["request_id"] == seen[0].id
    assert f"request {seen[0].id}" in done.stderr  # with --json the id goes to stderr
