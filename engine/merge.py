"""First import of a link: initial linking preserves CRM data (SYNC-RULES 4.6).

For each mapped pair: QBO empty → keep CRM; CRM empty → take QBO; both set and different → keep
CRM and record a conflict. With direction `both` the merged record is written to QBO as well, so
both sides hold the same complete data. Custom and unmapped CRM fields are never touched: only
mapped pairs produce updates.

Decisions where the rules are silent:
- The CRM is filled from QBO whatever the direction: the import is an explicit admin action that
  reads QBO (rule 4). Only the write-back to QBO depends on the direction (`both` only).
- The merge never empties a QBO field (it only fills or replaces with CRM values), so DisplayName
  is never emptied; the ADR 0006 guard is applied all the same.
- `would_clear_later`: after this merge, the CRM fields a later QBO update would clear (rule 5
  applied to the merged state) - the `--dry-run` list. Empty with `both` (QBO then holds them)
  and with `crm_to_qbo` (QBO never writes to the CRM).
"""

from __future__ import annotations

from pydantic import Field

from engine.conflicts import Conflict
from engine.crm_names import shape_crm_name_updates
from engine.fields import (
    CrmRecord,
    QboRecord,
    crm_values,
    qbo_value,
    qbo_values,
    same_value,
    without_qbo_clears_it_refuses,
)
from engine.overwrite import ClearedField, overwrite_values
from schemas.commands import FieldValues
from schemas.common import FrozenModel
from schemas.settings import IntegrationSettings


class FirstImportMerge(FrozenModel):
    crm_updates: FieldValues = Field(default_factory=dict)
    qbo_updates: FieldValues = Field(default_factory=dict)
    conflicts: tuple[Conflict, ...] = ()
    would_clear_later: tuple[ClearedField, ...] = ()


def merge_first_import(
    person: CrmRecord, customer: QboRecord, settings: IntegrationSettings
) -> FirstImportMerge:
    """Rule 4.6: the CRM updates, QBO updates (`both` only) and conflicts of a first link."""
    mapping = settings.field_mapping
    crm, qbo = crm_values(person, mapping), qbo_values(customer, mapping)
    to_crm: FieldValues = {}
    merged_to_qbo: FieldValues = {}
    conflicts: list[Conflict] = []
    for pair in mapping:
        c, q = crm[pair.crm], qbo[pair.qbo]
        if same_value(pair, c, q):
            continue
        if c is None:
            to_crm[pair.crm] = q
            continue
        merged_to_qbo[pair.qbo] = c
        if q is not None:
            conflicts.append(
                Conflict(rule="first_import", pair=pair, crm_value=c, qbo_value=q, kept="crm")
            )
    to_qbo = without_qbo_clears_it_refuses(merged_to_qbo) if settings.direction == "both" else {}
    crm_updates = shape_crm_name_updates(to_crm, crm, {pair.crm for pair in mapping})
    later = overwrite_values({**crm, **crm_updates}, {**qbo, **to_qbo}, settings)
    return FirstImportMerge(
        crm_updates=crm_updates,
        qbo_updates=to_qbo,
        conflicts=tuple(conflicts),
        would_clear_later=later.cleared,
    )


def new_person_fields(customer: QboRecord, settings: IntegrationSettings) -> FieldValues:
    """Rule 4.3 (no person has the email): the CRM fields of the person created for `customer`.

    Every non-empty mapped QBO value, names shaped as the CRM stores them (engine/crm_names.py).
    """
    mapping = settings.field_mapping
    found = {pair.crm: value for pair in mapping if (value := qbo_value(customer, pair.qbo))}
    return shape_crm_name_updates(found, {}, {pair.crm for pair in mapping})
