"""A burst of 2,000 customer writes through our QBO adapter against the sandbox's rate limits.

Figures: 429s received (must be 0: the client-side limiter keeps us under QBO's limits) and the
rate achieved as a ratio of the rate allowed (must be ≥ 0.95). The sandbox's limits are scaled up
(200/s and 12,000/min instead of 10/s and 500/min) so the run takes seconds; the ratio is the
figure, and both sides use the same limits.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from adapters.qbo.client import QboClient
from adapters.qbo.oauth import OAuthApp, QboOAuth
from adapters.qbo.oauth_state import StateSigner
from adapters.qbo.throttle import LimiterRegistry, RateLimits
from adapters.qbo.tokens import TokenSet
from adapters.qbo.vault import InMemoryTokenVault
from sandbox.qbo.config import QboSandboxConfig
from sandbox.qbo.server import create_app
from tests.support.servers import serving

PER_SECOND, PER_MINUTE = 200, 12_000
WRITES, CONCURRENCY = 2_000, 40


async def _burst(base_url: str, config: QboSandboxConfig, grant: dict[str, Any]) -> float:
    realm = config.realms[0].realm_id
    vault = InMemoryTokenVault()
    await vault.save(
        TokenSet.from_token_response(
            grant, tenant_id="bench", realm_id=realm, now=datetime.now(UTC)
        )
    )
    async with httpx.AsyncClient(
        timeout=30, limits=httpx.Limits(max_connections=CONCURRENCY)
    ) as http:
        app = OAuthApp(
            client_id=config.client_id,
            client_secret=config.client_secret,
            redirect_uri=config.redirect_uris[0],
        )
        oauth = QboOAuth(
            app, f"{base_url}/.well-known/openid_configuration", vault, StateSigner(b"k" * 32), http
        )
        limiter = LimiterRegistry(RateLimits(per_second=PER_SECOND, per_minute=PER_MINUTE))
        client = QboClient(
            base_url,
            tenant_id="bench",
            realm_id=realm,
            oauth=oauth,
            limiter=limiter.for_realm(realm),
            http=http,
        )
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(WRITES):
            queue.put_nowait(i)

        async def writer() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                await client.create_customer({"DisplayName": f"Burst {i:05d}"}, str(uuid.uuid4()))

        started = time.monotonic()
        await asyncio.gather(*(writer() for _ in range(CONCURRENCY)))
        return time.monotonic() - started


def run() -> dict[str, object]:
    config = QboSandboxConfig(rate_per_second=PER_SECOND, rate_per_minute=PER_MINUTE)
    app = create_app(config)
    with serving(app) as base_url:
        grant = httpx.post(
            f"{base_url}/_sandbox/oauth/grant", params={"realm_id": config.realms[0].realm_id}
        ).json()
        elapsed = asyncio.run(_burst(base_url, config, grant))
        throttled = int(app.state.qbo.throttle.stats()["throttled"])
    allowed = min(PER_SECOND, PER_MINUTE / 60)
    achieved = WRITES / elapsed
    return {
        "writes": WRITES,
        "allowed_per_s": allowed,
        "achieved_per_s": round(achieved, 1),
        "achieved_over_allowed": round(achieved / allowed, 3),
        "http_429_received": throttled,
        "seconds": round(elapsed, 2),
    }
