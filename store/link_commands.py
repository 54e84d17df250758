"""Commands on a customer link: functions of the current link that return the event to record.

A command returns None when the fact is already true (idempotent), and raises a `DomainError`
when the link cannot take it. An ended link (person deleted) takes nothing but a repeated unlink.
"""

from __future__ import annotations

from typing import Any, Literal

from store.customer_link import (
    ConflictRecorded,
    CustomerLink,
    FieldConflict,
    FirstImportCompleted,
    Linked,
    LinkVia,
    MarkedInactive,
    MovedToCustomer,
    SyncedFromCrm,
    SyncedFromQbo,
    Unlinked,
    link_id,
)
from store.model import InvalidTransition, JsonDict, first, following


class LinkEnded(InvalidTransition):
    """The link ended (person deleted); it takes no further changes."""


def link(
    *,
    tenant: str,
    person_id: int,
    customer_id: str,
    realm_id: str,
    via: LinkVia,
    crm: JsonDict,
    qbo: JsonDict,
    qbo_sync_token: str,
) -> Linked:
    """Link a person to a customer. Linking a person twice conflicts when saved
    (`ConcurrentWriteError`); a customer already linked to someone else is refused by the store."""
    return Linked(
        **first(link_id(tenant, person_id)),
        tenant=tenant,
        person_id=person_id,
        customer_id=customer_id,
        realm_id=realm_id,
        via=via,
        crm=crm,
        qbo=qbo,
        qbo_sync_token=qbo_sync_token,
    )


def _open(link: CustomerLink) -> dict[str, Any]:
    if link.status == "ended":
        raise LinkEnded(f"the link of person {link.person_id} has ended; it takes no changes")
    return following(link)


def complete_first_import(
    link: CustomerLink, merged: JsonDict, conflicts: tuple[FieldConflict, ...] = ()
) -> FirstImportCompleted:
    """SYNC-RULES 4.6: record the merged values (by CRM field) and the conflicts kept."""
    origin = _open(link)
    if link.first_import_done:
        raise InvalidTransition(f"person {link.person_id} has had its first import already")
    return FirstImportCompleted(**origin, merged=merged, conflicts=conflicts)


def sync_from_qbo(
    link: CustomerLink,
    *,
    crm_values: JsonDict,
    cleared: tuple[str, ...] = (),
    qbo_sync_token: str,
    qbo: JsonDict | None = None,
    crm_version: str | None = None,
) -> SyncedFromQbo:
    """QBO's values overwrote the mapped CRM fields; `cleared` were emptied (SYNC-RULES 5)."""
    return SyncedFromQbo(
        **_open(link),
        crm_values=crm_values,
        cleared=cleared,
        qbo_sync_token=qbo_sync_token,
        qbo=qbo,
        crm_version=crm_version,
    )


def sync_from_crm(
    link: CustomerLink, *, qbo_values: JsonDict, qbo_sync_token: str, crm: JsonDict | None = None
) -> SyncedFromCrm:
    """The changed mapped fields were written to QBO, which answered with `qbo_sync_token`."""
    return SyncedFromCrm(
        **_open(link), qbo_values=qbo_values, qbo_sync_token=qbo_sync_token, crm=crm
    )


def record_conflict(link: CustomerLink, conflict: FieldConflict) -> ConflictRecorded:
    return ConflictRecorded(**_open(link), conflict=conflict)


def unlink(link: CustomerLink, reason: Literal["person_deleted"]) -> Unlinked | None:
    if link.status == "ended":
        return None
    return Unlinked(**following(link), reason=reason, customer_id=link.customer_id)


def mark_inactive(link: CustomerLink) -> MarkedInactive | None:
    origin = _open(link)
    return MarkedInactive(**origin) if link.status == "active" else None


def move_to_customer(
    link: CustomerLink,
    to_customer_id: str,
    *,
    qbo: JsonDict | None = None,
    qbo_sync_token: str | None = None,
) -> MovedToCustomer | None:
    """QBO merged the linked customer into `to_customer_id`: the link follows the survivor."""
    origin = _open(link)
    if to_customer_id == link.customer_id:
        return None
    return MovedToCustomer(
        **origin,
        from_customer_id=link.customer_id,
        to_customer_id=to_customer_id,
        qbo=qbo,
        qbo_sync_token=qbo_sync_token,
    )
