"""The latest record each side sent, linked or not: QBO customers and CRM people as they came.

A webhook and a CDC sweep can publish versions of one record out of order, so a snapshot only
replaces an older one: QBO by SyncToken (its version counter), the CRM by its own `updated_at`.
Deletions and merges mark the row and keep the last snapshot.
"""

from __future__ import annotations

from functools import singledispatch
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, or_

from projections.sql import upsert
from projections.tables import crm_people, qbo_customers
from schemas.crm import CrmPersonChanged, CrmPersonDeleted
from schemas.envelope import Envelope
from schemas.qbo import QboCustomer, QboCustomerChanged, QboCustomerDeleted, QboCustomerMerged

_QBO_SNAPSHOT = ("realm_id", "snapshot", "sync_token", "last_updated_at", "active")
_CRM_SNAPSHOT = ("snapshot", "updated_at")
_EVENT = ("event_id", "event_time")


@singledispatch
def project(event: Envelope, conn: Connection) -> None:
    """Any other event changes no record snapshot."""


@project.register
def _qbo_changed(event: QboCustomerChanged, conn: Connection) -> None:
    _qbo_snapshot(conn, event, event.data.realm_id, event.data.entity)


@project.register
def _qbo_deleted(event: QboCustomerDeleted, conn: Connection) -> None:
    d = event.data
    row = _qbo_row(event, d.realm_id, d.id) | {"deleted_at": d.deleted_at}
    upsert(conn, qbo_customers, row, update=("deleted_at",))


@project.register
def _qbo_merged(event: QboCustomerMerged, conn: Connection) -> None:
    d = event.data
    row = _qbo_row(event, d.realm_id, d.merged_id) | {"merged_into": d.surviving_id}
    upsert(conn, qbo_customers, row, update=("merged_into",))
    if d.surviving is not None:
        _qbo_snapshot(conn, event, d.realm_id, d.surviving)


@project.register
def _crm_changed(event: CrmPersonChanged, conn: Connection) -> None:
    d = event.data
    row = {
        "tenant": event.tenant,
        "person_id": d.after.id,
        "snapshot": _as_sent(d.after),
        "updated_at": d.updated_at,
        "deleted_at": None,
        "event_id": event.id,
        "event_time": event.time,
    }
    upsert(
        conn,
        crm_people,
        row,
        update=(*_CRM_SNAPSHOT, *_EVENT),
        where=lambda new: or_(
            crm_people.c.updated_at.is_(None), crm_people.c.updated_at <= new.updated_at
        ),
    )


@project.register
def _crm_deleted(event: CrmPersonDeleted, conn: Connection) -> None:
    d = event.data
    row = {
        "tenant": event.tenant,
        "person_id": d.id,
        "snapshot": _as_sent(d.before) if d.before is not None else None,
        "updated_at": None,
        "deleted_at": d.deleted_at,
        "event_id": event.id,
        "event_time": event.time,
    }
    upsert(conn, crm_people, row, update=("deleted_at",))


def _as_sent(record: BaseModel) -> dict[str, Any]:
    """The record with the keys its source sent (unknown ones included), no defaults added."""
    return record.model_dump(mode="json", exclude_unset=True)


def _qbo_row(event: Envelope, realm_id: str, customer_id: str) -> dict[str, Any]:
    return {
        "tenant": event.tenant,
        "customer_id": customer_id,
        "realm_id": realm_id,
        "snapshot": None,
        "sync_token": None,
        "last_updated_at": None,
        "active": None,
        "deleted_at": None,
        "merged_into": None,
        "event_id": event.id,
        "event_time": event.time,
    }


def _qbo_snapshot(conn: Connection, event: Envelope, realm_id: str, entity: QboCustomer) -> None:
    row = _qbo_row(event, realm_id, entity.Id) | {
        "snapshot": _as_sent(entity),
        "sync_token": int(entity.SyncToken),
        "last_updated_at": entity.MetaData.LastUpdatedTime,
        "active": entity.Active,
    }
    upsert(
        conn,
        qbo_customers,
        row,
        update=(*_QBO_SNAPSHOT, *_EVENT),
        where=lambda new: or_(
            qbo_customers.c.sync_token.is_(None), qbo_customers.c.sync_token <= new.sync_token
        ),
    )
