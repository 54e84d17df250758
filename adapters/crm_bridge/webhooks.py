"""Pipeline CRM webhooks: a thin payload (model, action, id) → fetch the record → publish.

Pipeline signs nothing, so each tenant's webhook URL carries a secret token
(`/v1/crm/webhooks/{tenant}?token=...`) that we check in constant time. The request only
checks and queues; a background task fetches and publishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from adapters.crm_bridge import events
from adapters.crm_bridge.ports import CRM_MODELS, CrmModel, CrmReader
from adapters.ports import Publisher
from adapters.relaying import RecentIds, publish_once
from adapters.secrets import TenantSecrets
from qbsync.logs import get_logger
from schemas.topics import CRM_CHANGES

log = get_logger(__name__)
WEBHOOK_PATH = "/v1/crm/webhooks/{tenant}"
# Pipeline's docs name the actions in the present tense and (older docs) the past tense.
_ACTIONS = {
    "create": "create",
    "created": "create",
    "update": "update",
    "updated": "update",
    "destroy": "destroy",
    "deleted": "destroy",
    "destroyed": "destroy",
}


@dataclass(frozen=True)
class CrmNotification:
    tenant: str
    model: CrmModel
    action: str  # create | update | destroy
    record_id: int


def parse_payload(body: bytes, content_type: str) -> tuple[str, str, int]:
    """(event_model, action, id) from a JSON or form-encoded thin payload; ValueError if not."""
    if "json" in content_type or body.lstrip().startswith(b"{"):
        doc = json.loads(body)
    else:
        doc = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    if not isinstance(doc, dict):
        raise ValueError("payload is not an object")
    model, action = str(doc.get("event_model", "")), _ACTIONS.get(str(doc.get("event_action")))
    if model not in CRM_MODELS or action is None:
        raise ValueError(f"unknown event {doc.get('event_model')!r}/{doc.get('event_action')!r}")
    return model, action, int(doc["event_model_id"])


class CrmWebhookReceiver:
    def __init__(
        self,
        tokens: TenantSecrets,
        reader_for: Callable[[str], CrmReader | None],
        publisher: Publisher,
        clock: Callable[[], datetime],
    ) -> None:
        self._tokens, self._reader_for = tokens, reader_for
        self._publisher, self._clock = publisher, clock
        self._queue: asyncio.Queue[CrmNotification] = asyncio.Queue()
        self._recent = RecentIds()
        self.published = 0
        self.router = APIRouter()
        self.router.add_api_route(WEBHOOK_PATH, self.receive, methods=["POST"])

    async def receive(self, tenant: str, request: Request) -> JSONResponse:
        if not self._tokens.matches(tenant, request.query_params.get("token")):
            return JSONResponse({"error": "unknown tenant or bad token"}, status_code=401)
        body = await request.body()
        try:
            model, action, record_id = parse_payload(body, request.headers.get("content-type", ""))
        except (ValueError, KeyError, UnicodeDecodeError) as exc:
            return JSONResponse({"error": f"unreadable CRM webhook: {exc}"}, status_code=422)
        self._queue.put_nowait(CrmNotification(tenant, model, action, record_id))  # type: ignore[arg-type]
        return JSONResponse({"accepted": 1})

    async def run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            with contextlib.suppress(asyncio.QueueEmpty):
                while len(batch) < 200:
                    batch.append(self._queue.get_nowait())
            await self._until_done(batch)

    async def drain(self) -> None:
        batch: list[CrmNotification] = []
        while not self._queue.empty():
            batch.append(self._queue.get_nowait())
        if batch:
            await self._until_done(batch)

    async def _until_done(self, batch: list[CrmNotification]) -> None:
        backoff = 0.5
        while True:
            try:
                await self._relay(batch)
                return
            except Exception:
                log.exception("crm_webhook_relay_failed", size=len(batch), retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 60.0)

    async def _relay(self, batch: list[CrmNotification]) -> None:
        found = []
        for note in batch:
            if note.action == "destroy":
                found.append(
                    events.deleted_event(
                        note.tenant, note.model, note.record_id, self._clock(), "webhook"
                    )
                )
                continue
            reader = self._reader_for(note.tenant)
            record = await reader.read(note.model, note.record_id) if reader else None
            if record is None:  # gone since; its destroy webhook (or the sweep) will say so
                log.info("crm_record_missing", model=note.model, id=note.record_id)
                continue
            found.append(events.changed_event(note.tenant, note.model, record))
        published, _ = await publish_once(self._publisher, CRM_CHANGES, found, self._recent)
        self.published += published
