"""`/_sandbox/...`: the control endpoints a test or a developer uses on the CRM sandbox.

No authentication, no rate limit, no fault injection: the sandbox is a loopback tool. Pipeline
has nothing like these; they stand in for clicking around its UI (or for what cannot be done
there, like moving time).

- `GET  /_sandbox/account`: account, app key, every user with their api_key
- `POST /_sandbox/users` `{first_name, last_name, email, admin}`: add a user (returns its key);
  `POST /_sandbox/users/{id}/deactivate`: the user's key stops working
- `GET  /_sandbox/stats`: rows per table, API answers by status and method, rate limiting
- `GET  /_sandbox/clock`, `POST /_sandbox/clock/advance?seconds=`, `POST /_sandbox/clock/set?at=`
- `POST /_sandbox/reset`: empty account (the admin user only), counters cleared, clock back to
  real time; `POST /_sandbox/seed?people=&seed=`
- `GET  /_sandbox/{people|companies|deals}/{id}`: a record as the API shows it
- `GET  /_sandbox/account_notifications`: every notification, all users
- `POST|PUT|DELETE /_sandbox/as/{user_id}/{collection}[/{id}]`: a write made by that user (as
  in the UI): same rules and webhooks as the API, outside the API's rate limit
- `/_sandbox/webhooks/...` (webhooks_control.py) and `/_sandbox/faults` (faults.py)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from sandbox.crm.account_views import notification_json, user_json
from sandbox.crm.api import COLLECTIONS, parse_id, render
from sandbox.crm.errors import CrmJSONResponse, not_found
from sandbox.crm.formats import crm_timestamp
from sandbox.crm.inputs import read_root
from sandbox.crm.ratelimit import RateLimiter
from sandbox.crm.seed import seed_account
from sandbox.crm.store import CrmStore, Model
from sandbox.crm.transport import RequestCounter


class NewUser(BaseModel):
    first_name: str
    last_name: str
    email: str
    admin: bool = False
    api_key: str | None = None


def _model(collection: str) -> Model:
    if collection not in COLLECTIONS:
        raise not_found()
    return COLLECTIONS[collection]


def make_control_router(
    store: CrmStore, limiter: RateLimiter, counter: RequestCounter
) -> APIRouter:
    router = APIRouter(prefix="/_sandbox")
    config = store.config

    def clock_view() -> dict[str, Any]:
        now = store.clock.now()
        return {"now": now.isoformat(), "local": crm_timestamp(now, config.zone)}

    @router.get("/account")
    def account() -> dict[str, Any]:
        return {
            "account_id": config.account_id,
            "account_name": config.account_name,
            "time_zone": config.time_zone,
            "app_key": config.app_key,
            "app_name": config.app_name,
            "admin_api_key": config.admin_api_key,
            "users": [user_json(store, u, credentials=True) for u in store.rows("user")],
        }

    @router.post("/users")
    def add_user(user: NewUser) -> dict[str, Any]:
        row = store.add_user(
            user.first_name, user.last_name, user.email, admin=user.admin, api_key=user.api_key
        )
        return user_json(store, row, credentials=True)

    @router.post("/users/{user_id}/deactivate")
    def deactivate(user_id: int) -> dict[str, Any]:
        with store.locked():
            row = store.get("user", user_id)
            row["deleted_at"] = row["updated_at"] = store.clock.now()
        return user_json(store, row, credentials=True)

    @router.get("/stats")
    def stats() -> dict[str, Any]:
        return {"rows": store.counts(), "requests": counter.stats(), "rate_limit": limiter.stats()}

    @router.get("/clock")
    def clock() -> dict[str, Any]:
        return clock_view()

    @router.post("/clock/advance")
    def advance(seconds: float) -> dict[str, Any]:
        store.clock.advance(seconds)
        return clock_view()

    @router.post("/clock/set")
    def set_clock(at: datetime) -> dict[str, Any]:
        store.clock.set(at)
        return clock_view()

    @router.post("/reset")
    def reset() -> dict[str, Any]:
        store.clock.reset()
        store.reset()
        limiter.reset()
        counter.reset()
        return {"status": "reset", "rows": store.counts()}

    @router.post("/seed")
    def seed(people: int, seed: int = 42) -> dict[str, Any]:
        return {"rows": seed_account(store, people, seed)}

    @router.get("/account_notifications")
    def notifications() -> dict[str, Any]:
        rows = store.rows("account_notification")
        return {"entries": [notification_json(store, row) for row in rows]}

    @router.get("/{collection}/{record_id}")
    def read(collection: str, record_id: str) -> Response:
        model = _model(collection)
        with store.locked():
            return CrmJSONResponse(render(store, model, store.get(model, parse_id(record_id))))

    @router.post("/as/{user_id}/{collection}")
    async def create_as(request: Request, user_id: int, collection: str) -> Response:
        model = _model(collection)
        store.get("user", user_id)
        row = store.create(model, await read_root(request, model), user_id)
        with store.locked():
            return CrmJSONResponse(render(store, model, row))

    @router.put("/as/{user_id}/{collection}/{record_id}")
    async def update_as(
        request: Request, user_id: int, collection: str, record_id: str
    ) -> Response:
        model = _model(collection)
        store.get("user", user_id)
        body = await read_root(request, model)
        row = store.update(model, parse_id(record_id), body, user_id)
        with store.locked():
            return CrmJSONResponse(render(store, model, row))

    @router.delete("/as/{user_id}/{collection}/{record_id}")
    def delete_as(user_id: int, collection: str, record_id: str) -> Response:
        model = _model(collection)
        store.get("user", user_id)
        store.destroy(model, parse_id(record_id), user_id)
        return Response(status_code=204)

    return router
