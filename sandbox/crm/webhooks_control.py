"""The webhook dispatcher's control API, under `/_sandbox/webhooks` (no auth: a loopback tool).

- `GET ""`: settings, registered webhooks count, deliveries in flight, counters;
- `PUT ""`: change any of paused, drop_next (the next N changes notify no one, as a lost
  automation run would), action_tense, encoding, delay_s, timeout_s, max_attempts,
  retry_base_s, time_scale;
- `GET /deliveries[?url=&limit=]`: every attempt (url, attempt, status or error, payload, time);
  `DELETE /deliveries` clears the log;
- `POST /flush`: attempt every waiting delivery now (first tries and retries) and return those
  attempts;
- `GET /failures`: the notices Pipeline would have emailed to `failure_email`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from sandbox.crm.webhooks import WebhookDispatcher


class LiveSettings(BaseModel):
    """What the dispatcher does now: the configuration's values, then whatever PUT changed."""

    model_config = ConfigDict(validate_assignment=True)

    paused: bool = False
    drop_next: int = Field(default=0, ge=0)
    action_tense: Literal["present", "past"]
    encoding: Literal["json", "form"]
    delay_s: float = Field(ge=0)
    timeout_s: float = Field(gt=0)
    max_attempts: int = Field(ge=1)
    retry_base_s: float = Field(ge=0)
    time_scale: float = Field(gt=0)


class WebhookSettings(BaseModel):
    """A change to the live settings: only the fields given."""

    model_config = ConfigDict(extra="forbid")

    paused: bool | None = None
    drop_next: int | None = Field(default=None, ge=0)
    action_tense: Literal["present", "past"] | None = None
    encoding: Literal["json", "form"] | None = None
    delay_s: float | None = Field(default=None, ge=0)
    timeout_s: float | None = Field(default=None, gt=0)
    max_attempts: int | None = Field(default=None, ge=1)
    retry_base_s: float | None = Field(default=None, ge=0)
    time_scale: float | None = Field(default=None, gt=0)


def control_router(dispatcher: WebhookDispatcher) -> APIRouter:
    router = APIRouter(prefix="/_sandbox/webhooks")

    @router.get("")
    async def get_settings() -> dict[str, Any]:
        return dispatcher.view()

    @router.put("")
    async def put_settings(settings: WebhookSettings) -> dict[str, Any]:
        dispatcher.apply(settings)
        return dispatcher.view()

    @router.get("/deliveries")
    async def get_deliveries(url: str | None = None, limit: int | None = None) -> Any:
        found = [a for a in list(dispatcher.attempts) if url is None or a["url"] == url]
        return {"deliveries": found[-limit:] if limit else found}

    @router.delete("/deliveries")
    async def delete_deliveries() -> dict[str, Any]:
        dispatcher.attempts.clear()
        dispatcher.failure_notices.clear()
        return {"deliveries": []}

    @router.post("/flush")
    async def post_flush() -> dict[str, Any]:
        return {"attempts": await dispatcher.flush()}

    @router.get("/failures")
    async def get_failures() -> dict[str, Any]:
        return {"failures": list(dispatcher.failure_notices)}

    return router
