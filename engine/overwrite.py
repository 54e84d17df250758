"""QBO → CRM after a link's first import (SYNC-RULES 5, directions `qbo_to_crm` and `both`).

Any change to the QBO customer makes QBO's values overwrite every mapped CRM field, and mapped
fields empty in QBO are cleared in the CRM: the vendor's behaviour, hazard included. The fields a
write clears are returned with their old values, for history (so they can be restored) and for
the import's `--dry-run` ("which CRM fields a later QBO update would clear").

Only fields whose value differs are written; a CRM person's names follow engine/crm_names.py
(`full_name` is derived, a person never loses both names). With `crm_to_qbo` nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field

from engine.crm_names import shape_crm_name_updates
from engine.fields import (
    CrmRecord,
    QboRecord,
    crm_values,
    qbo_to_crm_applies,
    qbo_values,
    same_value,
)
from schemas.commands import FieldValues
from schemas.common import FrozenModel
from schemas.settings import FieldPair, IntegrationSettings


class ClearedField(FrozenModel):
    """A mapped CRM field a QBO overwrite empties, with the value it held."""

    pair: FieldPair
    old_value: str


class QboOverwrite(FrozenModel):
    """The sparse CRM update (None clears) and the fields it clears."""

    crm_updates: FieldValues = Field(default_factory=dict)
    cleared: tuple[ClearedField, ...] = ()


def overwrite_values(
    crm: Mapping[str, str | None], qbo: Mapping[str, str | None], settings: IntegrationSettings
) -> QboOverwrite:
    """Rule 5 over mapped values: `crm` keyed by CRM path, `qbo` by QBO path."""
    if not qbo_to_crm_applies(settings.direction):
        return QboOverwrite()
    wanted = {
        pair.crm: qbo.get(pair.qbo)
        for pair in settings.field_mapping
        if not same_value(pair, crm.get(pair.crm), qbo.get(pair.qbo))
    }
    mapped = {pair.crm for pair in settings.field_mapping}
    updates = shape_crm_name_updates(wanted, crm, mapped)
    cleared = tuple(
        ClearedField(pair=pair, old_value=old)
        for pair in settings.field_mapping
        if pair.crm in updates
        and updates[pair.crm] is None
        and (old := crm.get(pair.crm)) is not None
    )
    return QboOverwrite(crm_updates=updates, cleared=cleared)


def overwrite_from_qbo(
    person: CrmRecord, customer: QboRecord, settings: IntegrationSettings
) -> QboOverwrite:
    """Rule 5: what a change of `customer` writes to the linked CRM `person`, and what it clears."""
    mapping = settings.field_mapping
    return overwrite_values(crm_values(person, mapping), qbo_values(customer, mapping), settings)
