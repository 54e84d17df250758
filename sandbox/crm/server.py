"""The Pipeline CRM sandbox as one ASGI app, and `serve()` for `qbsync sandbox crm`.

Middleware, outermost first: the API transport (`.json` suffix, request id, answer counts), the
rate limiter (it counts every call, failed or not, and puts its headers on every `/api` answer),
fault injection, then the routes: `/api/v3` (data and admin) and the `/_sandbox` control
endpoints (webhooks, faults, the rest).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from sandbox.crm.api import DataApi
from sandbox.crm.api_admin import make_admin_api
from sandbox.crm.clock import SandboxClock
from sandbox.crm.config import CrmSandboxConfig
from sandbox.crm.control import make_control_router
from sandbox.crm.errors import install_error_handlers
from sandbox.crm.faults import CrmFaultInjectionMiddleware, FaultPlan, make_router
from sandbox.crm.ratelimit import RateLimiter, RateLimitMiddleware
from sandbox.crm.seed import seed_account
from sandbox.crm.store import CrmStore
from sandbox.crm.transport import ApiTransportMiddleware, RequestCounter
from sandbox.crm.webhooks import WebhookDispatcher


@dataclass(frozen=True)
class CrmParts:
    """The live pieces of an app, at `app.state.crm`, for in-process tests and tools."""

    config: CrmSandboxConfig
    clock: SandboxClock
    store: CrmStore
    webhooks: WebhookDispatcher
    faults: FaultPlan
    limiter: RateLimiter
    requests: RequestCounter


def create_app(config: CrmSandboxConfig, *, clock: SandboxClock | None = None) -> FastAPI:
    clock = clock or SandboxClock()
    store = CrmStore(config, clock)
    if config.seed_people:
        seed_account(store, config.seed_people, config.seed_random)
    webhooks = WebhookDispatcher(store)
    store.on_change = webhooks.notify
    plan, limiter, counter = FaultPlan(), RateLimiter(config), RequestCounter()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await webhooks.start()
        try:
            yield
        finally:
            await webhooks.stop()

    app = FastAPI(
        title="Pipeline CRM sandbox (qbsync)",
        lifespan=lifespan,
        docs_url="/_sandbox/docs",
        redoc_url=None,
        openapi_url="/_sandbox/openapi.json",
    )
    install_error_handlers(app)
    data = DataApi(store)
    app.include_router(data.router)
    app.include_router(make_admin_api(store, data))
    # Before the control router: its `/_sandbox/{collection}/{id}` would shadow these.
    app.include_router(webhooks.router)
    app.include_router(make_router(plan))
    app.include_router(make_control_router(store, limiter, counter))
    # add_middleware wraps: the last added runs first.
    app.add_middleware(CrmFaultInjectionMiddleware, plan=plan)
    app.add_middleware(RateLimitMiddleware, limiter=limiter)
    app.add_middleware(ApiTransportMiddleware, counter=counter)
    app.state.crm = CrmParts(config, clock, store, webhooks, plan, limiter, counter)
    return app


def serve(host: str, port: int, config: CrmSandboxConfig) -> None:
    """Run the sandbox until interrupted, after printing the account and keys as Pipeline's
    admin pages show them (a local sandbox: printing its keys is the point)."""
    app = create_app(config)
    print(account_details(app.state.crm, f"http://{host}:{port}"), flush=True)
    uvicorn.run(app, host=host, port=port, log_level="info")


def account_details(parts: CrmParts, base_url: str) -> str:
    config, store = parts.config, parts.store
    users = [
        f"    {u['id']}  {u['first_name']} {u['last_name']} <{u['email']}>  "
        f"{'admin' if u['is_account_admin'] else 'basic'}  api_key={u['api_key']}"
        for u in store.rows("user")
    ]
    counts = store.counts()
    lines = [
        "Pipeline CRM sandbox (qbsync)",
        f"  Base URL (API):       {base_url}/api/v3",
        f"  Admin api_key:        {config.admin_api_key}",
        f"  App key (app_key):    {config.app_key}  ({config.app_name}, app id {config.app_id})",
        f"  Account:              {config.account_id}  {config.account_name}  ({config.time_zone})",
        f"  Example:              {base_url}/api/v3/profile.json"
        f"?api_key={config.admin_api_key}&app_key={config.app_key}",
        "  Users:",
        *users,
        f"  Records:              {counts['person']} people, {counts['company']} companies, "
        f"{counts['deal']} deals",
        f"  Limits:               {config.rate_limit_per_second} requests/s per "
        f"{config.rate_limit_scope.replace('_', ' ')}, per_page <= {config.per_page_max}",
        f"  Webhooks:             event_action tense {config.webhook_action_tense}, "
        f"{config.webhook_max_attempts} attempts, {config.webhook_encoding}",
        f"  Control endpoints:    {base_url}/_sandbox/docs  (stats: {base_url}/_sandbox/stats)",
    ]
    return "\n".join(lines)
