"""Small ports the stream shell depends on, so agents can run against Kafka or in-memory fakes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from adapters.ports import Publisher
from engine.state import TenantState

StateLoader = Callable[[str], Awaitable[TenantState]]
Clock = Callable[[], datetime]

__all__ = ["Clock", "Publisher", "StateLoader"]
