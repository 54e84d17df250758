"""Small ports the stream shell depends on, so agents can run against Kafka or in-memory fakes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from engine.state import TenantState
from schemas.envelope import Envelope
from schemas.topics import TopicSpec


class Publisher(Protocol):
    async def publish(self, topic: TopicSpec, event: Envelope) -> None:
        """Deliver `event` to `topic`, keyed by its tenant; return once the broker has it."""


StateLoader = Callable[[str], Awaitable[TenantState]]
Clock = Callable[[], datetime]
