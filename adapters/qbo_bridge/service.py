"""The bridge as one ASGI app: the webhook endpoint, its relay worker, and the CDC sweep loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

from fastapi import FastAPI

from adapters.ports import Publisher
from adapters.qbo_bridge.cdc import CdcSweeper
from adapters.qbo_bridge.ports import EntityReader, TenantDirectory
from adapters.qbo_bridge.receiver import WebhookReceiver
from adapters.qbo_bridge.relay import ChangeRelay
from adapters.watermarks import SqliteWatermarks


@dataclass
class Bridge:
    app: FastAPI
    receiver: WebhookReceiver
    sweeper: CdcSweeper


def create_bridge(
    *,
    verifier_token: str,
    tenants: TenantDirectory,
    reader: EntityReader,
    publisher: Publisher,
    watermarks: SqliteWatermarks,
    clock: Callable[[], datetime],
    cdc_interval_s: float | None,
) -> Bridge:
    """`cdc_interval_s=None` disables the periodic sweep (tests call `sweeper.sweep_all()`)."""
    relay = ChangeRelay(reader, tenants, publisher, clock)
    receiver = WebhookReceiver(verifier_token, relay, publisher, clock)
    sweeper = CdcSweeper(reader, tenants, relay, watermarks, clock)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(receiver.run(), name="qbo-webhook-relay")]
        if cdc_interval_s is not None:
            # Sweeps on start (healing whatever was missed while down), then on schedule.
            tasks.append(asyncio.create_task(sweeper.run_forever(cdc_interval_s), name="qbo-cdc"))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await receiver.drain()

    app = FastAPI(title="qbsync QBO webhook bridge", lifespan=lifespan)
    app.include_router(receiver.router)

    @app.get("/healthz")
    async def health() -> dict[str, object]:
        totals = receiver.totals
        return {
            "published": totals.published,
            "duplicates": totals.duplicates,
            "unrouted": totals.unrouted,
        }

    return Bridge(app=app, receiver=receiver, sweeper=sweeper)
