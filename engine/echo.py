"""Echoes: a change that only reflects the engine's own write is not sent back (SYNC-RULES 5).

The engine remembers each write: the side, the fields it wrote, every mapped value of that side
as the write leaves it, and the version the write produced (QBO SyncToken, CRM `updated_at`),
once the outcome reports it. An incoming change is an echo when it is that version, or a later
version whose mapped values all equal what the write left: nothing mapped changed otherwise.
A real user change riding along (any mapped field differing) makes it not an echo.

Decisions where the rules are silent:
- QBO: the same SyncToken is proof (a per-entity counter): an echo even if QBO reformatted a
  value. CRM: `updated_at` has one-second resolution, so a user edit in the same second as our
  write carries the same version; for the CRM the values decide, at the same or a later version.
- An older version than the write's is never an echo (it is a stale state, for the caller's
  ordering check). While the version is unknown (outcome not yet in), the values decide.
  A CRM person without `updated_at` cannot be placed after our write: not an echo.
- Values compare as everywhere (engine/fields.py): trimmed, emails case-insensitive. A change of
  unmapped fields only is an echo: there is nothing mapped to send.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pydantic import AwareDatetime

from engine.crm_names import crm_values_after_write
from engine.fields import (
    CrmRecord,
    QboRecord,
    Side,
    crm_values,
    qbo_values,
    same_value,
    without_qbo_clears_it_refuses,
)
from schemas.commands import FieldValues
from schemas.common import FrozenModel
from schemas.crm import CrmPerson
from schemas.qbo import QboCustomer
from schemas.settings import IntegrationSettings

Version = int | datetime


class RememberedWrite(FrozenModel):
    side: Side
    written: FieldValues
    expected: FieldValues
    version: int | AwareDatetime | None = None


def remember_qbo_write(
    before: QboRecord,
    written: Mapping[str, str | None],
    settings: IntegrationSettings,
    sync_token: str | None = None,
) -> RememberedWrite:
    """A write to a QBO customer; `sync_token` is the one QBO answered with, when known."""
    sent = without_qbo_clears_it_refuses(written)
    expected = {**qbo_values(before, settings.field_mapping), **sent}
    version = int(sync_token) if sync_token is not None else None
    return RememberedWrite(side="qbo", written=sent, expected=expected, version=version)


def remember_crm_write(
    before: CrmRecord,
    written: Mapping[str, str | None],
    settings: IntegrationSettings,
    updated_at: datetime | None = None,
) -> RememberedWrite:
    """A write to a CRM person; `updated_at` is the one the CRM answered with, when known."""
    mapped = [pair.crm for pair in settings.field_mapping]
    expected = crm_values_after_write(crm_values(before, settings.field_mapping), written, mapped)
    return RememberedWrite(side="crm", written=dict(written), expected=expected, version=updated_at)


def _compare(incoming: Version, ours: Version) -> int:
    if isinstance(incoming, datetime) and isinstance(ours, datetime):
        return (incoming > ours) - (incoming < ours)
    if isinstance(incoming, int) and isinstance(ours, int):
        return (incoming > ours) - (incoming < ours)
    raise TypeError("a QBO SyncToken and a CRM updated_at cannot be compared")


def is_echo(
    write: RememberedWrite,
    version: Version,
    values: Mapping[str, str | None],
    settings: IntegrationSettings,
) -> bool:
    """Rule 5: is a change at `version` with these mapped `values` (of `write.side`) ours?"""
    if write.version is not None:
        order = _compare(version, write.version)
        if order < 0:
            return False
        if order == 0 and write.side == "qbo":
            return True
    for pair in settings.field_mapping:
        path = pair.crm if write.side == "crm" else pair.qbo
        if not same_value(pair, values.get(path), write.expected.get(path)):
            return False
    return True


def is_qbo_echo(
    write: RememberedWrite, customer: QboCustomer, settings: IntegrationSettings
) -> bool:
    """Rule 5 for an incoming QBO customer: its SyncToken is the version."""
    values = qbo_values(customer, settings.field_mapping)
    return write.side == "qbo" and is_echo(write, int(customer.SyncToken), values, settings)


def is_crm_echo(write: RememberedWrite, person: CrmPerson, settings: IntegrationSettings) -> bool:
    """Rule 5 for an incoming CRM person: its `updated_at` is the version."""
    if write.side != "crm" or person.updated_at is None:
        return False
    values = crm_values(person, settings.field_mapping)
    return is_echo(write, person.updated_at, values, settings)
