"""One delivery: the thin payload for one webhook and one change, and one POST of it.

Payload (reference 4.2): `{"trigger": <webhook name>, "event_model", "event_action",
"event_model_id"}`, the action in the registration's tense or the legacy doc's past tense; JSON,
or form fields when so configured. No signature header: Pipeline sends none.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from sandbox.crm.webhooks_control import LiveSettings

if TYPE_CHECKING:
    from sandbox.crm.store import Change

_PAST = {"create": "created", "update": "updated", "destroy": "deleted"}


@dataclass
class Delivery:
    id: str
    webhook_id: int
    url: str
    failure_email: str | None
    payload: dict[str, Any]
    attempts: int = 0
    done: bool = False
    # Set by a flush to skip the wait; set after each attempt for whoever flushed.
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    attempted: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    def of(cls, hook: dict[str, Any], change: Change, tense: str) -> Delivery:
        action = change.action if tense == "present" else _PAST[change.action]
        payload = {
            "trigger": hook["name"],
            "event_model": change.model,
            "event_action": action,
            "event_model_id": change.id,
        }
        return cls(uuid.uuid4().hex[:12], hook["id"], hook["url"], hook["failure_email"], payload)


async def post(
    http: httpx.AsyncClient, delivery: Delivery, settings: LiveSettings
) -> tuple[int | None, str | None]:
    """(HTTP status or None, error text or None); a 2xx within the timeout is a success."""
    body: dict[str, Any] = (
        {"json": delivery.payload}
        if settings.encoding == "json"
        else {"data": {k: str(v) for k, v in delivery.payload.items()}}
    )
    try:
        response = await http.post(delivery.url, timeout=settings.timeout_s, **body)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return None, f"{type(exc).__name__}: {exc}".rstrip(": ")
    ok = 200 <= response.status_code < 300
    return response.status_code, None if ok else f"HTTP {response.status_code}"
