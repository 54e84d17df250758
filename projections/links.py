"""Links, the engine's view of each linked record, and conflicts, from the link decisions.

A link is keyed by its CRM person (it follows the two ids: a QBO merge moves it to the surviving
customer, the former id is kept). The decisions of one tenant are in one partition, in order, so
each decision sets the state it describes; conflicts are rows keyed by decision id, so a decision
published twice still counts its conflicts once.
"""

from __future__ import annotations

from datetime import datetime
from functools import singledispatch
from typing import Any

from sqlalchemy import Connection, func, select

from projections.sql import insert_new, upsert
from projections.tables import conflicts, links
from schemas.common import parse_crm_timestamp
from schemas.decisions import (
    ConflictNote,
    LinkDecisionData,
    LinkEnded,
    LinkInactive,
    LinkMade,
    LinkMoved,
    LinkObserved,
    LinkSynced,
)
from schemas.envelope import Envelope


@singledispatch
def project(event: Envelope, conn: Connection) -> None:
    """Any other event changes no link."""


@project.register
def _made(event: LinkMade, conn: Connection) -> None:
    d = event.data
    current = _change(conn, event, d)
    _save(
        conn,
        current,
        former_customer_ids=_former(current, d.customer_id),
        customer_id=d.customer_id,
        realm_id=d.realm_id,
        via=d.via,
        status="active",
        status_reason=None,
        first_linked_at=current["first_linked_at"] or event.time,
        last_synced_at=event.time,
        crm=d.crm,
        qbo=d.qbo,
        qbo_sync_token=d.qbo_sync_token,
        crm_changed_at=_crm_time(d.crm) or current["crm_changed_at"],
        qbo_changed_at=_qbo_time(d.qbo) or current["qbo_changed_at"],
    )
    _record_conflicts(conn, event, d, d.conflicts)


@project.register
def _observed(event: LinkObserved, conn: Connection) -> None:
    d = event.data
    current = _change(conn, event, d)
    if d.side == "crm":
        changed_at = d.changed_at or _crm_time(d.snapshot)
        _save(conn, current, crm=d.snapshot, crm_changed_at=changed_at)
    else:
        token = d.version or _text(d.snapshot.get("SyncToken")) or current["qbo_sync_token"]
        changed_at = d.changed_at or _qbo_time(d.snapshot)
        _save(conn, current, qbo=d.snapshot, qbo_sync_token=token, qbo_changed_at=changed_at)
    _record_conflicts(conn, event, d, d.conflicts)


@project.register
def _synced(event: LinkSynced, conn: Connection) -> None:
    d = event.data
    current = _change(conn, event, d)
    _save(
        conn,
        current,
        last_synced_at=event.time,
        crm=d.crm,
        qbo=d.qbo,
        qbo_sync_token=d.qbo_sync_token,
        crm_changed_at=d.crm_changed_at or _crm_time(d.crm) or current["crm_changed_at"],
        qbo_changed_at=d.qbo_changed_at or _qbo_time(d.qbo) or current["qbo_changed_at"],
    )
    _record_conflicts(conn, event, d, d.conflicts)


@project.register
def _ended(event: LinkEnded, conn: Connection) -> None:
    current = _change(conn, event, event.data)
    _save(conn, current, status="ended", status_reason=event.data.reason)


@project.register
def _inactive(event: LinkInactive, conn: Connection) -> None:
    current = _change(conn, event, event.data)
    _save(conn, current, status="inactive", status_reason=event.data.reason)


@project.register
def _moved(event: LinkMoved, conn: Connection) -> None:
    d = event.data
    current = _change(conn, event, d)
    changes: dict[str, Any] = {
        "customer_id": d.to_customer_id,
        "former_customer_ids": _former(current, d.to_customer_id, also=d.customer_id),
    }
    if d.qbo is not None:
        changes.update(qbo=d.qbo, qbo_changed_at=_qbo_time(d.qbo) or current["qbo_changed_at"])
    if d.qbo_sync_token is not None:
        changes["qbo_sync_token"] = d.qbo_sync_token
    _save(conn, current, **changes)


def _change(conn: Connection, event: Envelope, d: LinkDecisionData) -> dict[str, Any]:
    """The link's current row (a new one if the decision is the first we see), stamped with
    the decision that changes it."""
    found = conn.execute(
        select(links).where(links.c.tenant == event.tenant, links.c.person_id == d.person_id)
    ).mappings()
    row = found.first()
    current: dict[str, Any] = dict(row) if row is not None else _new(event.tenant, d)
    current.update(last_input_id=d.input_id, last_decision_id=event.id, updated_at=event.time)
    return current


def _new(tenant: str, d: LinkDecisionData) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "person_id": d.person_id,
        "customer_id": d.customer_id,
        "realm_id": None,
        "via": None,
        "status": "active",
        "status_reason": None,
        "first_linked_at": None,
        "last_synced_at": None,
        "conflicts": 0,
        "former_customer_ids": [],
        "crm": None,
        "qbo": None,
        "qbo_sync_token": None,
        "crm_changed_at": None,
        "qbo_changed_at": None,
    }


def _save(conn: Connection, current: dict[str, Any], **changes: Any) -> None:
    upsert(conn, links, {**current, **changes})


def _former(current: dict[str, Any], new_id: str, also: str | None = None) -> list[str]:
    former = list(current["former_customer_ids"] or [])
    for old in (current["customer_id"], also):
        if old and old != new_id and old not in former:
            former.append(old)
    return former


def _record_conflicts(
    conn: Connection, event: Envelope, d: LinkDecisionData, notes: tuple[ConflictNote, ...]
) -> None:
    if not notes:
        return
    for seq, note in enumerate(notes):
        insert_new(
            conn,
            conflicts,
            {
                "tenant": event.tenant,
                "decision_id": event.id,
                "seq": seq,
                "person_id": d.person_id,
                "customer_id": d.customer_id,
                "rule": note.rule,
                "crm_field": note.crm_field,
                "qbo_field": note.qbo_field,
                "crm_value": note.crm_value,
                "qbo_value": note.qbo_value,
                "kept": note.kept,
                "crm_changed_at": note.crm_changed_at,
                "qbo_changed_at": note.qbo_changed_at,
                "time": event.time,
            },
        )
    counted = (
        select(func.count())
        .select_from(conflicts)
        .where(conflicts.c.tenant == event.tenant, conflicts.c.person_id == d.person_id)
        .scalar_subquery()
    )
    conn.execute(
        links.update()
        .where(links.c.tenant == event.tenant, links.c.person_id == d.person_id)
        .values(conflicts=counted)
    )


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _parse_time(value: Any) -> datetime | None:
    value = parse_crm_timestamp(value)
    if isinstance(value, datetime):
        return value if value.tzinfo else None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else None
    return None


def _crm_time(snapshot: dict[str, Any] | None) -> datetime | None:
    return _parse_time((snapshot or {}).get("updated_at"))


def _qbo_time(snapshot: dict[str, Any] | None) -> datetime | None:
    meta = (snapshot or {}).get("MetaData")
    return _parse_time(meta.get("LastUpdatedTime")) if isinstance(meta, dict) else None
