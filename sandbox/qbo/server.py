"""The QBO sandbox as one ASGI app, and `serve()` for `qbsync sandbox qbo`.

Middleware, outermost first: an `intuit_tid` header on every answer (QBO's support handle),
throttling (QBO counts every call, failed or not), fault injection, then the routes: OAuth,
the v3 data API, webhooks and the `/_sandbox` control endpoints.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.qbo.admin import make_admin_router
from sandbox.qbo.api import DataApi, install_error_handlers
from sandbox.qbo.clock import SandboxClock
from sandbox.qbo.config import QboSandboxConfig
from sandbox.qbo.faultinject import FaultInjectionMiddleware, FaultPlan, make_router
from sandbox.qbo.oauth import OAuthServer
from sandbox.qbo.seed import seed_realm
from sandbox.qbo.store import QboStore
from sandbox.qbo.throttle import ThrottleLedger, ThrottleMiddleware
from sandbox.qbo.webhooks import WebhookNotifier


@dataclass(frozen=True)
class SandboxParts:
    """The live pieces of an app, at `app.state.qbo`, for in-process tests and tools."""

    config: QboSandboxConfig
    clock: SandboxClock
    store: QboStore
    oauth: OAuthServer
    notifier: WebhookNotifier
    faults: FaultPlan
    throttle: ThrottleLedger


def create_app(config: QboSandboxConfig, *, clock: SandboxClock | None = None) -> FastAPI:
    clock = clock or SandboxClock(config.utc_offset_hours)
    store = QboStore(clock)
    for realm in config.realms:
        store.add_realm(realm.realm_id, realm.company_name)
        if config.seed_customers:
            seed_realm(store, realm.realm_id, config.seed_customers, config.seed_random)
    oauth = OAuthServer(config, clock)
    notifier = WebhookNotifier(config, clock)
    store.on_change = notifier.notify
    plan = FaultPlan()
    ledger = ThrottleLedger(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await notifier.start()
        try:
            yield
        finally:
            await notifier.stop()

    app = FastAPI(
        title="QuickBooks Online sandbox (qbsync)",
        lifespan=lifespan,
        docs_url="/_sandbox/docs",
        redoc_url=None,
        openapi_url="/_sandbox/openapi.json",
    )
    install_error_handlers(app)
    app.include_router(oauth.router)
    app.include_router(DataApi(store, clock, oauth.authenticate, config.batch_max_items).router)
    app.include_router(notifier.router)
    app.include_router(make_router(plan))
    app.include_router(make_admin_router(store, clock, ledger))
    # add_middleware wraps: the last added runs first.
    app.add_middleware(FaultInjectionMiddleware, plan=plan, clock=clock)
    app.add_middleware(ThrottleMiddleware, config=config, clock=clock, ledger=ledger)
    app.add_middleware(IntuitTidMiddleware)
    app.state.qbo = SandboxParts(config, clock, store, oauth, notifier, plan, ledger)
    return app


def serve(host: str, port: int, config: QboSandboxConfig) -> None:
    """Run the sandbox until interrupted, after printing the developer app as Intuit's portal
    shows it (a local sandbox: printing its secrets is the point)."""
    app = create_app(config)
    print(developer_app_details(config, f"http://{host}:{port}"), flush=True)
    uvicorn.run(app, host=host, port=port, log_level="info")


def developer_app_details(config: QboSandboxConfig, base_url: str) -> str:
    realms = [f"    {r.realm_id}  {r.company_name}" for r in config.realms]
    users = [f"    {u.username}: {', '.join(u.realm_ids)}" for u in config.users]
    webhooks = [f"    {url}" for url in config.webhook_urls] or ["    (none)"]
    lines = [
        "QuickBooks Online sandbox (qbsync)",
        f"  Base URL (API):       {base_url}/v3",
        f"  Discovery document:   {base_url}/.well-known/openid_configuration",
        f"  Client ID:            {config.client_id}",
        f"  Client Secret:        {config.client_secret}",
        f"  Webhook verifier:     {config.webhook_verifier_token}",
        "  Redirect URIs:",
        *[f"    {uri}" for uri in config.redirect_uris],
        f"  Webhook URLs ({config.webhook_format}, batched every "
        f"{config.webhook_batch_window_s:g} s):",
        *webhooks,
        "  Companies (realm id, name):",
        *realms,
        "  Users who can connect:",
        *users,
        f"  Limits: {config.rate_per_second}/s and {config.rate_per_minute}/min per realm, "
        f"batch {config.batch_max_items} items and {config.batch_requests_per_minute}/min",
        f"  Control endpoints:    {base_url}/_sandbox/docs",
    ]
    return "\n".join(lines)


class IntuitTidMiddleware:
    """Every QBO answer carries an `intuit_tid` header, the id Intuit support asks for."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tid = f"1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}".encode()

        async def send_with_tid(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"intuit_tid", tid)]
            await send(message)

        await self.app(scope, receive, send_with_tid)
