"""Conflicts, and concurrent changes with direction `both` (SYNC-RULES 5, decision).

A field changed on both sides since the last sync: the change with the later *source* timestamp
wins, and the losing value is returned as a `Conflict`, never silently dropped.

Decisions where the rules are silent:
- Ties (equal source timestamps; both systems stamp to the second) go to **QBO**. QBO is the
  system of record for customers (the default direction is `qbo_to_crm`, and with `both` a QBO
  change already overwrites the CRM's mapped fields); one fixed side keeps the outcome
  deterministic whichever event is processed first.
- Both sides changed a field to the same value (emails: case-insensitively): no conflict.
- A field changed on one side only goes to the other side (CRM → QBO and QBO → CRM of rule 5).
  A QBO change does not revert a CRM-only change of another field: that would drop it silently.
- The baseline is one value per pair: with `both` both sides hold the same mapped values after
  every sync (the first import writes the merged record to QBO, rule 4.6).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from engine.crm_names import shape_crm_name_updates
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
from schemas.settings import FieldPair, IntegrationSettings

ConflictRule = Literal["first_import", "concurrent_change"]
TIE_WINNER: Side = "qbo"


class Conflict(FrozenModel):
    """Both sides held different values for one mapped pair; `kept` says whose value won."""

    rule: ConflictRule
    pair: FieldPair
    crm_value: str | None
    qbo_value: str | None
    kept: Side
    crm_changed_at: AwareDatetime | None = None
    qbo_changed_at: AwareDatetime | None = None

    @property
    def lost_value(self) -> str | None:
        return self.qbo_value if self.kept == "crm" else self.crm_value


class Reconciliation(FrozenModel):
    """What to write to each side (sparse `fields`), and the conflicts recorded on the way."""

    crm_updates: FieldValues = Field(default_factory=dict)
    qbo_updates: FieldValues = Field(default_factory=dict)
    conflicts: tuple[Conflict, ...] = ()


def later_side(crm_changed_at: datetime, qbo_changed_at: datetime) -> Side:
    """The side whose change happened later; ties go to TIE_WINNER (module docstring)."""
    if crm_changed_at == qbo_changed_at:
        return TIE_WINNER
    return "crm" if crm_changed_at > qbo_changed_at else "qbo"


def reconcile_concurrent_changes(
    last_synced: Mapping[str, str | None],
    crm_now: CrmRecord,
    crm_changed_at: datetime,
    qbo_now: QboRecord,
    qbo_changed_at: datetime,
    settings: IntegrationSettings,
) -> Reconciliation:
    """Rule 5 (`both`): merge the changes of both sides since the last sync, later one wins.

    `last_synced` maps each mapped CRM path to the value both sides held after the last sync.
    """
    if settings.direction != "both":
        raise ValueError("concurrent changes are reconciled only with direction 'both'")
    crm, qbo = (
        crm_values(crm_now, settings.field_mapping),
        qbo_values(qbo_now, settings.field_mapping),
    )
    to_crm: FieldValues = {}
    to_qbo: FieldValues = {}
    conflicts: list[Conflict] = []
    for pair in settings.field_mapping:
        base, c, q = last_synced.get(pair.crm), crm[pair.crm], qbo[pair.qbo]
        crm_changed, qbo_changed = not same_value(pair, c, base), not same_value(pair, q, base)
        if crm_changed and qbo_changed and not same_value(pair, c, q):
            winner = later_side(crm_changed_at, qbo_changed_at)
            conflicts.append(
                Conflict(
                    rule="concurrent_change",
                    pair=pair,
                    crm_value=c,
                    qbo_value=q,
                    kept=winner,
                    crm_changed_at=crm_changed_at,
                    qbo_changed_at=qbo_changed_at,
                )
            )
            crm_changed, qbo_changed = winner == "crm", winner == "qbo"
        if crm_changed and not qbo_changed:
            to_qbo[pair.qbo] = c
        elif qbo_changed and not crm_changed:
            to_crm[pair.crm] = q
    mapped = {pair.crm for pair in settings.field_mapping}
    return Reconciliation(
        crm_updates=shape_crm_name_updates(to_crm, crm, mapped),
        qbo_updates=without_qbo_clears_it_refuses(to_qbo),
        conflicts=tuple(conflicts),
    )
