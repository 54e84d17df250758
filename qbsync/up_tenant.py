"""`qbsync up`'s demo tenant, set up the way an admin would: install (with the QBO company the
OAuth connect chose), enable, and a first import, as requests on the requests topic."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from adapters.kafka import KafkaPublisher
from schemas.envelope import Envelope
from schemas.requests import Actor, EnableRequested, ImportRequested, InstallRequested
from schemas.topics import REQUESTS

DEMO_ADMIN = Actor(user_id=1, is_admin=True)
DEMO_CRM_ACCOUNT = 482622  # the CRM sandbox's account id (sandbox/crm/config.py)


def admin_request(cls: type[Envelope], tenant: str, data: dict[str, Any]) -> Envelope:
    return cls.model_validate(
        {
            "id": f"req-{uuid.uuid4()}",
            "source": "/qbsync/up",
            "subject": f"installation/{tenant}",
            "time": datetime.now(UTC),
            "tenant": tenant,
            "data": {"actor": DEMO_ADMIN.model_dump(), **data},
        }
    )


async def install_demo_tenant(
    bootstrap: str, tenant: str, realm_id: str, crm_account_id: int
) -> list[Envelope]:
    """Install + enable + import for the demo tenant; the requests published, in order."""
    requests = [
        admin_request(
            InstallRequested, tenant, {"crm_account_id": crm_account_id, "realm_id": realm_id}
        ),
        admin_request(EnableRequested, tenant, {}),
        admin_request(ImportRequested, tenant, {"dry_run": False}),
    ]
    publisher = KafkaPublisher(bootstrap)
    await publisher.start()
    try:
        for request in requests:
            await publisher.publish(REQUESTS, request)
        await publisher.flush()
    finally:
        await publisher.stop()
    return requests
