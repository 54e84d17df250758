"""The webhook endpoint: verify, enqueue, answer at once; a background task does the work.

Intuit wants a 200 within 3 s, so the request path only checks the signature and parses; fetching
entities and publishing happen in `run()`. What is in the queue when the process dies is lost here,
and healed by the next CDC sweep (adapters/qbo_bridge/cdc.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from adapters.ports import Publisher
from adapters.qbo_bridge import signature
from adapters.qbo_bridge.payloads import Notification, PayloadError, parse
from adapters.qbo_bridge.relay import ChangeRelay, RelayReport
from engine.deadletter import RawMessage, dead_letter_for
from engine.ids import derived_id
from qbsync.logs import get_logger
from schemas.topics import DEAD_LETTER

log = get_logger(__name__)
WEBHOOK_PATH = "/v1/qbo/webhooks"


class WebhookReceiver:
    def __init__(
        self,
        verifier_token: str,
        relay: ChangeRelay,
        publisher: Publisher,
        clock: Callable[[], datetime],
        batch_max: int = 500,
        batch_wait_s: float = 0.2,
    ) -> None:
        self._verifier = verifier_token
        self._relay, self._publisher, self._clock = relay, publisher, clock
        self._queue: asyncio.Queue[Notification] = asyncio.Queue()
        self._batch_max, self._batch_wait_s = batch_max, batch_wait_s
        self.totals = RelayReport()
        self.router = APIRouter()
        self.router.add_api_route(WEBHOOK_PATH, self.receive, methods=["POST"])

    async def receive(self, request: Request) -> JSONResponse:
        body = await request.body()
        if not signature.is_valid(body, request.headers.get("intuit-signature"), self._verifier):
            log.warning("qbo_webhook_bad_signature", length=len(body))
            return JSONResponse({"error": "invalid intuit-signature"}, status_code=401)
        try:
            payload = parse(body)
        except PayloadError as exc:
            # Signed, so it is Intuit's: keep it (dead letter) and say 200, else Intuit retries.
            await self._dead_letter(body, str(exc))
            return JSONResponse({"accepted": 0, "error": str(exc)})
        for note in payload.notifications:
            self._queue.put_nowait(note)
        return JSONResponse({"accepted": len(payload.notifications), "ignored": payload.ignored})

    async def run(self) -> None:
        """Drain the queue in batches until cancelled; a failing batch is retried with backoff."""
        while True:
            batch = [await self._queue.get()]
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._batch_wait_s):
                    while len(batch) < self._batch_max:
                        batch.append(await self._queue.get())
            await self._relay_until_done(batch)

    async def drain(self) -> None:
        """Relay whatever is queued now (tests and shutdown)."""
        batch: list[Notification] = []
        while not self._queue.empty():
            batch.append(self._queue.get_nowait())
        if batch:
            await self._relay_until_done(batch)

    async def _relay_until_done(self, batch: list[Notification]) -> None:
        backoff = 0.5
        while True:
            try:
                self.totals.add(await self._relay.relay_notifications(batch))
                return
            except Exception:
                log.exception("qbo_webhook_relay_failed", size=len(batch), retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 60.0)

    async def _dead_letter(self, body: bytes, reason: str) -> None:
        position = derived_id(body.decode(errors="replace"), "qbo-webhook")
        letter = dead_letter_for(
            RawMessage(f"qbo-webhook:{position}", None, None, None, body),
            "ingest",
            f"unreadable QBO webhook: {reason}",
            (),
            self._clock(),
            worker="qbo-bridge",
        )
        await self._publisher.publish(DEAD_LETTER, letter)
        await self._publisher.flush()
