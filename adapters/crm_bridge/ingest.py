"""HTTP ingest for services that do not speak Kafka: POST CRM change events, get them on the topic.

`POST /v1/tenants/{tenant}/crm-events` with `Authorization: Bearer <the tenant's ingest key>`,
body one event or a JSON array of events. All or nothing: if any event is invalid the answer is
422 with field-level errors and nothing is forwarded. Idempotent on the event id: an id already
accepted for the tenant is answered as a duplicate and not published again.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from adapters.ports import Publisher
from adapters.secrets import TenantSecrets
from qbsync.logs import get_logger
from schemas.catalog import EventRejected, parse_document
from schemas.envelope import Envelope
from schemas.topics import CRM_CHANGES

log = get_logger(__name__)
INGEST_PATH = "/v1/tenants/{tenant}/crm-events"
MAX_EVENTS = 500
MAX_BODY_BYTES = 5 * 1024 * 1024
_CRM_TYPES = frozenset(CRM_CHANGES.type_names)


class SqliteIngestLedger:
    """Event ids already accepted, per tenant: what makes a repeated POST publish nothing."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS ingested (tenant TEXT NOT NULL,"
            " event_id TEXT NOT NULL, PRIMARY KEY (tenant, event_id))"
        )

    def seen(self, tenant: str, ids: list[str]) -> set[str]:
        with self._lock:
            found: set[str] = set()
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT event_id FROM ingested WHERE tenant = ? AND event_id IN ({marks})",  # noqa: S608 - placeholders only
                    (tenant, *chunk),
                ).fetchall()
                found |= {row[0] for row in rows}
        return found

    def record(self, tenant: str, ids: list[str]) -> None:
        with self._lock:
            self._db.executemany(
                "INSERT OR IGNORE INTO ingested VALUES (?, ?)", [(tenant, i) for i in ids]
            )


def _error(index: int | None, field: str, message: str) -> dict[str, Any]:
    return {"index": index, "field": field, "message": message}


def validate_batch(tenant: str, document: Any) -> tuple[list[Envelope], list[dict[str, Any]]]:
    """The events of a request body, or the field errors that refuse it (pure)."""
    items = document if isinstance(document, list) else [document]
    if not items:
        return [], [_error(None, "(document)", "no events")]
    if len(items) > MAX_EVENTS:
        return [], [_error(None, "(document)", f"at most {MAX_EVENTS} events per request")]
    accepted: list[Envelope] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            event = parse_document(item)
        except EventRejected as exc:
            errors += [_error(index, e.field, e.message) for e in exc.errors]
            continue
        if event.type not in _CRM_TYPES:
            errors.append(_error(index, "type", f"{event.type} is not a CRM change event"))
        elif event.tenant != tenant:
            errors.append(
                _error(
                    index, "tenant", f"{event.tenant!r} is not this endpoint's tenant {tenant!r}"
                )
            )
        else:
            accepted.append(event)
    return accepted, errors


class CrmIngest:
    def __init__(
        self, keys: TenantSecrets, publisher: Publisher, ledger: SqliteIngestLedger
    ) -> None:
        self._keys, self._publisher, self._ledger = keys, publisher, ledger
        self.router = APIRouter()
        self.router.add_api_route(INGEST_PATH, self.ingest, methods=["POST"], status_code=202)

    async def ingest(self, tenant: str, request: Request) -> JSONResponse:
        presented = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not self._keys.matches(tenant, presented):
            owner = self._keys.tenant_of(presented)
            if owner is not None:  # a real key, for another tenant
                return JSONResponse(
                    {"error": f"this key may not publish for tenant {tenant!r}"}, status_code=403
                )
            return JSONResponse({"error": "missing or unknown ingest key"}, status_code=401)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"error": "body over 5 MiB"}, status_code=413)
        try:
            document = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return JSONResponse(
                {"errors": [_error(None, "(document)", f"not valid JSON: {exc}")]}, status_code=422
            )
        events, errors = validate_batch(tenant, document)
        if errors:
            return JSONResponse({"errors": errors}, status_code=422)
        already = self._ledger.seen(tenant, [event.id for event in events])
        fresh: list[Envelope] = []
        duplicates: list[str] = []
        for event in events:  # also catches an id repeated inside this one request
            if event.id in already:
                duplicates.append(event.id)
            else:
                fresh.append(event)
                already.add(event.id)
        try:
            for event in fresh:
                await self._publisher.publish(CRM_CHANGES, event)
            await self._publisher.flush()
        except Exception as exc:  # nothing recorded: the same POST later publishes them
            log.warning("ingest_publish_failed", tenant=tenant, events=len(fresh), error=repr(exc))
            return JSONResponse(
                {"error": "the event bus is unavailable; retry the request"},
                status_code=503,
                headers={"Retry-After": "5"},
            )
        self._ledger.record(tenant, [event.id for event in fresh])
        return JSONResponse(
            {"accepted": [e.id for e in fresh], "duplicates": duplicates}, status_code=202
        )
