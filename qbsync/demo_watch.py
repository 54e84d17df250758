"""The demo's view of the engine: it publishes requests and reads every decision as it comes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer

from adapters.kafka import KafkaPublisher
from schemas.envelope import Envelope
from schemas.topics import DECISIONS_TOPIC, topic_for

Record = dict[str, Any]


class DecisionWatch:
    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self._publisher = KafkaPublisher(bootstrap)
        self._consumer = AIOKafkaConsumer(
            DECISIONS_TOPIC.name,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=100,
        )
        self.records: list[Record] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._publisher.start()
        await self._consumer.start()
        self._task = asyncio.create_task(self._read())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()
        await self._publisher.stop()

    async def _read(self) -> None:
        while True:
            batch = await self._consumer.getmany(timeout_ms=200)
            for messages in batch.values():
                self.records += [json.loads(m.value) for m in messages]

    async def publish(self, *events: Envelope) -> None:
        for event in events:
            await self._publisher.publish(topic_for(type(event)), event)
        await self._publisher.flush()

    def find(self, match: Callable[[Record], bool]) -> Record | None:
        return next((r for r in self.records if match(r)), None)

    def count(self, match: Callable[[Record], bool]) -> int:
        return sum(1 for r in self.records if match(r))

    async def wait(self, match: Callable[[Record], bool], timeout: float) -> Record | None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while (found := self.find(match)) is None and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        return found
