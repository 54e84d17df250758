"""Ongoing sync of a linked record (SYNC-RULES 5): what one observed change of one side decides.

A change arrives as the full record of one side. Compared field by field with the link's `agreed`
values (what both sides should hold), it yields at most one write to each side and the link
decisions that record it (`LinkSynced`, or `LinkObserved` when nothing is written).

By direction:
- `qbo_to_crm`: a QBO change overwrites every mapped CRM field that differs, clearing what QBO
  has empty (the vendor's rule, hazard included; cleared values stay in the history). CRM
  changes are observed only.
- `crm_to_qbo`: a CRM change writes the mapped fields that changed to QBO (sparse, with the
  SyncToken and the values it saw as `base`). QBO changes are observed only.
- `both`: field by field, the later change wins (source timestamps; ties go to QBO, ADR 0008).
  A change older than the agreed value loses: it is recorded as a conflict, and when it is the
  QBO side that holds the loser, the agreed value is written back to it (a stale-SyncToken retry
  keeps a concurrent QBO value, so QBO must be told again). A winning change over a value still
  being written to its side (pending) is a conflict too: the pending value is lost.

Echoes (the record coming back after the engine's own write) hold the agreed values and so
change nothing. A record holding what the engine wrote *earlier* (superseded since), at the version
that write produced, is an echo of that older write: the agreed value is written to that side
again, and no conflict is recorded. The same value at a later version is a person's change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.crm_names import shape_crm_name_updates
from engine.fields import (
    crm_to_qbo_applies,
    crm_value,
    qbo_to_crm_applies,
    qbo_value,
    same_value,
    without_qbo_clears_it_refuses,
)
from engine.link_state import LinkState
from engine.snapshots import with_values
from schemas.commands import FieldValues
from schemas.decisions import AgreedValue, ConflictNote, FieldChange, Side
from schemas.settings import FieldPair, IntegrationSettings


@dataclass(frozen=True)
class Change:
    """One side's record as observed, and when it changed at its source."""

    side: Side
    record: Mapping[str, Any]
    changed_at: datetime | None


@dataclass
class SyncPlan:
    """What a change decides: the writes to each side, the agreed values it sets, conflicts."""

    to_crm: FieldValues = field(default_factory=dict)
    to_qbo: FieldValues = field(default_factory=dict)
    qbo_base: FieldValues = field(default_factory=dict)
    agreed: dict[str, AgreedValue] = field(default_factory=dict)
    conflicts: list[ConflictNote] = field(default_factory=list)

    @property
    def writes(self) -> bool:
        return bool(self.to_crm or self.to_qbo)


def _value(side: Side, record: Mapping[str, Any], pair: FieldPair) -> str | None:
    return crm_value(record, pair.crm) if side == "crm" else qbo_value(record, pair.qbo)


def _baseline(link: LinkState, pair: FieldPair) -> AgreedValue:
    """The agreed value of a pair; a link made before this pair was mapped takes QBO's."""
    agreed = link.agreed.get(pair.crm)
    if agreed is not None:
        return agreed
    return AgreedValue(
        value=qbo_value(link.qbo, pair.qbo), at=link.qbo_changed_at, side="qbo", pending=None
    )


def _wins(change: Change, agreed: AgreedValue) -> bool:
    """Does this change beat the agreed value? Later wins; ties go to QBO, and a side's own
    later edit in the same second beats its earlier one."""
    if agreed.at is None or change.changed_at is None:
        return True
    if change.changed_at != agreed.at:
        return change.changed_at > agreed.at
    return change.side == "qbo" or agreed.side == change.side


def _note(
    pair: FieldPair,
    crm: str | None,
    qbo: str | None,
    kept: Side,
    crm_at: datetime | None,
    qbo_at: datetime | None,
) -> ConflictNote:
    return ConflictNote(
        rule="concurrent_change",
        crm_field=pair.crm,
        qbo_field=pair.qbo,
        crm_value=crm,
        qbo_value=qbo,
        kept=kept,
        crm_changed_at=crm_at,
        qbo_changed_at=qbo_at,
    )


def _write(
    plan: SyncPlan, link: LinkState, to: Side, pair: FieldPair, value: str | None, change: Change
) -> None:
    if to == "crm":
        plan.to_crm[pair.crm] = value
        return
    plan.to_qbo[pair.qbo] = value
    # `base` is what QBO holds now, as far as this change tells: a QBO change is that record.
    holder = change.record if change.side == "qbo" else link.qbo
    plan.qbo_base[pair.qbo] = qbo_value(holder, pair.qbo)


def _echo_of_superseded_write(
    link: LinkState, change: Change, pair: FieldPair, new: str | None
) -> bool:
    """The record holds what the engine wrote to this field earlier, *as of that write*: the
    write's outcome told the link its version (source time), and this change is that version.
    A person who later sets the field back to that same value makes a later version, and is a
    real change, not our echo."""
    written = link.written_crm if change.side == "crm" else link.written_qbo
    key = pair.crm if change.side == "crm" else pair.qbo
    if key not in written or not same_value(pair, new, written[key]):
        return False
    known = link.crm_changed_at if change.side == "crm" else link.qbo_changed_at
    return change.changed_at is not None and known is not None and change.changed_at <= known


def _reconcile_field(
    plan: SyncPlan, link: LinkState, change: Change, pair: FieldPair, command_for: dict[Side, str]
) -> None:
    side = change.side
    other: Side = "qbo" if side == "crm" else "crm"
    new = _value(side, change.record, pair)
    agreed = _baseline(link, pair)
    if same_value(pair, new, agreed.value):
        return
    if _echo_of_superseded_write(link, change, pair, new):
        _write(plan, link, side, pair, agreed.value, change)  # put the agreed value back
        return
    crm_at = change.changed_at if side == "crm" else agreed.at
    qbo_at = change.changed_at if side == "qbo" else agreed.at
    if _wins(change, agreed):
        _write(plan, link, other, pair, new, change)
        plan.agreed[pair.crm] = AgreedValue(
            value=new, at=change.changed_at, side=side, pending=command_for[other]
        )
        if agreed.side == other and agreed.pending is not None:
            crm, qbo = (new, agreed.value) if side == "crm" else (agreed.value, new)
            plan.conflicts.append(_note(pair, crm, qbo, side, crm_at, qbo_at))
        return
    crm, qbo = (new, agreed.value) if side == "crm" else (agreed.value, new)
    plan.conflicts.append(_note(pair, crm, qbo, other, crm_at, qbo_at))
    if side == "qbo":
        _write(plan, link, "qbo", pair, agreed.value, change)


def plan_both(
    link: LinkState, change: Change, settings: IntegrationSettings, command_for: dict[Side, str]
) -> SyncPlan:
    """Direction `both`: per field, the later change wins (module docstring)."""
    plan = SyncPlan()
    for pair in settings.field_mapping:
        _reconcile_field(plan, link, change, pair, command_for)
    return shaped(plan, link, settings)


def plan_one_way(
    link: LinkState, change: Change, settings: IntegrationSettings, command_for: dict[Side, str]
) -> SyncPlan:
    """`qbo_to_crm` from a QBO change (overwrite every mapped field), `crm_to_qbo` from a CRM
    change (the mapped fields that changed since the link last saw the person)."""
    plan = SyncPlan()
    if change.side == "qbo" and qbo_to_crm_applies(settings.direction):
        for pair in settings.field_mapping:
            new = qbo_value(change.record, pair.qbo)
            if not same_value(pair, crm_value(link.crm, pair.crm), new):
                plan.to_crm[pair.crm] = new
            plan.agreed[pair.crm] = AgreedValue(
                value=new,
                at=change.changed_at,
                side="qbo",
                pending=command_for["crm"] if pair.crm in plan.to_crm else None,
            )
    elif change.side == "crm" and crm_to_qbo_applies(settings.direction):
        for pair in settings.field_mapping:
            new = crm_value(change.record, pair.crm)
            if same_value(pair, crm_value(link.crm, pair.crm), new):
                continue
            if not same_value(pair, qbo_value(link.qbo, pair.qbo), new):
                _write(plan, link, "qbo", pair, new, change)
            plan.agreed[pair.crm] = AgreedValue(
                value=new,
                at=change.changed_at,
                side="crm",
                pending=command_for["qbo"] if pair.qbo in plan.to_qbo else None,
            )
    return shaped(plan, link, settings)


def shaped(plan: SyncPlan, link: LinkState, settings: IntegrationSettings) -> SyncPlan:
    """The CRM's name rules and QBO's never-emptied DisplayName (engine/crm_names.py)."""
    mapped = {pair.crm for pair in settings.field_mapping}
    current = {pair.crm: crm_value(link.crm, pair.crm) for pair in settings.field_mapping}
    plan.to_crm = shape_crm_name_updates(plan.to_crm, current, mapped)
    plan.to_qbo = without_qbo_clears_it_refuses(plan.to_qbo)
    plan.qbo_base = {path: plan.qbo_base.get(path) for path in plan.to_qbo}
    return plan


def field_changes(
    before: Mapping[str, Any], values: FieldValues, side: Side
) -> tuple[FieldChange, ...]:
    read = crm_value if side == "crm" else qbo_value
    return tuple(
        FieldChange(field=path, before=read(before, path), after=value)
        for path, value in values.items()
    )


def after_write(record: Mapping[str, Any], values: FieldValues) -> dict[str, Any]:
    return with_values(record, values)
