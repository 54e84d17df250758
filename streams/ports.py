"""Small ports the stream shell depends on, so agents can run against Kafka or in-memory fakes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from engine.state import TenantState
from schemas.envelope import Envelope
from schemas.topics import TopicSpec


class Publisher(Protocol):
    """Publishes envelopes keyed by tenant, in order per tenant.

    `publish` may return before the broker has the event; `flush` returns once everything
    published so far is acknowledged, and raises if any of it failed. An input is acknowledged
    only after the flush that covers its outputs.
    """

    async def publish(self, topic: TopicSpec, event: Envelope) -> None: ...

    async def flush(self) -> None: ...


StateLoader = Callable[[str], Awaitable[TenantState]]
Clock = Callable[[], datetime]
