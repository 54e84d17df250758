"""The Faust app: topics from the catalog, the publisher, and the agents, wired from Settings."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import faust
import mode

from adapters.executor import CommandRunner
from adapters.executor.wiring import crm_gateways_from_settings, qbo_gateways_from_connector
from adapters.qbo.connector import QboConnector
from adapters.qbo.oauth import NotConnectedError
from adapters.qbo.ports import QboGateway
from engine.deadletter import RawMessage
from qbsync.config import Settings
from qbsync.logs import get_logger
from schemas.catalog import encode
from schemas.envelope import Envelope
from schemas.topics import CRM_CHANGES, OUTCOMES_TOPIC, QBO_CHANGES, REQUESTS, TOPICS, TopicSpec
from store import QbsyncStore, open_store
from streams.decider import DeciderStep
from streams.executor import add_executor_agent
from streams.importer import ImportJob, add_importer_agent
from streams.importing.ports import ImportGateways
from streams.ports import Publisher

log = get_logger(__name__)
RETRY_BACKOFF_MAX_S = 30.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


def sized_topics(settings: Settings) -> tuple[TopicSpec, ...]:
    return tuple(t.sized(settings.topic_partitions, settings.topic_replication) for t in TOPICS)


def create_app(settings: Settings, bootstrap: str) -> faust.App:
    return faust.App(
        settings.app_id,
        broker=[f"kafka://{server}" for server in bootstrap.split(",")],
        version=1,  # part of changelog topic names: keep stable (STYLE.md, Faust)
        autodiscover=False,
        # The embedded broker has no idempotent producer; effects are idempotent instead (ADR 0002).
        processing_guarantee="at_least_once",
        broker_session_timeout=settings.broker_session_timeout_s,
        broker_heartbeat_interval=settings.broker_heartbeat_s,
        # An import is one long job (streams/importer.py): do not let the group evict its worker.
        broker_max_poll_interval=3600.0,
        producer_acks=-1,
        # Outputs are flushed once per batch, so let the producer fill real batches.
        producer_linger=0.005,
        producer_max_batch_size=256 * 1024,
        consumer_auto_offset_reset="earliest",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        web_enabled=False,
        web_bind="127.0.0.1",
        web_port=settings.worker_web_port,
        store="memory://",
        datadir=str(settings.data_dir / "faust"),  # not the CWD: Faust defaults to ./{id}-data
    )


def raw_topic(app: faust.App, *names: str) -> Any:
    """A topic read as raw bytes: parsing happens in the agent so bad bytes can be dead-lettered."""
    return app.topic(
        *names, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )


class FaustPublisher:
    """Publishes through Faust's producer (acks=all); `flush` awaits every pending delivery.

    Inputs are acknowledged only after the flush that covers their outputs, which is what makes
    processing at-least-once without awaiting each message on its own (ADR 0004).
    """

    def __init__(self, app: faust.App) -> None:
        self._topics = {spec.name: raw_topic(app, spec.name) for spec in TOPICS}
        self._pending: list[Any] = []

    async def publish(self, topic: TopicSpec, event: Envelope) -> None:
        delivery = await self._topics[topic.name].send(
            key=event.tenant.encode(), value=encode(event)
        )
        self._pending.append(delivery)

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        await asyncio.gather(*pending)


async def handle_batch(decider: DeciderStep, publisher: Publisher, batch: list[RawMessage]) -> None:
    """Decide a batch and wait until all its outputs are acknowledged.

    Bad input is dead-lettered inside the step; what escapes is infrastructure (the broker is
    unreachable), so the whole batch is retried with backoff, holding its partitions rather than
    skipping an input. A retry may publish some outputs twice; their ids are deterministic.
    """
    backoff = 0.5
    while True:
        try:
            for raw in batch:
                await decider.handle(raw)
            await publisher.flush()
            return
        except Exception:
            log.exception(
                "batch_failed", first=batch[0].position, size=len(batch), retry_in_s=backoff
            )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, RETRY_BACKOFF_MAX_S)


def _raw(message: Any) -> RawMessage:
    return RawMessage(
        message.topic, message.partition, message.offset, message.key, message.value or b""
    )


@dataclass
class Engine:
    app: faust.App
    decider: DeciderStep
    store: QbsyncStore


def build_engine(settings: Settings, bootstrap: str, cluster_id: str) -> Engine:
    """The worker: decider, executor and importer agents over one store.

    Each agent has its own publisher: a flush must wait for that agent's own outputs only.
    """
    app = create_app(settings, bootstrap)
    store = open_store(settings.store_location)
    publisher = FaustPublisher(app)
    decider = DeciderStep(publisher, store, _utc_now, cluster_id)
    inputs = raw_topic(app, CRM_CHANGES.name, QBO_CHANGES.name, REQUESTS.name, OUTCOMES_TOPIC.name)

    @app.agent(inputs, name="qbsync.decider")
    async def decide_inputs(stream: Any) -> None:
        # take_events acks a batch only after this loop body is done with it.
        batches = stream.take_events(
            settings.decider_batch_max, within=settings.decider_batch_wait_ms / 1000
        )
        async for events in batches:
            batch = [_raw(event.message) for event in events]
            await handle_batch(decider, publisher, batch)

    runner, gateways = _command_runner(settings, app)
    add_executor_agent(app, settings, FaustPublisher(app), store, runner, cluster_id)
    jobs_publisher = FaustPublisher(app)
    job = ImportJob(store, jobs_publisher, runner, gateways)
    add_importer_agent(app, settings, jobs_publisher, store, job, cluster_id)
    return Engine(app=app, decider=decider, store=store)


def _command_runner(settings: Settings, app: faust.App) -> tuple[CommandRunner, ImportGateways]:
    """The executor's gateways: QBO through one connector (one limiter per realm), the CRM per
    tenant. Without a QBO app configured, QBO commands fail clearly (not connected)."""
    crm_for, close_crm = crm_gateways_from_settings(settings)
    closers = [close_crm]
    if settings.qbo_client_id and settings.qbo_client_secret is not None:
        connector = QboConnector(settings)
        qbo_for = qbo_gateways_from_connector(connector)
        closers.append(connector.aclose)
    else:
        qbo_for = _no_qbo_app

    @app.service
    class ClosesGateways(mode.Service):
        async def on_stop(self) -> None:
            for close in closers:
                await close()

    return CommandRunner(qbo_for, crm_for, _utc_now), ImportGateways(qbo=qbo_for, crm=crm_for)


def _no_qbo_app(tenant: str, realm_id: str, /) -> QboGateway:
    raise NotConnectedError(
        f"tenant {tenant}: no QuickBooks app configured (QBSYNC_QBO_CLIENT_ID/_SECRET)"
    )
