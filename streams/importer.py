"""The import job (SYNC-RULES 4): runs the `RunImport` the decider put on the jobs topic.

`ImportJob.run` resumes whatever an earlier delivery of the same job left (the worker may be
killed at any moment; see streams/importing/attempt.py for every point of death). A run already
finished publishes its `ImportFinished` again and posts the CRM notification if that did not
happen yet; a failed one publishes its `ImportFailed` again.

The notification is recorded as posted *after* the CRM took it: killed in between, a redelivery
posts it a second time (a duplicate summary beats a lost one, ADR 0007).

`add_importer_agent` runs the job from Kafka, one at a time per worker, acknowledging a job only
once it has finished or failed. A job that raises is retried (resumed) with backoff, and after
`JOB_ATTEMPTS` attempts its run fails with the error, so one broken import cannot hold the jobs
partition forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from adapters.crm import errors as crm_errors
from adapters.executor.ports import CrmNotConfiguredError
from adapters.qbo import errors as qbo_errors
from adapters.qbo.oauth import InvalidGrantError, NotConnectedError
from engine.deadletter import RawMessage, dead_letter_for
from engine.dry_run import DryRunReport
from qbsync.config import Settings
from qbsync.logs import get_logger, redact_text
from schemas.catalog import EventRejected, decode
from schemas.commands import RunImport
from schemas.common import FieldError
from schemas.outcomes import CommandFailed
from schemas.topics import DEAD_LETTER, DECISIONS_TOPIC, JOBS_TOPIC
from store import KafkaPosition, QbsyncStore
from store import import_run as runs
from store.import_run import ImportRun
from store.installation import Installation
from streams.importing.attempt import ImportAttempt
from streams.importing.commands import RunFailure
from streams.importing.envelopes import Envelopes
from streams.importing.ports import CommandRunner, ImportGateways, Publisher
from streams.importing.summary import summary_text

log = get_logger(__name__)
Clock = Callable[[], datetime]
PROGRESS_EVERY = 200
JOB_ATTEMPTS = 10
BACKOFF_MAX_S = 60.0

# The connection is gone or refused: no retry helps until an admin acts, so the run fails.
CONNECTION_LOST: tuple[type[BaseException], ...] = (
    RunFailure,
    InvalidGrantError,
    NotConnectedError,
    CrmNotConfiguredError,
    crm_errors.NotAuthorizedError,
    crm_errors.PermissionDeniedError,
    qbo_errors.AuthenticationError,
    qbo_errors.AuthorizationError,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


class ImportJob:
    def __init__(
        self,
        store: QbsyncStore,
        publisher: Publisher,
        runner: CommandRunner,
        gateways: ImportGateways,
        *,
        clock: Clock = utc_now,
        progress_every: int = PROGRESS_EVERY,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.runner = runner
        self.gateways = gateways
        self.clock = clock
        self.progress_every = progress_every
        self.last_report: DryRunReport | None = None  # the latest dry run's full plan

    async def run(self, job: RunImport) -> ImportRun | None:
        """Run (or resume) the import; the run as it ends, or None when there is no such run."""
        installation, run = await asyncio.to_thread(self._load, job)
        if run is None:
            log.warning("import_run_unknown", tenant=job.tenant, request_id=job.data.request_id)
            return None
        realm_id = installation.realm_id if installation and installation.realm_id else "0"
        envelopes = Envelopes(job, realm_id)
        if run.status == "failed":
            return await self._announce_failed(envelopes, run)
        if run.status == "finished":
            return await self._announce_finished(envelopes, run)
        if installation is None or installation.uninstalled or not installation.connected:
            return await self._fail(envelopes, run, "the tenant is not connected to QuickBooks")
        attempt = ImportAttempt(
            store=self.store,
            publisher=self.publisher,
            runner=self.runner,
            gateways=self.gateways,
            clock=self.clock,
            envelopes=envelopes,
            settings=installation.settings,
            run=run,
            progress_every=self.progress_every,
        )
        log.info(
            "import_attempt", tenant=job.tenant, request_id=run.request_id, resumed=attempt.resumed
        )
        try:
            run = await attempt.execute()
        except CONNECTION_LOST as lost:
            await self.publisher.flush()
            reason = redact_text(f"{type(lost).__name__}: {lost}")[:1000]
            return await self._fail(envelopes, attempt.run, reason)
        self.last_report = attempt.report
        return await self._announce_finished(envelopes, run)

    async def give_up(self, job: RunImport, reason: str) -> None:
        """Fail the run (when its attempts are exhausted)."""
        installation, run = await asyncio.to_thread(self._load, job)
        if run is None or run.status != "running":
            return
        realm_id = installation.realm_id if installation and installation.realm_id else "0"
        await self._fail(Envelopes(job, realm_id), run, reason)

    def _load(self, job: RunImport) -> tuple[Installation | None, ImportRun | None]:
        tenant = job.tenant
        return self.store.installation(tenant), self.store.import_run(tenant, job.data.request_id)

    async def _fail(self, envelopes: Envelopes, run: ImportRun, reason: str) -> ImportRun:
        event = runs.fail(run, reason, at=self.clock())
        await asyncio.to_thread(self.store.record, event)
        run = runs.mutate_import_run(event, run)
        log.warning("import_failed", tenant=run.tenant, request_id=run.request_id, reason=reason)
        return await self._announce_failed(envelopes, run)

    async def _announce_failed(self, envelopes: Envelopes, run: ImportRun) -> ImportRun:
        assert run.failure is not None and run.failed_at is not None
        await self.publisher.publish(DECISIONS_TOPIC, envelopes.failed(run.failure, run.failed_at))
        await self.publisher.flush()
        return run

    async def _announce_finished(self, envelopes: Envelopes, run: ImportRun) -> ImportRun:
        assert run.summary is not None and run.finished_at is not None
        finished = envelopes.finished(run.summary, run.finished_at)
        await self.publisher.publish(DECISIONS_TOPIC, finished)
        await self.publisher.flush()
        if run.dry_run or run.notification_posted:
            return run  # a dry run writes nothing, not even the notification (4.9)
        message = summary_text(run.summary)
        outcome = await self.runner.run(envelopes.notification(message, self.clock()))
        if isinstance(outcome, CommandFailed):
            log.warning("import_notification_failed", tenant=run.tenant, reason=outcome.data.reason)
            return run
        notification = outcome.data.result.get("notification") or {}
        posted = runs.notification_posted(run, notification.get("id"))
        await asyncio.to_thread(self.store.record, posted)
        return runs.mutate_import_run(posted, run)


# --- the Faust side ----------------------------------------------------------------------------


async def handle_job_message(
    job: ImportJob,
    publisher: Publisher,
    store: QbsyncStore,
    message: RawMessage,
    cluster_id: str,
    *,
    attempts: int = JOB_ATTEMPTS,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> str:
    """Run one message of the jobs topic to its end; what happened: done, replayed,
    dead_lettered. Its Kafka position is recorded after, so a redelivery is skipped."""
    position = None
    if message.partition is not None and message.offset is not None:
        position = KafkaPosition(cluster_id, message.topic, message.partition, message.offset)
        if await asyncio.to_thread(store.already_processed, position):
            return "replayed"
    try:
        event = decode(message.value)
        key = message.key.decode(errors="replace") if message.key is not None else None
        if not isinstance(event, RunImport):
            raise EventRejected(
                f"{event.type} is not a job the importer runs",
                (FieldError(field="type", message="expected a RunImport"),),
            )
        if key != event.tenant:
            reason = f"message key {key!r} is not the job's tenant {event.tenant!r}"
            raise EventRejected(reason, (FieldError(field="(key)", message=reason),))
    except EventRejected as rejected:
        letter = dead_letter_for(
            message, "parse", rejected.reason, rejected.errors, utc_now(), worker="importer"
        )
        log.warning("dead_lettered", position=message.position, reason=rejected.reason)
        await publisher.publish(DEAD_LETTER, letter)
        await publisher.flush()
        outcome = "dead_lettered"
    else:
        await _run_with_retries(job, event, attempts, sleep)
        outcome = "done"
    if position is not None:
        await asyncio.to_thread(store.record, position=position)
    return outcome


async def _run_with_retries(
    job: ImportJob, event: RunImport, attempts: int, sleep: Callable[[float], Awaitable[None]]
) -> None:
    backoff, reason = 1.0, f"stopped after {attempts} attempts"
    for attempt in range(1, max(1, attempts) + 1):
        try:
            await job.run(event)
            return
        except Exception as error:
            log.exception(
                "import_attempt_failed",
                tenant=event.tenant,
                request_id=event.data.request_id,
                attempt=attempt,
            )
            if attempt == attempts:
                reason = redact_text(f"stopped after {attempts} attempts: {error!r}")[:1000]
                break
            await sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_S)
    while True:  # the run must not stay "running" while its job is acknowledged
        try:
            await job.give_up(event, reason)
            return
        except Exception:
            log.exception("import_give_up_failed", request_id=event.data.request_id)
            await sleep(BACKOFF_MAX_S)


def add_importer_agent(
    app: Any,
    settings: Settings,
    publisher: Publisher,
    store: QbsyncStore,
    job: ImportJob,
    cluster_id: str,
) -> Any:
    """The Faust agent "qbsync.importer" on the jobs topic. `publisher` (for dead letters) should
    be the job's own: a FaustPublisher's `flush` awaits what *its* instance published, so the
    importer must not share one with the decider (one flush could take the other's deliveries).
    """
    from streams.app import _raw, raw_topic  # streams.app wires this module in: import late

    jobs = raw_topic(app, JOBS_TOPIC.name)

    @app.agent(jobs, name="qbsync.importer", concurrency=1)  # type: ignore[untyped-decorator]
    async def run_imports(stream: Any) -> None:
        # An event is acknowledged when the loop moves on: after its import ended.
        async for event in stream.events():
            outcome = await handle_job_message(
                job, publisher, store, _raw(event.message), cluster_id
            )
            log.info("import_job_handled", outcome=outcome, app_id=settings.app_id)

    return run_imports
