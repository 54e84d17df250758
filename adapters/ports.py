"""Ports shared by the shell: how facts get published."""

from __future__ import annotations

from typing import Protocol

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
