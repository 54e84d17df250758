"""Request envelopes an admin's tools would publish, for the end-to-end tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from schemas.envelope import Envelope
from schemas.requests import (
    Actor,
    DisableRequested,
    EnableRequested,
    ImportRequested,
    InstallRequested,
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
