"""`qbsync import` on a real Kafka-protocol broker: it publishes an ImportRequested and follows the
decisions about *its* request (not older ones, not other requests) to the summary; a denial or a
failure exits non-zero. The engine's side is played by a small responder on the same broker."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import typer
from aiokafka import AIOKafkaConsumer, TopicPartition
from typer.testing import CliRunner

from adapters.kafka import KafkaPublisher
from qbsync.import_cli import EXIT_DENIED, import_command, import_request, request_import
from schemas.catalog import decode
from schemas.decisions import (
    ImportFinished,
    ImportFinishedData,
    ImportProgressed,
    ImportProgressedData,
    ImportStarted,
    ImportStartedData,
    RequestDenied,
    RequestDeniedData,
)
from schemas.envelope import Envelope
from schemas.imports import ImportSummary
from schemas.requests import Actor, ImportRequested
from schemas.topics import DECISIONS_TOPIC, REQUESTS
from streams.admin import ensure_topics

pytestmark = pytest.mark.broker
SUMMARY = ImportSummary(
    customers_read=3, linked_existing=1, people_created=1, companies_created=0, skipped=(),
    ambiguous=(), conflicts=(), invoices_imported=2, estimates_imported=0, errors=(),
    duration_s=1.5, api_calls=9,
)  # fmt: skip


def _meta(request: ImportRequested, action: str) -> dict:
    return {
        "id": f"{request.id}-{action}",
        "source": "/test/engine",
        "time": datetime.now(UTC),
        "tenant": request.tenant,
    }


def finishes(request: ImportRequested) -> list[Envelope]:
    rid = request.id
    return [
        ImportStarted(
            **_meta(request, "started"), data=ImportStartedData(request_id=rid, requested_by=7)
        ),
        ImportProgressed(
            **_meta(request, "progress"),
            data=ImportProgressedData(request_id=rid, counts={"processed": 1}, total=2),
        ),
        ImportFinished(
            **_meta(request, "finished"), data=ImportFinishedData(request_id=rid, summary=SUMMARY)
        ),
    ]


def denies(request: ImportRequested) -> list[Envelope]:
    return [
        RequestDenied(
            **_meta(request, "denied"),
            data=RequestDeniedData(
                input_id=request.id,
                input_type=request.type,
                code="not_allowed",
                reason="user 8 is not an admin; only admins may import",
                actor_user_id=8,
            ),
        )
    ]


async def respond(
    bootstrap: str, tenant: str, answer: Callable[[ImportRequested], list[Envelope]]
) -> ImportRequested:
    """Wait for the tenant's ImportRequested; publish an old decision of another request, then
    the answer."""
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
                    event = decode(record.value)
                    if isinstance(event, ImportRequested) and event.tenant == tenant:
                        publisher = KafkaPublisher(bootstrap)
                        await publisher.start()
                        other = event.model_copy(update={"id": str(uuid.uuid4())})
                        for output in [*finishes(other), *answer(event)]:
                            await publisher.publish(DECISIONS_TOPIC, output)
                        await publisher.stop()
                        return event
    finally:
        await consumer.stop()


@pytest.fixture(scope="module")
async def bootstrap(kafka_bootstrap):
    await ensure_topics(kafka_bootstrap, [REQUESTS.sized(3, 1), DECISIONS_TOPIC.sized(3, 1)])
    return kafka_bootstrap


async def test_the_import_is_followed_from_request_to_summary(bootstrap):
    tenant = f"cli-{uuid.uuid4().hex[:8]}"
    request = import_request(tenant, Actor(user_id=7, is_admin=True), dry_run=False)
    seen: list[Envelope] = []
    responder = asyncio.create_task(respond(bootstrap, tenant, finishes))

    result = await asyncio.wait_for(
        request_import(bootstrap, request, timeout_s=30, on_update=seen.append), 40
    )

    asked = await responder
    assert asked.id == request.id and asked.data.actor.user_id == 7
    assert (result.status, result.summary, result.exit_code) == ("finished", SUMMARY, 0)
    assert [type(event) for event in seen] == [ImportStarted, ImportProgressed, ImportFinished]
    assert all(event.data.request_id == request.id for event in seen)


def _run_cli(bootstrap: str, monkeypatch, args: list[str], answer) -> typer.testing.Result:
    tenant = args[args.index("--tenant") + 1]
    answered: list[ImportRequested] = []
    thread = threading.Thread(
        target=lambda: answered.append(asyncio.run(respond(bootstrap, tenant, answer))),
        daemon=True,
    )
    thread.start()
    monkeypatch.setenv("QBSYNC_KAFKA_BOOTSTRAP", bootstrap)
    app = typer.Typer()
    app.command("import")(import_command)
    app.callback()(lambda: None)
    result = CliRunner().invoke(app, ["import", *args])
    thread.join(timeout=30)
    assert answered, "the responder saw no request"
    return result


def test_the_cli_prints_the_summary_as_json(bootstrap, monkeypatch):
    tenant = f"cli-{uuid.uuid4().hex[:8]}"
    args = ["--tenant", tenant, "--user-id", "7", "--json", "--timeout", "30"]

    result = _run_cli(bootstrap, monkeypatch, args, finishes)

    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["status"] == "finished" and printed["summary"]["api_calls"] == 9


def test_the_cli_says_why_it_was_denied_and_exits_non_zero(bootstrap, monkeypatch):
    tenant = f"cli-{uuid.uuid4().hex[:8]}"
    args = ["--tenant", tenant, "--user-id", "8", "--not-admin", "--timeout", "30"]

    result = _run_cli(bootstrap, monkeypatch, args, denies)

    assert result.exit_code == EXIT_DENIED
    assert "denied" in result.stdout and "only admins may import" in result.stdout
