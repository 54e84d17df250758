"""Webhook delivery: each person/company/deal change, POSTed to every matching registered webhook.

The payload is the thin one of the legacy Automations doc (reference 4.2): `{"trigger": <webhook
name>, "event_model", "event_action", "event_model_id"}`; the receiver must GET the record (after
a destroy it will 404). JSON by default (form encoding by configuration: the real encoding is
unknown); `event_action` in the registration's tense (create|update|destroy) or, by
configuration, the legacy doc's (created|updated|deleted). No signature: Pipeline has none.

Delivery runs in background tasks, never inside the API request: a first attempt after
`webhook_delay_s`, then retries `webhook_retry_base_s` x 1, 2, 4... apart up to
`webhook_max_attempts` (every delay x `time_scale`); a 2xx within `webhook_timeout_s` is a
success. Deliveries are independent (no ordering between them, as background jobs). After the
last failure the notice Pipeline would email to `failure_email` is recorded instead. Every
attempt is recorded for `GET /_sandbox/webhooks/deliveries`; `paused`, `drop_next` and `flush`
are in webhooks_control.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter, deque
from typing import Any

import httpx

from qbsync.logs import get_logger
from sandbox.crm.store import Change, CrmStore
from sandbox.crm.webhooks_control import LiveSettings, WebhookSettings, control_router
from sandbox.crm.webhooks_delivery import Delivery, post

log = get_logger(__name__)
_KEEP = 5000


class WebhookDispatcher:
    def __init__(self, store: CrmStore, http: httpx.AsyncClient | None = None) -> None:
        self.store = store
        config = store.config
        self.settings = LiveSettings(
            action_tense=config.webhook_action_tense,
            encoding=config.webhook_encoding,
            delay_s=config.webhook_delay_s,
            timeout_s=config.webhook_timeout_s,
            max_attempts=config.webhook_max_attempts,
            retry_base_s=config.webhook_retry_base_s,
            time_scale=config.time_scale,
        )
        self._http, self._owns_http = http, http is None
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unpaused: asyncio.Event | None = None
        self._waiting: list[Delivery] = []  # changes made before start()
        self._active: dict[str, Delivery] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._counts = {"changes": 0, "dropped": 0, "attempts": 0, "delivered": 0, "failed": 0}
        self.attempts: deque[dict[str, Any]] = deque(maxlen=_KEEP)
        self.failure_notices: deque[dict[str, Any]] = deque(maxlen=_KEEP)
        self.router = control_router(self)

    # -- the store's side: safe from any thread, never blocks -----------------------------
    def notify(self, change: Change) -> None:
        hooks = [
            hook
            for hook in self.store.rows("webhook")
            if hook["is_activated"]
            and (hook["event_model"], hook["event_action"]) == (change.model, change.action)
        ]
        with self._lock:
            self._counts["changes"] += 1
            if self.settings.drop_next:
                self.settings.drop_next -= 1
                self._counts["dropped"] += 1
                return
            for hook in hooks:
                self._launch_soon(Delivery.of(hook, change, self.settings.action_tense))

    def _launch_soon(self, delivery: Delivery) -> None:
        if self._loop is None:
            self._waiting.append(delivery)
            return
        with contextlib.suppress(RuntimeError):  # the loop has just closed: nothing to run
            self._loop.call_soon_threadsafe(self._launch, delivery)

    def _launch(self, delivery: Delivery) -> None:
        self._active[delivery.id] = delivery
        task = asyncio.create_task(self._run(delivery), name=f"crm-webhook {delivery.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._unpaused = asyncio.Event()
        if not self.settings.paused:
            self._unpaused.set()
        if self._http is None:
            self._http = httpx.AsyncClient()
        with self._lock:
            waiting, self._waiting = self._waiting, []
        for delivery in waiting:
            self._launch(delivery)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None
        self._loop = None

    # -- control ----------------------------------------------------------------------------
    def apply(self, settings: WebhookSettings) -> None:
        with self._lock:
            for name, value in settings.model_dump(exclude_none=True).items():
                setattr(self.settings, name, value)
        if self._unpaused is not None:
            if self.settings.paused:
                self._unpaused.clear()
            else:
                self._unpaused.set()

    async def flush(self) -> list[dict[str, Any]]:
        """Attempt every waiting delivery now (first tries and retries alike); return the
        attempts this made. While paused, nothing is attempted."""
        await asyncio.sleep(0)  # let deliveries launched from other threads start
        pending = [d for d in self._active.values() if not d.done]
        marks = {d.id: d.attempts for d in pending}
        for delivery in pending:
            delivery.attempted.clear()
            delivery.wake.set()
        if pending and not self.settings.paused:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*(d.attempted.wait() for d in pending)),
                    self.settings.timeout_s + 2,
                )
        return [
            a
            for a in list(self.attempts)
            if a["delivery_id"] in marks and a["attempt"] > marks[a["delivery_id"]]
        ]

    def view(self) -> dict[str, Any]:
        with self._lock:
            counts = dict(self._counts)
        return {
            "settings": self.settings.model_dump(),
            "registered": len(self.store.rows("webhook")),
            "in_flight": sum(1 for d in self._active.values() if not d.done),
            "in_flight_by_url": dict(Counter(d.url for d in self._active.values() if not d.done)),
            "counts": counts,
        }

    # -- delivery ---------------------------------------------------------------------------
    async def _run(self, delivery: Delivery) -> None:
        delay = self.settings.delay_s * self.settings.time_scale
        try:
            while not delivery.done:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(delivery.wake.wait(), delay)
                assert self._unpaused is not None
                await self._unpaused.wait()
                delivery.attempts += 1
                assert self._http is not None
                status, error = await post(self._http, delivery, self.settings)
                ok = status is not None and 200 <= status < 300
                delivery.done = ok or delivery.attempts >= self.settings.max_attempts
                delay = self._backoff(delivery.attempts)
                self._record(delivery, status, error, None if delivery.done else delay)
                if delivery.done and not ok:
                    self._give_up(delivery)
                delivery.wake.clear()  # a flush that came mid-attempt has had its attempt
                delivery.attempted.set()
        finally:
            delivery.done = True
            delivery.attempted.set()  # never leave a flush waiting on a cancelled delivery
            self._active.pop(delivery.id, None)

    def _backoff(self, failed_attempts: int) -> float:
        scale = self.settings.time_scale
        return float(self.settings.retry_base_s * 2 ** (failed_attempts - 1) * scale)

    def _record(
        self, delivery: Delivery, status: int | None, error: str | None, retry_in: float | None
    ) -> None:
        ok = status is not None and 200 <= status < 300
        now = self.store.clock.now()
        with self._lock:
            self._counts["attempts"] += 1
            if ok:
                self._counts["delivered"] += 1
            elif delivery.done:
                self._counts["failed"] += 1
        with self.store.locked() as store:
            hook = store.tables["webhook"].get(delivery.webhook_id)
            if hook is not None:
                hook["last_run_at"] = now
        self.attempts.append(
            {
                "delivery_id": delivery.id,
                "webhook_id": delivery.webhook_id,
                "url": delivery.url,
                "attempt": delivery.attempts,
                "ok": ok,
                "status": status,
                "error": error,
                "next_retry_in_s": retry_in,
                "encoding": self.settings.encoding,
                "payload": dict(delivery.payload),
                "time": now.isoformat(),
            }
        )
        if not ok:
            log.info("crm_sandbox.webhook_failed", url=delivery.url, error=error)

    def _give_up(self, delivery: Delivery) -> None:
        self.failure_notices.append(
            {
                "to": delivery.failure_email,
                "webhook_id": delivery.webhook_id,
                "delivery_id": delivery.id,
                "url": delivery.url,
                "payload": dict(delivery.payload),
                "attempts": delivery.attempts,
                "time": self.store.clock.now().isoformat(),
            }
        )
