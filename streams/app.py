"""The Faust app: topics from the catalog, the publisher, and the agents, wired from Settings."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import faust

from engine.state import TenantState
from qbsync.config import Settings
from qbsync.logs import get_logger
from schemas.catalog import encode
from schemas.envelope import Envelope
from schemas.topics import CRM_CHANGES, QBO_CHANGES, REQUESTS, TOPICS, TopicSpec
from streams.decider import DeciderStep
from streams.deadletter import RawMessage

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
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        web_enabled=False,
        web_bind="127.0.0.1",
        web_port=settings.worker_web_port,
        store="memory://",
    )


def raw_topic(app: faust.App, *names: str) -> Any:
    """A topic read as raw bytes: parsing happens in the agent so bad bytes can be dead-lettered."""
    return app.topic(
        *names, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )


class FaustPublisher:
    """Publishes envelopes keyed by tenant and waits for the broker's ack (acks=all).

    Waiting before the input is acknowledged is what makes processing at-least-once: an input is
    never committed while the facts it produced are still only in memory.
    """

    def __init__(self, app: faust.App) -> None:
        self._topics = {spec.name: raw_topic(app, spec.name) for spec in TOPICS}

    async def publish(self, topic: TopicSpec, event: Envelope) -> None:
        pending = await self._topics[topic.name].send(
            key=event.tenant.encode(), value=encode(event)
        )
        await pending


async def _until_handled(decider: DeciderStep, raw: RawMessage) -> None:
    """Bad input is dead-lettered inside the step; what escapes is infrastructure (the broker is
    unreachable), so retry with backoff and hold the partition rather than skip the input."""
    backoff = 0.5
    while True:
        try:
            await decider.handle(raw)
            return
        except Exception:
            log.exception("input_handling_failed", position=raw.position, retry_in_s=backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, RETRY_BACKOFF_MAX_S)


@dataclass
class Engine:
    app: faust.App
    decider: DeciderStep


async def _no_installation(tenant: str) -> TenantState:
    # Installations become event-sourced aggregates with customer sync (issue 5).
    return TenantState()


def build_engine(settings: Settings, bootstrap: str) -> Engine:
    app = create_app(settings, bootstrap)
    publisher = FaustPublisher(app)
    decider = DeciderStep(publisher, _no_installation, _utc_now)
    inputs = raw_topic(app, CRM_CHANGES.name, QBO_CHANGES.name, REQUESTS.name)

    @app.agent(inputs, name="qbsync.decider")
    async def decide_inputs(stream: Any) -> None:
        async for event in stream.events():
            msg = event.message
            raw = RawMessage(msg.topic, msg.partition, msg.offset, msg.key, msg.value or b"")
            await _until_handled(decider, raw)

    return Engine(app=app, decider=decider)
