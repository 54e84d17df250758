"""The webhook emitter's control API, under `/_sandbox/webhooks` (what Intuit's portal shows).

- `GET ""`: settings and counters; `PUT ""`: change any of urls, format, batch_window_s, paused,
  drop_next (the next N changes are lost, as a missed notification would be);
- `GET /deliveries[?url=&limit=]`: every attempt (url, attempt, status or error, payload, time);
  `DELETE /deliveries` clears the log;
- `POST /flush[?retry=true]`: cut the batch now, wait for its first attempt and return it
  (`retry=true` also retries held batches at once instead of waiting for their next slot).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator

from sandbox.qbo.webhooks_payload import PayloadFormat

if TYPE_CHECKING:
    from sandbox.qbo.webhooks import WebhookNotifier


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    urls: list[str] | None = None
    format: PayloadFormat | None = None
    batch_window_s: float | None = Field(default=None, ge=0)
    paused: bool | None = None
    drop_next: int | None = Field(default=None, ge=0)

    @field_validator("urls")
    @classmethod
    def _http_urls(cls, urls: list[str] | None) -> list[str] | None:
        for url in urls or []:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"not an http(s) URL: {url!r}")
        return urls


def control_router(notifier: WebhookNotifier) -> APIRouter:
    router = APIRouter(prefix="/_sandbox/webhooks")

    @router.get("")
    async def get_settings() -> dict[str, Any]:
        return notifier.view()

    @router.put("")
    async def put_settings(settings: WebhookSettings) -> dict[str, Any]:
        await notifier.apply(settings)
        return notifier.view()

    @router.get("/deliveries")
    async def get_deliveries(url: str | None = None, limit: int | None = None) -> Any:
        return {"deliveries": notifier.deliveries(url, limit)}

    @router.delete("/deliveries")
    async def delete_deliveries() -> dict[str, Any]:
        notifier.clear_deliveries()
        return {"deliveries": []}

    @router.post("/flush")
    async def post_flush(retry: bool = False) -> dict[str, Any]:
        return {"attempts": await notifier.flush(retry)}

    return router
