"""Builders of link decision envelopes, for engine, store and stream tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.ids import derived_id
from schemas.decisions import (
    AgreedValue,
    ConflictNote,
    LinkEnded,
    LinkEndedData,
    LinkInactive,
    LinkInactiveData,
    LinkMade,
    LinkMadeData,
    LinkMoved,
    LinkMovedData,
    LinkObserved,
    LinkObservedData,
    LinkSynced,
    LinkSyncedData,
)

WHEN = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _envelope(tenant: str, input_id: str, person_id: int, kind: str) -> dict[str, Any]:
    return {
        "id": derived_id(input_id, kind),
        "source": "/qbsync/engine",
        "subject": f"crm/person/{person_id}",
        "time": WHEN,
        "tenant": tenant,
        "causationid": input_id,
    }


def made(
    *,
    tenant: str = "acme-co",
    person_id: int = 101,
    customer_id: str = "58",
    realm_id: str = "9130357",
    crm: dict[str, Any] | None = None,
    qbo: dict[str, Any] | None = None,
    sync_token: str = "0",
    input_id: str = "import-1",
    agreed: dict[str, AgreedValue] | None = None,
    conflicts: tuple[ConflictNote, ...] = (),
) -> LinkMade:
    return LinkMade(
        **_envelope(tenant, f"{input_id}-{customer_id}", person_id, "link-made"),
        data=LinkMadeData(
            input_id=input_id,
            person_id=person_id,
            customer_id=customer_id,
            realm_id=realm_id,
            via="import",
            crm=crm or {"id": person_id},
            qbo=qbo or {"Id": customer_id, "SyncToken": sync_token},
            qbo_sync_token=sync_token,
            agreed=agreed or {},
            conflicts=conflicts,
        ),
    )


def observed(
    side: str,
    snapshot: dict[str, Any],
    *,
    tenant: str = "acme-co",
    person_id: int = 101,
    customer_id: str = "58",
    version: str | None = None,
    input_id: str = "seen-1",
    confirms: str | None = None,
) -> LinkObserved:
    return LinkObserved(
        **_envelope(tenant, input_id, person_id, "link-observed"),
        data=LinkObservedData(
            input_id=input_id,
            person_id=person_id,
            customer_id=customer_id,
            side=side,
            snapshot=snapshot,
            version=version,
            confirms=confirms,
        ),
    )


def synced(
    written_side: str,
    *,
    crm: dict[str, Any],
    qbo: dict[str, Any],
    sync_token: str,
    tenant: str = "acme-co",
    person_id: int = 101,
    customer_id: str = "58",
    input_id: str = "change-1",
    command_id: str = "cmd-1",
    agreed: dict[str, AgreedValue] | None = None,
    conflicts: tuple[ConflictNote, ...] = (),
) -> LinkSynced:
    return LinkSynced(
        **_envelope(tenant, input_id, person_id, "link-synced"),
        data=LinkSyncedData(
            input_id=input_id,
            person_id=person_id,
            customer_id=customer_id,
            written_side=written_side,
            command_id=command_id,
            changes=(),
            crm=crm,
            qbo=qbo,
            qbo_sync_token=sync_token,
            agreed=agreed or {},
            conflicts=conflicts,
        ),
    )


def ended(*, tenant: str = "acme-co", person_id: int = 101, customer_id: str = "58") -> LinkEnded:
    return LinkEnded(
        **_envelope(tenant, f"deleted-{person_id}", person_id, "link-ended"),
        data=LinkEndedData(
            input_id=f"deleted-{person_id}",
            person_id=person_id,
            customer_id=customer_id,
            reason="person_deleted",
        ),
    )


def inactive(
    *, tenant: str = "acme-co", person_id: int = 101, customer_id: str = "58"
) -> LinkInactive:
    return LinkInactive(
        **_envelope(tenant, f"inactive-{customer_id}", person_id, "link-inactive"),
        data=LinkInactiveData(
            input_id=f"inactive-{customer_id}",
            person_id=person_id,
            customer_id=customer_id,
            reason="customer_inactive",
        ),
    )


def moved(
    to_customer_id: str,
    *,
    tenant: str = "acme-co",
    person_id: int = 101,
    customer_id: str = "58",
    qbo: dict[str, Any] | None = None,
    sync_token: str | None = None,
) -> LinkMoved:
    return LinkMoved(
        **_envelope(tenant, f"merged-{customer_id}", person_id, "link-moved"),
        data=LinkMovedData(
            input_id=f"merged-{customer_id}",
            person_id=person_id,
            customer_id=customer_id,
            to_customer_id=to_customer_id,
            qbo=qbo,
            qbo_sync_token=sync_token,
        ),
    )
