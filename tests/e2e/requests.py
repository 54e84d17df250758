"""Request envelopes an admin's tools would publish, for the end-to-end tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from schemas.envelope import Envelope
from schemas.requests import (
    Actor,
    DisableRequested,
    DocumentSendRequested,
    EnableRequested,
    EstimateConvertRequested,
    EstimateCreateRequested,
    ImportRequested,
    InstallRequested,
    InvoiceCreateRequested,
    SettingsSaveRequested,
)
from schemas.settings import IntegrationSettings

ADMIN = Actor(user_id=1, is_admin=True)
BASIC = Actor(user_id=2, is_admin=False)


def _request(cls: type[Envelope], tenant: str, data: dict[str, Any]) -> Envelope:
    return cls.model_validate(
        {
            "id": f"req-{uuid.uuid4()}",
            "source": "/tests/e2e",
            "subject": f"installation/{tenant}",
            "time": datetime.now(UTC),
            "tenant": tenant,
            "data": data,
        }
    )


def install(tenant: str, realm_id: str, actor: Actor = ADMIN) -> Envelope:
    data = {"actor": actor.model_dump(), "crm_account_id": 482622, "realm_id": realm_id}
    return _request(InstallRequested, tenant, data)


def save_settings(tenant: str, settings: IntegrationSettings, actor: Actor = ADMIN) -> Envelope:
    data = {"actor": actor.model_dump(), "settings": settings.model_dump(mode="json")}
    return _request(SettingsSaveRequested, tenant, data)


def enable(tenant: str, actor: Actor = ADMIN) -> Envelope:
    return _request(EnableRequested, tenant, {"actor": actor.model_dump()})


def disable(tenant: str, actor: Actor = ADMIN) -> Envelope:
    return _request(DisableRequested, tenant, {"actor": actor.model_dump()})


def run_import(tenant: str, *, dry_run: bool = False, actor: Actor = ADMIN) -> Envelope:
    return _request(ImportRequested, tenant, {"actor": actor.model_dump(), "dry_run": dry_run})


def _lines(lines: list[tuple[str, str, str, str | None]]) -> list[dict[str, Any]]:
    return [
        {"item_id": item, "quantity": qty, "unit_price": price, "description": text}
        for item, qty, price, text in lines
    ]


def create_document(
    kind: str,
    tenant: str,
    *,
    deal_id: int,
    person_id: int,
    lines: list[tuple[str, str, str, str | None]],
    actor: Actor = ADMIN,
    send_now: bool = False,
) -> Envelope:
    """An InvoiceCreateRequested or EstimateCreateRequested (`kind` is invoice or estimate)."""
    cls = InvoiceCreateRequested if kind == "invoice" else EstimateCreateRequested
    data = {
        "actor": actor.model_dump(),
        "deal_id": deal_id,
        "person_id": person_id,
        "lines": _lines(lines),
        "send_now": send_now,
    }
    return _request(cls, tenant, data)


def send_document(
    tenant: str, kind: str, qbo_id: str, *, actor: Actor = ADMIN, send_to: str | None = None
) -> Envelope:
    data = {
        "actor": actor.model_dump(),
        "document_type": kind,
        "qbo_id": qbo_id,
        "send_to": send_to,
    }
    return _request(DocumentSendRequested, tenant, data)


def convert_estimate(tenant: str, estimate_id: str, *, actor: Actor = ADMIN) -> Envelope:
    data = {"actor": actor.model_dump(), "estimate_id": estimate_id}
    return _request(EstimateConvertRequested, tenant, data)
