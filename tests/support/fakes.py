"""In-memory stand-ins for our own ports (not mocks of a library)."""

from __future__ import annotations

from schemas.catalog import decode, encode
from schemas.envelope import Envelope
from schemas.topics import TopicSpec


class RecordingPublisher:
    """A Publisher that keeps what was flushed; it round-trips events through bytes like Kafka."""

    def __init__(self, fail_flush: bool = False) -> None:
        self.sent: list[tuple[str, Envelope]] = []
        self._pending: list[tuple[str, Envelope]] = []
        self.fail_flush = fail_flush

    async def publish(self, topic: TopicSpec, event: Envelope) -> None:
        self._pending.append((topic.name, decode(encode(event))))

    async def flush(self) -> None:
        if self.fail_flush:
            self._pending.clear()
            raise ConnectionError("broker unreachable")
        self.sent += self._pending
        self._pending = []

    def events(self) -> list[Envelope]:
        return [event for _topic, event in self.sent]
