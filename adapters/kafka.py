"""Publish qbsync envelopes to Kafka with aiokafka, keyed by tenant (implements streams' Publisher).

Used by processes outside the Faust worker: webhook bridges, the CDC sweeper, HTTP ingest.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaProducer

from schemas.catalog import encode
from schemas.envelope import Envelope
from schemas.topics import TopicSpec


class KafkaPublisher:
    def __init__(self, bootstrap: str, *, linger_ms: int = 5) -> None:
        self._bootstrap, self._linger_ms = bootstrap, linger_ms
        self._producer: AIOKafkaProducer | None = None
        self._pending: list[asyncio.Future[Any]] = []

    async def start(self) -> None:
        # Made here, not in __init__: aiokafka binds a producer to the loop it is created on.
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap, acks="all", linger_ms=self._linger_ms
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is None:
            return
        try:
            await self.flush()
        finally:
            await self._producer.stop()
            self._producer = None

    async def publish(self, topic: TopicSpec, event: Envelope) -> None:
        if self._producer is None:
            raise RuntimeError("KafkaPublisher.start() has not been awaited")
        delivery = await self._producer.send(topic.name, encode(event), key=event.tenant.encode())
        self._pending.append(delivery)

    async def flush(self) -> None:
        """Return once everything published so far is acknowledged (acks=all); raise if not."""
        pending, self._pending = self._pending, []
        await asyncio.gather(*pending)
