"""The executor step: parse → already done? → run the command → record → emit the outcome.

Effectively once per command, whatever Kafka redelivers (SYNC-RULES 7, ADR 0002):
- The store's outbox is keyed by command id (`command:<id>`). A command whose outbox exists is
  not run again: its recorded outcome is published again (same id, same bytes).
- A fresh outcome is recorded (outbox + the message's Kafka position, one transaction) before it
  is published, so what was published is always what the outbox holds. A crash between the
  remote call and the record runs the command again on redelivery; the runner is idempotent
  (QBO requestid = command id, CRM look-before-create), so that run finds its own first effect.
- Another worker that recorded the same command meanwhile wins; its outcome is published.

Tenants do not wait on each other's rate limits: in a batch, each tenant's commands run in
offset order, the tenants concurrently. Positions of one partition must be recorded in offset
order (store/app.py), and tenants share partitions, so recording (and publishing) follows the
partition's offset order while the remote calls overlap.

Input that cannot be read, or whose key is not its tenant, or that makes the runner raise (a
bug, not a remote failure: those become `CommandFailed`), is dead-lettered (stage `execute`).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import faust

from adapters.executor.document_commands import LinkedPersonOf
from adapters.executor.failures import UNSUPPORTED, Failure
from adapters.executor.outcomes import Outcome, failed
from adapters.executor.runner import CommandRunner
from engine.deadletter import RawMessage, dead_letter_for
from qbsync.config import Settings
from qbsync.logs import get_logger
from schemas.catalog import EventRejected, decode, encode
from schemas.commands import COMMANDS
from schemas.common import FieldError
from schemas.deadletter import DeadLettered
from schemas.envelope import Envelope
from schemas.topics import COMMANDS_TOPIC, DEAD_LETTER, OUTCOMES_TOPIC
from store.app import ConcurrentWriteError, KafkaPosition, QbsyncStore
from store.outbox import Outbox, record_outputs
from streams.ports import Clock, Publisher

log = get_logger(__name__)
T = TypeVar("T")


class CommandRunning(Protocol):
    async def run(self, command: Envelope) -> Outcome: ...


class StoreCall(Protocol):
    """Runs a function of the (synchronous) store off the event loop."""

    def __call__(self, action: Callable[[QbsyncStore], T], /) -> Awaitable[T]: ...


class ThreadedStore:
    def __init__(self, store: QbsyncStore) -> None:
        self._store = store

    async def __call__(self, action: Callable[[QbsyncStore], T], /) -> T:
        return await asyncio.to_thread(action, self._store)


def linked_person_in(store_call: StoreCall) -> LinkedPersonOf:
    """The executor's "who is this QBO customer linked to?", read from the store's customer
    index: a document for an unlinked person must not pick a customer someone else holds (the
    decider could not record that link: a customer is linked to one person, SYNC-RULES 1)."""

    async def linked_person_of(tenant: str, customer_id: str) -> int | None:
        link = await store_call(lambda store: store.link_for_customer(tenant, customer_id))
        return link.person_id if link is not None else None

    return linked_person_of


class Handled(enum.Enum):
    EXECUTED = "executed"
    REPLAYED = "replayed"  # done before: its recorded outcome published again
    DEAD_LETTERED = "dead_lettered"


def outbox_key(command_id: str) -> str:
    return f"command:{command_id}"


@dataclass(frozen=True)
class _Work:
    """What `_prepare` found for one message; `_commit` records and publishes it, in turn."""

    message: RawMessage
    handled: Handled
    command: Envelope | None = None
    outcome: Outcome | None = None
    letter: DeadLettered | None = None


class ExecutorStep:
    def __init__(
        self,
        publisher: Publisher,
        store_call: StoreCall,
        runner: CommandRunning,
        clock: Clock,
        cluster_id: str,
    ) -> None:
        self._publisher = publisher
        self._store = store_call
        self._runner = runner
        self._clock = clock
        self._cluster_id = cluster_id

    async def handle(self, message: RawMessage) -> Handled:
        """One message, start to finish (a batch of one)."""
        work = await self._prepare(message, set())
        await self._commit(work)
        return work.handled

    async def handle_batch(self, batch: Sequence[RawMessage]) -> list[Handled]:
        """Each tenant's messages in order, tenants concurrently; records in partition order.

        Raises (after the tasks still running are cancelled) when the store or the publisher
        fails: the caller retries the whole batch, which is safe (see the module docstring).
        """
        loop = asyncio.get_running_loop()
        committed = [loop.create_future() for _ in batch]
        before = _predecessors_in_partition(batch)
        executed: set[str] = set()  # command ids run in this batch, so a duplicate waits its turn
        handled: list[Handled | None] = [None] * len(batch)

        async def commit_in_turn(index: int, work: _Work) -> None:
            previous = before[index]
            if previous is not None:
                await committed[previous]
            await self._commit(work)
            handled[index] = work.handled
            committed[index].set_result(None)

        async def run_tenant(indices: list[int], group: asyncio.TaskGroup) -> None:
            for index in indices:
                work = await self._prepare(batch[index], executed)
                group.create_task(commit_in_turn(index, work))

        async with asyncio.TaskGroup() as group:
            for indices in _by_tenant(batch):
                group.create_task(run_tenant(indices, group))
        return [outcome for outcome in handled if outcome is not None]

    # -- first half: read, dedupe, run ------------------------------------------------------
    async def _prepare(self, message: RawMessage, executed: set[str]) -> _Work:
        try:
            command = decode(message.value)
        except EventRejected as exc:
            return self._dead_letter(message, exc.reason, exc.errors)
        key = message.key.decode(errors="replace") if message.key is not None else None
        if key != command.tenant:
            reason = f"message key {key!r} is not the command's tenant {command.tenant!r}"
            return self._dead_letter(message, reason, (FieldError(field="(key)", message=reason),))
        if command.id in executed:  # a duplicate in this batch: the first copy records first
            return _Work(message, Handled.REPLAYED, command=command)
        tenant, key = command.tenant, outbox_key(command.id)
        if await self._store(lambda store: store.outbox(tenant, key)) is not None:
            return _Work(message, Handled.REPLAYED, command=command)
        try:
            outcome = await self._run(command)
        except Exception as exc:  # a bug in one command's path must not stop the others
            log.exception("execute_failed", command_id=command.id, tenant=command.tenant)
            return self._dead_letter(message, f"the executor raised: {exc!r}", ())
        executed.add(command.id)
        return _Work(message, Handled.EXECUTED, command=command, outcome=outcome)

    async def _run(self, command: Envelope) -> Outcome:
        if type(command) not in COMMANDS:
            reason = f"{command.type} is not a command the executor runs"
            return failed(command, Failure(reason, UNSUPPORTED, False), 1, self._clock())
        return await self._runner.run(command)

    def _dead_letter(
        self, message: RawMessage, reason: str, errors: tuple[FieldError, ...]
    ) -> _Work:
        letter = dead_letter_for(message, "execute", reason, errors, self._clock(), "executor")
        log.warning("dead_lettered", position=message.position, stage="execute", reason=reason)
        return _Work(message, Handled.DEAD_LETTERED, letter=letter)

    # -- second half: record, then publish --------------------------------------------------
    async def _commit(self, work: _Work) -> None:
        if work.letter is not None:
            await self._publisher.publish(DEAD_LETTER, work.letter)
            return
        assert work.command is not None
        tenant, key = work.command.tenant, outbox_key(work.command.id)
        position = self._position(work.message)
        if work.outcome is None:  # done before: note the position, publish what was recorded
            if position is not None:
                await self._store(lambda store: store.record(position=position))
            await self._publish_recorded(tenant, key)
            return
        recorded = record_outputs(tenant, key, (encode(work.outcome).decode(),))
        try:
            fresh = await self._store(lambda store: store.record(recorded, position=position))
        except ConcurrentWriteError:
            fresh = False  # another worker recorded this command (from another copy) first
        if fresh:
            await self._publisher.publish(OUTCOMES_TOPIC, work.outcome)
            return
        if not await self._publish_recorded(tenant, key):
            # The position was processed, but left no outbox: not something this step does.
            log.warning("no_outbox_for_processed_command", command_id=work.command.id)
            await self._publisher.publish(OUTCOMES_TOPIC, work.outcome)

    async def _publish_recorded(self, tenant: str, key: str) -> bool:
        outbox: Outbox | None = await self._store(lambda store: store.outbox(tenant, key))
        if outbox is None:
            return False
        for text in outbox.outputs:
            await self._publisher.publish(OUTCOMES_TOPIC, decode(text))
        return True

    def _position(self, message: RawMessage) -> KafkaPosition | None:
        if message.partition is None or message.offset is None:
            return None
        return KafkaPosition(self._cluster_id, message.topic, message.partition, message.offset)


def _by_tenant(batch: Sequence[RawMessage]) -> list[list[int]]:
    """Indices of the batch grouped by message key (the tenant), each group in offset order."""
    groups: dict[bytes | None, list[int]] = {}
    for index, message in enumerate(batch):
        groups.setdefault(message.key, []).append(index)
    return [sorted(group, key=lambda i: batch[i].offset or 0) for group in groups.values()]


def _predecessors_in_partition(batch: Sequence[RawMessage]) -> list[int | None]:
    """For each message, the message of the same partition just before it (None: first)."""
    before: list[int | None] = [None] * len(batch)
    last: dict[tuple[str, int | None], int] = {}
    order = sorted(range(len(batch)), key=lambda i: batch[i].offset or 0)
    for index in order:
        partition = (batch[index].topic, batch[index].partition)
        before[index] = last.get(partition)
        last[partition] = index
    return before


async def execute_batch(
    step: ExecutorStep,
    publisher: Publisher,
    batch: list[RawMessage],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Execute a batch and wait until all its outcomes are acknowledged; on an infrastructure
    failure retry the whole batch with capped backoff, holding its partitions (as
    `streams.app.handle_batch` does for the decider). A retry runs no command twice: the ones
    recorded before the failure are replayed from their outbox."""
    from streams.app import RETRY_BACKOFF_MAX_S  # here: streams.app wires this module in

    backoff = 0.5
    while True:
        try:
            await step.handle_batch(batch)
            await publisher.flush()
            return
        except Exception:
            log.exception(
                "batch_failed", first=batch[0].position, size=len(batch), retry_in_s=backoff
            )
            await sleep(backoff)
            backoff = min(backoff * 2, RETRY_BACKOFF_MAX_S)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def add_executor_agent(
    app: faust.App,
    settings: Settings,
    publisher: Publisher,
    store: QbsyncStore,
    runner: CommandRunning,
    cluster_id: str,
) -> None:
    """Register the `qbsync.executor` agent on the commands topic (read as raw bytes).

    Give it a publisher of its own (e.g. a second `FaustPublisher(app)`): `flush` awaits every
    delivery pending on that publisher, and a failed delivery must fail the batch it belongs to,
    not another agent's.

    A `CommandRunner` built without a link lookup gets one over this store (streams/app.py
    builds the runner before it has the store at hand).
    """
    from streams.app import _raw, raw_topic  # here: streams.app imports this module

    store_call = ThreadedStore(store)
    if isinstance(runner, CommandRunner) and runner.linked_person_of is None:
        runner = runner.with_link_lookup(linked_person_in(store_call))
    step = ExecutorStep(publisher, store_call, runner, _utc_now, cluster_id)
    commands = raw_topic(app, COMMANDS_TOPIC.name)

    @app.agent(commands, name="qbsync.executor")
    async def execute_commands(stream: Any) -> None:
        # take_events acks a batch only after this loop body is done with it.
        batches = stream.take_events(
            settings.executor_batch_max, within=settings.executor_batch_wait_ms / 1000
        )
        async for events in batches:
            await execute_batch(step, publisher, [_raw(event.message) for event in events])
