"""The webhook emitter: every entity change, batched, signed and POSTed to the subscribed URLs.

`notify()` only records the change (thread-safe, never blocks). A background task cuts a batch
`batch_window_s` after the first change of a batch, encodes it (legacy or CloudEvents, see
webhooks_payload.py) and queues one POST per URL; each URL's deliveries and retries are in
webhooks_delivery.py. Every attempt is recorded for `GET /_sandbox/webhooks/deliveries`.

The control API (`notifier.router`, under `/_sandbox/webhooks`) is in webhooks_control.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import uuid
from collections import deque
from typing import Any

import httpx

from qbsync.logs import get_logger, register_secret
from sandbox.qbo.changes import EntityChange
from sandbox.qbo.clock import SandboxClock
from sandbox.qbo.config import QboSandboxConfig
from sandbox.qbo.webhooks_control import WebhookSettings, control_router
from sandbox.qbo.webhooks_delivery import AttemptOutcome, Batch, Endpoint
from sandbox.qbo.webhooks_payload import PayloadFormat, encode, event_source, sign

log = get_logger(__name__)
_KEEP_ATTEMPTS = 1000


class WebhookNotifier:
    def __init__(
        self,
        config: QboSandboxConfig,
        clock: SandboxClock,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.urls: list[str] = list(config.webhook_urls)
        self.format: PayloadFormat = config.webhook_format
        self.batch_window_s = config.webhook_batch_window_s
        self.source = event_source(config.client_id)
        register_secret(config.webhook_verifier_token)
        self._http = http
        self._owns_http = http is None
        self._lock = threading.Lock()
        self._pending: list[EntityChange] = []
        self._drop_next = 0
        self._counts = {"notified": 0, "dropped": 0, "batches": 0, "delivered": 0, "failed": 0}
        self._attempts: deque[dict[str, Any]] = deque(maxlen=_KEEP_ATTEMPTS)
        self._endpoints: dict[str, Endpoint] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._arrived: asyncio.Event | None = None
        self._unpaused: asyncio.Event | None = None
        self._batcher: asyncio.Task[None] | None = None
        self.router = control_router(self)

    # -- the store's side -------------------------------------------------------------------
    def notify(self, change: EntityChange) -> None:
        """Record a change for the next batch. Safe from any thread; never blocks."""
        with self._lock:
            self._counts["notified"] += 1
            if self._drop_next > 0:
                self._drop_next -= 1
                self._counts["dropped"] += 1
                return
            self._pending.append(change)
            loop, arrived = self._loop, self._arrived
        if loop is not None and arrived is not None:
            with contextlib.suppress(RuntimeError):  # the loop has just closed: nothing to wake
                loop.call_soon_threadsafe(arrived.set)

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._arrived, self._unpaused = asyncio.Event(), asyncio.Event()
        self._unpaused.set()
        if self._http is None:
            self._http = httpx.AsyncClient()
        for url in self.urls:
            self._endpoint(url)
        with self._lock:
            if self._pending:
                self._arrived.set()
        self._batcher = asyncio.create_task(self._batch_loop(), name="qbo-webhook batcher")

    async def stop(self) -> None:
        if self._batcher is not None:
            self._batcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._batcher
        for endpoint in list(self._endpoints.values()):
            await endpoint.stop()
        self._endpoints.clear()
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    # -- settings, flush, records ----------------------------------------------------------
    async def apply(self, settings: WebhookSettings) -> None:
        if settings.urls is not None:
            self.urls = list(dict.fromkeys(settings.urls))
            for url in set(self._endpoints) - set(self.urls):
                await self._endpoints.pop(url).stop()  # its queued posts are dropped
            if self._unpaused is not None:
                for url in self.urls:
                    self._endpoint(url)
        if settings.format is not None:
            self.format = settings.format
        if settings.batch_window_s is not None:
            self.batch_window_s = settings.batch_window_s
        if settings.drop_next is not None:
            with self._lock:
                self._drop_next = settings.drop_next
        if settings.paused is not None and self._unpaused is not None:
            if settings.paused:
                self._unpaused.clear()
            else:
                self._unpaused.set()

    async def flush(self, retry: bool = False) -> list[dict[str, Any]]:
        """Cut the batch now; return the first attempt of each POST that is not held behind
        a failing batch (waiting at most the delivery timeout)."""
        if retry:
            for endpoint in self._endpoints.values():
                endpoint.retry_now()
        batches = self._cut()
        paused = self._unpaused is not None and not self._unpaused.is_set()
        awaited = [
            batch.attempted.wait()
            for endpoint, batch in batches
            if not paused and (retry or not endpoint.holding)
        ]
        if awaited:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*awaited), self.config.webhook_timeout_s + 2)
        ids = {b.batch_id for _, b in batches}
        return [a for a in list(self._attempts) if a["batch_id"] in ids]

    def deliveries(self, url: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        found = [a for a in list(self._attempts) if url is None or a["url"] == url]
        return found[-limit:] if limit else found

    def clear_deliveries(self) -> None:
        self._attempts.clear()

    def view(self) -> dict[str, Any]:
        with self._lock:
            pending, drop_next, counts = len(self._pending), self._drop_next, dict(self._counts)
        return {
            "settings": {
                "urls": self.urls,
                "format": self.format,
                "batch_window_s": self.batch_window_s,
                "paused": self._unpaused is not None and not self._unpaused.is_set(),
                "drop_next": drop_next,
                "time_scale": self.config.time_scale,
                "timeout_s": self.config.webhook_timeout_s,
            },
            "pending_changes": pending,
            "queued_posts": {url: len(e.queue) for url, e in self._endpoints.items()},
            "counts": counts,
        }

    # -- internals --------------------------------------------------------------------------
    def _endpoint(self, url: str) -> Endpoint:
        if self._unpaused is None:
            raise RuntimeError("WebhookNotifier.start() has not run")
        if url not in self._endpoints:
            endpoint = Endpoint(
                url, self._send, self._record, self._unpaused, lambda: self.config.time_scale
            )
            endpoint.start()
            self._endpoints[url] = endpoint
        return self._endpoints[url]

    async def _batch_loop(self) -> None:
        assert self._arrived is not None
        while True:
            await self._arrived.wait()
            await asyncio.sleep(self.batch_window_s)  # the window opens with its first change
            try:
                self._cut()
            except Exception:  # one bad batch must not silence every later webhook
                log.exception("qbo_sandbox.webhook_batch_failed")

    def _cut(self) -> list[tuple[Endpoint, Batch]]:
        with self._lock:
            changes, self._pending = self._pending, []
            if self._arrived is not None:
                self._arrived.clear()
        bodies = encode(changes, self.format, self.source)
        queued: list[tuple[Endpoint, Batch]] = []
        for url in self.urls:
            endpoint = self._endpoint(url)
            for body in bodies:
                batch = Batch(uuid.uuid4().hex[:12], body.content, body.events)
                endpoint.enqueue(batch)
                queued.append((endpoint, batch))
        with self._lock:
            self._counts["batches"] += len(queued)
        return queued

    async def _send(self, url: str, body: bytes) -> tuple[int | None, str | None]:
        assert self._http is not None
        headers = {
            "Content-Type": "application/json",
            "intuit-signature": sign(body, self.config.webhook_verifier_token),
        }
        try:
            response = await self._http.post(
                url, content=body, headers=headers, timeout=self.config.webhook_timeout_s
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return None, f"{type(exc).__name__}: {exc}".rstrip(": ")
        ok = 200 <= response.status_code < 300
        return response.status_code, None if ok else f"HTTP {response.status_code}"

    def _record(self, outcome: AttemptOutcome) -> None:
        with self._lock:
            self._counts["delivered" if outcome.ok else "failed"] += 1
        self._attempts.append(
            {
                "url": outcome.url,
                "batch_id": outcome.batch.batch_id,
                "attempt": outcome.attempt,
                "ok": outcome.ok,
                "status": outcome.status,
                "error": outcome.error,
                "events": outcome.batch.events,
                "next_retry_in_s": outcome.next_retry_in_s,
                "time": self.clock.now_precise().isoformat(timespec="milliseconds"),
                "payload": json.loads(outcome.batch.body),
            }
        )
