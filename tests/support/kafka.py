"""Plain aiokafka helpers for tests: no project code on the producing or consuming side."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer

Record = dict[str, Any]


async def collect(
    bootstrap: str,
    topics: list[str],
    until: Callable[[list[tuple[str, bytes | None, Record]]], bool],
    timeout: float = 60.0,
) -> list[tuple[str, bytes | None, Record]]:
    """Read `topics` from the beginning until `until(records)` holds; records are JSON-decoded."""
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=100,  # the embedded broker answers fetches only when the wait ends
    )
    await consumer.start()
    records: list[tuple[str, bytes | None, Record]] = []
    deadline = time.monotonic() + timeout
    try:
        while not until(records):
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met in {timeout}s; saw {len(records)} records")
            batch = await consumer.getmany(timeout_ms=300)
            for messages in batch.values():
                records += [(m.topic, m.key, json.loads(m.value)) for m in messages]
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return records
