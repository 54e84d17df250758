"""`qbsync api`: the HTTP face of the engine, composed from what Settings configures:

- CRM ingest (POST /v1/tenants/{tenant}/crm-events) when QBSYNC_INGEST_KEYS is set;
- CRM webhooks (POST /v1/crm/webhooks/{tenant}) with QBSYNC_CRM_WEBHOOK_TOKENS, a CRM key and
  QBSYNC_CRM_TENANT;
- the CRM poller (background) with QBSYNC_CRM_POLL_INTERVAL_S, a CRM key and QBSYNC_CRM_TENANT;
- the QBO bridge (POST /v1/qbo/webhooks, CDC sweeps) with QBSYNC_QBO_WEBHOOK_VERIFIER_TOKEN and
  the QBO app settings;
- the query API (GET /v1/tenants/{tenant}/links|customers|people|imports|health, documents of
  people, companies and deals, one document, what became of a request) and the projection runner
  that feeds it (background), with QBSYNC_INGEST_KEYS (the same keys, for now), projections in
  `<data_dir>/projections.db`;
- CRM users' requests (POST /v1/tenants/{tenant}/deals/{deal}/invoices|estimates,
  invoices|estimates/{id}/send, estimates/{id}/convert, requests) onto the requests topic, with
  the same keys (adapters/requests_api.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI

from adapters.crm.connector import CrmConnector
from adapters.crm_bridge.ingest import CrmIngest, SqliteIngestLedger
from adapters.crm_bridge.poller import CrmPoller
from adapters.crm_bridge.ports import CrmReader
from adapters.crm_bridge.reader import GatewayCrmReader
from adapters.crm_bridge.webhooks import CrmWebhookReceiver
from adapters.kafka import KafkaPublisher
from adapters.qbo.client import QboClient
from adapters.qbo.connector import QboConnector
from adapters.qbo_bridge.ports import StaticTenantDirectory
from adapters.qbo_bridge.reader import GatewayEntityReader
from adapters.qbo_bridge.service import create_bridge
from adapters.requests_api import RequestsApi
from adapters.restore_api import RestoreApi
from adapters.secrets import TenantSecrets, parse_pairs
from adapters.watermarks import SqliteKnownIds, SqliteWatermarks
from projections.db import ProjectionDb
from projections.http import query_router
from projections.projector import Projector
from projections.queries import ProjectionReader
from projections.runner import ProjectionRunner
from qbsync.config import Settings
from qbsync.logs import get_logger, register_secret

log = get_logger(__name__)
Job = Callable[[], Coroutine[Any, Any, None]]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ApiParts:
    """What one process runs: routers to mount, background jobs, things to close."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []
        self.closers: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self.enabled: list[str] = []
        self.status: dict[str, Callable[[], dict[str, object]]] = {}


def build_api(settings: Settings, bootstrap: str) -> FastAPI:
    publisher = KafkaPublisher(bootstrap)
    parts = ApiParts()
    app = FastAPI(title="qbsync API", version="1", lifespan=_lifespan(publisher, parts))
    data = settings.data_dir
    if settings.ingest_keys is not None:
        keys = TenantSecrets(parse_pairs(settings.ingest_keys.get_secret_value()))
        app.include_router(
            CrmIngest(keys, publisher, SqliteIngestLedger(data / "ingest.db")).router
        )
        parts.enabled.append("crm-ingest")
        db = _add_query_api(app, settings, bootstrap, keys, parts)
        # Like the query API, requests come with the ingest keys and are not a part of their own.
        app.include_router(RequestsApi(keys, publisher, _utc_now).router)
        app.include_router(RestoreApi(keys, publisher, db, _utc_now).router)
    crm_reader = _crm_reader(settings, parts)
    if settings.crm_webhook_tokens is not None and crm_reader is not None:
        tokens = TenantSecrets(parse_pairs(settings.crm_webhook_tokens.get_secret_value()))
        tenant = settings.crm_tenant
        receiver = CrmWebhookReceiver(
            tokens, lambda t: crm_reader if t == tenant else None, publisher, _utc_now
        )
        app.include_router(receiver.router)
        parts.jobs.append(receiver.run)
        parts.closers.append(receiver.drain)
        parts.enabled.append("crm-webhooks")
    if settings.crm_poll_interval_s is not None and crm_reader is not None and settings.crm_tenant:
        poller = CrmPoller(
            settings.crm_tenant,
            crm_reader,
            publisher,
            SqliteWatermarks(data / "crm-poller.db", table="crm_watermark"),
            SqliteKnownIds(data / "crm-poller.db"),
            _utc_now,
        )
        interval, every = settings.crm_poll_interval_s, settings.crm_sweep_every
        parts.jobs.append(lambda: poller.run_forever(interval, every))
        parts.enabled.append("crm-poller")
    if settings.qbo_webhook_verifier_token is not None:
        _add_qbo_bridge(app, settings, publisher, parts)

    @app.get("/healthz")
    async def health() -> dict[str, object]:
        return {
            "status": "ok",
            "parts": parts.enabled,
            **{name: report() for name, report in parts.status.items()},
        }

    return app


def _crm_reader(settings: Settings, parts: ApiParts) -> CrmReader | None:
    if settings.crm_api_key is None or not settings.crm_tenant:
        return None
    connector = CrmConnector(settings)
    parts.closers.append(connector.aclose)
    return GatewayCrmReader(connector.client())


def projections_url(settings: Settings) -> str:
    """Where `qbsync api` keeps its projections (QBSYNC_PROJECTIONS_URL, else the data dir)."""
    return settings.projections_url or f"sqlite:///{settings.data_dir}/projections.db"


def _add_query_api(
    app: FastAPI, settings: Settings, bootstrap: str, keys: TenantSecrets, parts: ApiParts
) -> ProjectionDb:
    db = ProjectionDb.open(projections_url(settings))
    runner = ProjectionRunner(
        bootstrap,
        Projector(db),
        group_id=settings.projections_group,
        session_timeout_ms=int(settings.broker_session_timeout_s * 1000),
        heartbeat_interval_ms=int(settings.broker_heartbeat_s * 1000),
    )
    app.include_router(query_router(ProjectionReader(db), keys))
    parts.jobs.append(runner.run_forever)

    async def close_db() -> None:
        db.close()

    parts.closers.append(close_db)
    parts.status["projections"] = lambda: {
        "running": runner.running,
        "batches": runner.stats.batches,
        "last_batch_at": runner.stats.last_batch_at.isoformat()
        if runner.stats.last_batch_at
        else None,
    }
    return db


def _add_qbo_bridge(
    app: FastAPI, settings: Settings, publisher: KafkaPublisher, parts: ApiParts
) -> None:
    assert settings.qbo_webhook_verifier_token is not None
    verifier = settings.qbo_webhook_verifier_token.get_secret_value()
    register_secret(verifier)
    tenants = StaticTenantDirectory.parse(settings.qbo_realm_tenants)
    connector = QboConnector(settings)
    parts.closers.append(connector.aclose)

    def gateway_for_realm(realm_id: str) -> QboClient:
        tenant = tenants.tenant_for_realm(realm_id)
        if tenant is None:
            raise LookupError(f"QBO realm {realm_id} belongs to no tenant")
        return connector.client(tenant, realm_id)

    bridge = create_bridge(
        verifier_token=verifier,
        tenants=tenants,
        reader=GatewayEntityReader(gateway_for_realm),
        publisher=publisher,
        watermarks=SqliteWatermarks(settings.data_dir / "qbo-bridge.db"),
        clock=_utc_now,
    )
    app.include_router(bridge.receiver.router)
    parts.jobs.append(bridge.receiver.run)
    parts.jobs.append(lambda: bridge.sweeper.run_forever(settings.qbo_cdc_interval_s))
    parts.closers.append(bridge.receiver.drain)
    parts.enabled.append("qbo-bridge")


def _lifespan(publisher: KafkaPublisher, parts: ApiParts) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await publisher.start()
        tasks = [asyncio.create_task(job()) for job in parts.jobs]
        log.info("api_started", parts=parts.enabled)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for close in parts.closers:  # drains queued webhooks while the publisher still works
                with contextlib.suppress(Exception):
                    await close()
            await publisher.stop()

    return lifespan
