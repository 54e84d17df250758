"""CRM → QBO for a linked person (SYNC-RULES 5, directions `crm_to_qbo` and `both`).

A change to a linked CRM person becomes a sparse QBO update of the mapped fields that changed
(`UpdateQboCustomerData.fields`: QBO dotted path → value, None clears). `full_name ⇄ DisplayName`
is a pair like any other: renaming the person in the CRM renames the customer. DisplayName (and
PrintOnCheckName) cannot be emptied in QBO, so an emptied one is left out and the old one stays.
"""

from __future__ import annotations

from engine.fields import (
    CrmRecord,
    QboRecord,
    crm_to_qbo_applies,
    crm_value,
    qbo_value,
    same_value,
    without_qbo_clears_it_refuses,
)
from schemas.commands import FieldValues
from schemas.settings import IntegrationSettings


def qbo_fields_for_crm_change(
    before: CrmRecord,
    after: CrmRecord,
    settings: IntegrationSettings,
    customer: QboRecord | None = None,
) -> FieldValues:
    """Rule 5: the sparse QBO `fields` for the mapped CRM fields that changed.

    `before` is the person as last synced (or the event's `before`), `after` the person now.
    Given the current `customer`, a field QBO already holds with the new value is left out, so
    the write carries only what QBO lacks. With `qbo_to_crm` the CRM never writes to QBO: {}.
    """
    if not crm_to_qbo_applies(settings.direction):
        return {}
    fields: FieldValues = {}
    for pair in settings.field_mapping:
        new = crm_value(after, pair.crm)
        if same_value(pair, crm_value(before, pair.crm), new):
            continue
        if customer is not None and same_value(pair, qbo_value(customer, pair.qbo), new):
            continue
        fields[pair.qbo] = new
    return without_qbo_clears_it_refuses(fields)
