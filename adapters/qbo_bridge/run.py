"""`qbsync bridge qbo`: the webhook endpoint and CDC sweeps as one process, wired from Settings."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import uvicorn
from fastapi import FastAPI

from adapters.kafka import KafkaPublisher
from adapters.qbo.client import QboClient
from adapters.qbo.connector import QboConnector
from adapters.qbo_bridge.ports import StaticTenantDirectory
from adapters.qbo_bridge.reader import GatewayEntityReader
from adapters.qbo_bridge.service import create_bridge
from adapters.watermarks import SqliteWatermarks
from qbsync.config import Settings
from qbsync.logs import configure_logging, register_secret


def _utc_now() -> datetime:
    return datetime.now(UTC)


def build_bridge_app(settings: Settings, bootstrap: str) -> FastAPI:
    if settings.qbo_webhook_verifier_token is None:
        raise ValueError("set QBSYNC_QBO_WEBHOOK_VERIFIER_TOKEN to run the QBO webhook bridge")
    verifier = settings.qbo_webhook_verifier_token.get_secret_value()
    register_secret(verifier)
    tenants = StaticTenantDirectory.parse(settings.qbo_realm_tenants)
    connector = QboConnector(settings)

    def gateway_for_realm(realm_id: str) -> QboClient:
        tenant = tenants.tenant_for_realm(realm_id)
        if tenant is None:
            raise LookupError(f"realm {realm_id} belongs to no tenant")
        return connector.client(tenant, realm_id)

    publisher = KafkaPublisher(bootstrap)
    bridge = create_bridge(
        verifier_token=verifier,
        tenants=tenants,
        reader=GatewayEntityReader(gateway_for_realm),
        publisher=publisher,
        watermarks=SqliteWatermarks(settings.data_dir / "qbo-bridge.db"),
        clock=_utc_now,
        cdc_interval_s=settings.qbo_cdc_interval_s,
    )
    inner = bridge.app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await publisher.start()
        try:
            async with inner(app):
                yield
        finally:
            await publisher.stop()
            await connector.aclose()

    bridge.app.router.lifespan_context = lifespan
    return bridge.app


def run_qbo_bridge(settings: Settings, bootstrap: str) -> None:
    configure_logging(settings.log_level, settings.log_format)
    app = build_bridge_app(settings, bootstrap)
    asyncio.run(
        uvicorn.Server(
            uvicorn.Config(app, host=settings.http_host, port=settings.http_port, log_config=None)
        ).serve()
    )
