"""The executor step: a command runs once per store however often Kafka delivers it; its outcome
is recorded (outbox + Kafka position) before it is published; bad input is dead-lettered; tenants
run concurrently while positions are recorded in offset order. A real SQLite store throughout;
the crash test runs a real CommandRunner against the real QBO sandbox."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.executor import CommandRunner
from adapters.executor.outcomes import outcome_id, succeeded
from engine.deadletter import RawMessage
from schemas.catalog import decode, encode
from schemas.commands import RunImport, RunImportData
from schemas.deadletter import DeadLettered
from schemas.envelope import Envelope
from schemas.outcomes import CommandFailed, CommandSucceeded
from schemas.topics import COMMANDS_TOPIC, DEAD_LETTER, OUTCOMES_TOPIC
from store import KafkaPosition, QbsyncStore, open_store
from store.outbox import record_outputs
from streams.executor import (
    ExecutorStep,
    Handled,
    ThreadedStore,
    add_executor_agent,
    execute_batch,
    outbox_key,
)
from tests.adapters.executor import builders
from tests.adapters.executor.builders import NOW, TENANT
from tests.adapters.qbo.conftest import REALM, make_adapter, start_sandbox, unique
from tests.support.fakes import RecordingPublisher

CLUSTER = "cluster-1"
TOPIC = COMMANDS_TOPIC.name


def message(command: Envelope | bytes, offset: int, key: bytes | None = None, partition: int = 0):
    value = command if isinstance(command, bytes) else encode(command)
    if key is None:
        key = command.tenant.encode() if isinstance(command, Envelope) else TENANT.encode()
    return RawMessage(TOPIC, partition, offset, key, value)


def a_command(tenant: str = TENANT, person_id: int = 1) -> Envelope:
    return builders.update_person(person_id, {"phone": "555"}, tenant=tenant)


class ScriptedRunner:
    """Succeeds at once, counting runs; `gates` make a tenant's run wait for an event."""

    def __init__(self, gates: dict[str, tuple[asyncio.Event, asyncio.Event]] | None = None):
        self.runs: list[str] = []
        self.gates = gates or {}

    async def run(self, command: Envelope):
        started, wait_for = self.gates.get(command.tenant, (None, None))
        if started is not None:
            started.set()
        if wait_for is not None:
            await wait_for.wait()
        self.runs.append(command.id)
        return succeeded(command, {"person": {"id": 1}}, 1, NOW)


class RaisingRunner:
    async def run(self, command: Envelope):
        raise KeyError("a bug")


class FlakyStore:
    """The real store, but `record` raises the first `failures` times (a crash before record)."""

    def __init__(self, store: QbsyncStore, failures: int = 1) -> None:
        self._store = store
        self.failures = failures

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def record(self, *events: Any, **kwargs: Any) -> bool:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the worker died here")
        return self._store.record(*events, **kwargs)


class BlindStore(FlakyStore):
    """Reads no outbox the first time: another worker records the command meanwhile."""

    def __init__(self, store: QbsyncStore) -> None:
        super().__init__(store, failures=0)
        self.blind = True

    def outbox(self, tenant: str, key: str) -> Any:
        if self.blind:
            self.blind = False
            return None
        return self._store.outbox(tenant, key)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[QbsyncStore]:
    opened = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield opened
    opened.close()


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


def step_for(publisher, store, runner) -> ExecutorStep:
    return ExecutorStep(publisher, ThreadedStore(store), runner, lambda: NOW, CLUSTER)


async def published(publisher: RecordingPublisher) -> list[tuple[str, Envelope]]:
    await publisher.flush()
    return publisher.sent


# -- once per command -----------------------------------------------------------------------
async def test_a_command_delivered_twice_runs_once_and_its_outcome_is_published_each_time(
    publisher, store
):
    runner = ScriptedRunner()
    step = step_for(publisher, store, runner)
    command = a_command()

    first = await step.handle(message(command, 0))
    redelivered = await step.handle(message(command, 0))  # same position, after a crash
    duplicate = await step.handle(message(command, 1))  # the decider published it twice

    assert (first, redelivered, duplicate) == (Handled.EXECUTED, Handled.REPLAYED, Handled.REPLAYED)
    assert runner.runs == [command.id]
    sent = await published(publisher)
    assert [topic for topic, _ in sent] == [OUTCOMES_TOPIC.name] * 3
    assert {event.id for _, event in sent} == {outcome_id(command.id)}
    assert sent[0][1] == sent[1][1] == sent[2][1]  # the recorded outcome, byte for byte
    outbox = store.outbox(TENANT, outbox_key(command.id))
    assert outbox is not None and decode(outbox.outputs[0]) == sent[0][1]
    assert store.processed_offset(CLUSTER, TOPIC, 0) == 1


async def test_duplicates_within_one_batch_run_once(publisher, store):
    runner = ScriptedRunner()
    command = a_command()
    handled = await step_for(publisher, store, runner).handle_batch(
        [message(command, 0), message(command, 1)]
    )
    assert handled == [Handled.EXECUTED, Handled.REPLAYED]
    assert runner.runs == [command.id]
    assert [event.id for _, event in await published(publisher)] == [outcome_id(command.id)] * 2


async def test_a_lost_race_publishes_the_outcome_the_other_worker_recorded(publisher, store):
    command = a_command()
    theirs = succeeded(command, {"person": {"id": 1}, "by": "the other worker"}, 2, NOW)
    store.record(
        record_outputs(TENANT, outbox_key(command.id), (encode(theirs).decode(),)),
        position=KafkaPosition(CLUSTER, TOPIC, 1, 7),  # another copy, on another position
    )
    runner = ScriptedRunner()

    await step_for(publisher, BlindStore(store), runner).handle(message(command, 0))

    assert runner.runs == [command.id]  # it ran (the outbox was not there when it looked) ...
    assert [event for _, event in await published(publisher)] == [theirs]  # ... but theirs wins


# -- crash between the remote write and the record ------------------------------------------
@pytest.fixture(scope="module")
def qbo_sandbox():
    yield from start_sandbox()


@pytest.fixture
async def qbo_runner(qbo_sandbox, tmp_path) -> AsyncIterator[tuple[CommandRunner, Any]]:
    async with httpx.AsyncClient(timeout=10) as http:
        adapter = make_adapter(qbo_sandbox, tmp_path, http)
        await adapter.connect_directly(REALM, tenant_id=TENANT)

        def crm_for(tenant: str) -> Any:
            raise AssertionError("no CRM in this test")

        runner = CommandRunner(lambda t, r: adapter.client(r, t), crm_for, lambda: NOW)
        yield runner, adapter.client(REALM, TENANT)


async def test_a_crash_after_the_write_and_before_the_record_runs_again_into_one_customer(
    publisher, store, qbo_runner
):
    runner, qbo = qbo_runner
    name = unique("Crash Test")
    command = builders.create_customer(REALM, 42, {"DisplayName": name})
    step = step_for(publisher, FlakyStore(store, failures=1), runner)

    with pytest.raises(ConnectionError):
        await step.handle(message(command, 5))
    assert await qbo.count("Customer", f"DisplayName = '{name}'") == 1  # the write happened
    assert store.outbox(TENANT, outbox_key(command.id)) is None  # but nothing was recorded

    assert await step.handle(message(command, 5)) == Handled.EXECUTED  # redelivered

    assert await qbo.count("Customer", f"DisplayName = '{name}'") == 1
    sent = await published(publisher)
    assert len(sent) == 1 and isinstance(sent[0][1], CommandSucceeded)
    customer = sent[0][1].data.result["customer"]
    rows = [row async for row in qbo.query(f"SELECT * FROM Customer WHERE DisplayName = '{name}'")]
    assert [row.Id for row in rows] == [customer["Id"]]
    assert store.processed_offset(CLUSTER, TOPIC, 0) == 5


async def test_a_batch_whose_flush_fails_is_retried_without_running_a_command_twice(store):
    publisher = RecordingPublisher(fail_flush=True)
    runner = ScriptedRunner()
    command = a_command()
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)
        publisher.fail_flush = False  # the broker is back

    step = step_for(publisher, store, runner)
    await execute_batch(step, publisher, [message(command, 0)], sleep=pause)

    assert pauses == [0.5] and runner.runs == [command.id]
    assert [event.id for event in publisher.events()] == [outcome_id(command.id)]


# -- dead letters and refusals ---------------------------------------------------------------
async def test_bad_bytes_are_dead_lettered_with_the_original_bytes(publisher, store):
    runner = ScriptedRunner()
    raw = b"\xff{not json"
    handled = await step_for(publisher, store, runner).handle(message(raw, 3))
    assert handled == Handled.DEAD_LETTERED and runner.runs == []
    [(topic, letter)] = await published(publisher)
    assert topic == DEAD_LETTER.name and isinstance(letter, DeadLettered)
    assert (letter.data.stage, letter.data.offset, letter.tenant) == ("execute", 3, TENANT)
    assert base64.b64decode(letter.data.value_b64) == raw
    assert store.processed_offset(CLUSTER, TOPIC, 0) is None


async def test_a_command_keyed_by_another_tenant_is_dead_lettered_not_run(publisher, store):
    runner = ScriptedRunner()
    command = a_command(tenant="acme")
    handled = await step_for(publisher, store, runner).handle(message(command, 0, key=b"other"))
    assert handled == Handled.DEAD_LETTERED and runner.runs == []
    [(_, letter)] = await published(publisher)
    assert letter.data.errors[0].field == "(key)"


async def test_a_runner_that_raises_dead_letters_that_command_only(publisher, store):
    command = a_command()
    handled = await step_for(publisher, store, RaisingRunner()).handle(message(command, 0))
    assert handled == Handled.DEAD_LETTERED
    [(_, letter)] = await published(publisher)
    assert letter.data.stage == "execute" and "KeyError" in letter.data.reason
    assert store.outbox(TENANT, outbox_key(command.id)) is None  # free to run after a fix


async def test_an_event_that_is_not_a_command_fails_as_unsupported(publisher, store):
    runner = ScriptedRunner()
    job = RunImport(
        id="job-1", source="/t", time=NOW, tenant=TENANT,
        data=RunImportData(request_id="r1", requested_by=1),
    )  # fmt: skip
    await step_for(publisher, store, runner).handle(message(job, 0))
    [(topic, outcome)] = await published(publisher)
    assert topic == OUTCOMES_TOPIC.name and isinstance(outcome, CommandFailed)
    assert (outcome.data.code, outcome.data.retryable, runner.runs) == ("unsupported", False, [])


# -- concurrency -----------------------------------------------------------------------------
async def test_tenants_run_concurrently_while_positions_are_recorded_in_offset_order(
    publisher, store
):
    a_started, b_started = asyncio.Event(), asyncio.Event()
    # acme's first command cannot finish until beta's has started: run one tenant after the
    # other and this deadlocks (the wait_for below fails the test instead).
    runner = ScriptedRunner({"acme": (a_started, b_started), "beta": (b_started, None)})
    a0, b1, a2 = a_command("acme", 1), a_command("beta", 2), a_command("acme", 3)
    batch = [message(a0, 0), message(b1, 1), message(a2, 2)]

    handled = await asyncio.wait_for(
        step_for(publisher, store, runner).handle_batch(batch), timeout=5
    )

    assert handled == [Handled.EXECUTED] * 3
    assert runner.runs.index(b1.id) < runner.runs.index(a0.id)  # beta did not wait for acme
    sent = [event.data.command_id for _, event in await published(publisher)]
    assert sent == [a0.id, b1.id, a2.id]  # published (and recorded) in offset order
    assert all(store.outbox(c.tenant, outbox_key(c.id)) for c in (a0, b1, a2))
    assert store.processed_offset(CLUSTER, TOPIC, 0) == 2


async def test_a_tenants_commands_run_in_offset_order(publisher, store):
    runner = ScriptedRunner()
    commands = [a_command("acme", n) for n in range(5)]
    batch = [message(c, n) for n, c in enumerate(commands)]
    await step_for(publisher, store, runner).handle_batch(list(reversed(batch)))
    assert runner.runs == [c.id for c in commands]


# -- wiring ----------------------------------------------------------------------------------
async def test_the_faust_agent_executes_commands_from_the_commands_topic(tmp_path, store):
    from qbsync.config import Settings
    from streams.app import create_app

    settings = Settings(data_dir=tmp_path)
    app = create_app(settings, "127.0.0.1:9")  # never connected: agent.test_context() is local
    publisher, runner = RecordingPublisher(), ScriptedRunner()
    add_executor_agent(app, settings, publisher, store, runner, CLUSTER)
    agent = app.agents["qbsync.executor"]
    assert agent.channel.topics == (COMMANDS_TOPIC.name,)
    command = a_command()

    async with agent.test_context() as context:
        await context.put(key=TENANT.encode(), value=encode(command))
        await context.put(key=TENANT.encode(), value=encode(command))  # delivered twice
        await context.put(key=TENANT.encode(), value=b"garbage")
        for _ in range(250):
            if len(publisher.sent) >= 3:
                break
            await asyncio.sleep(0.02)

    assert runner.runs == [command.id]
    assert [type(event).__name__ for event in publisher.events()] == [
        "CommandSucceeded", "CommandSucceeded", "DeadLettered",
    ]  # fmt: skip
