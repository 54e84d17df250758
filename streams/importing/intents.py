"""What the import writes for one customer, decided once (SYNC-RULES 4.3-4.6), and the agreed
values of the link it makes. Pure: data in, data out.

Decisions where the rules are silent:
- An existing person is attached to the customer's company only when it has no company yet:
  the CRM keeps its data on a first import (4.6), and a different company name shows up as a
  `company_name` conflict when that pair is mapped.
- A created person gets every mapped QBO value (engine.merge.new_person_fields) and nothing is
  written back to QBO for it: there is no CRM data to protect, and writing the CRM's derived
  `full_name` to DisplayName would rename the customer.
- The agreed value of a pair is what the CRM holds after the import (the merged value), or QBO's
  where the CRM has none (engine/link_sync.py compares later changes with it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.conflicts import Conflict
from engine.fields import crm_value, qbo_value
from engine.merge import merge_first_import
from schemas.crm import CrmPerson
from schemas.decisions import AgreedValue, ConflictNote, FieldChange
from schemas.imports import ConflictKept
from schemas.qbo import QboCustomer
from schemas.settings import IntegrationSettings
from store.import_run import ItemIntent

COMPANY_ID = "company_id"  # not a mapped field: how a person is attached to a company


def _note(conflict: Conflict) -> ConflictNote:
    return ConflictNote(
        rule=conflict.rule,
        crm_field=conflict.pair.crm,
        qbo_field=conflict.pair.qbo,
        crm_value=conflict.crm_value,
        qbo_value=conflict.qbo_value,
        kept=conflict.kept,
        crm_changed_at=conflict.crm_changed_at,
        qbo_changed_at=conflict.qbo_changed_at,
    )


def link_intent(
    person: CrmPerson,
    customer: QboCustomer,
    settings: IntegrationSettings,
    company_id: int | None,
) -> ItemIntent:
    """Rule 4.6 for a customer matched to an existing person."""
    merge = merge_first_import(person, customer, settings)
    crm_updates = dict(merge.crm_updates)
    if company_id is not None and person.company_id is None:
        crm_updates[COMPANY_ID] = str(company_id)
    return ItemIntent(
        person_id=person.id,
        company_id=company_id,
        crm_updates=crm_updates,
        qbo_updates=dict(merge.qbo_updates),
        qbo_base={path: qbo_value(customer, path) for path in merge.qbo_updates},
        qbo_sync_token=customer.SyncToken,
        crm_changes=tuple(
            FieldChange(field=path, before=crm_value(person, path), after=value)
            for path, value in merge.crm_updates.items()
        ),
        qbo_changes=tuple(
            FieldChange(field=path, before=qbo_value(customer, path), after=value)
            for path, value in merge.qbo_updates.items()
        ),
        conflicts=tuple(_note(conflict) for conflict in merge.conflicts),
    )


def create_intent(
    customer: QboCustomer, fields: Mapping[str, str | None], company_id: int | None
) -> ItemIntent:
    """Rule 4.3 (no person has the email): create one from the customer's mapped values."""
    return ItemIntent(
        create_fields=dict(fields),
        company_id=company_id,
        qbo_sync_token=customer.SyncToken,
        crm_changes=tuple(
            FieldChange(field=path, before=None, after=value) for path, value in fields.items()
        ),
    )


def writes_anything(intent: ItemIntent) -> bool:
    return intent.person_id is None or bool(intent.crm_updates or intent.qbo_updates)


def agreed_values(
    person: Mapping[str, Any], customer: Mapping[str, Any], settings: IntegrationSettings
) -> dict[str, AgreedValue]:
    """Per mapped pair (by CRM path): the CRM's value after the import, else QBO's."""
    agreed: dict[str, AgreedValue] = {}
    for pair in settings.field_mapping:
        value = crm_value(person, pair.crm)
        if value is None:
            value = qbo_value(customer, pair.qbo)
        agreed[pair.crm] = AgreedValue(value=value, at=None, side="import")
    return agreed


def kept_conflicts(
    intent: ItemIntent, person_id: int, customer_id: str
) -> tuple[ConflictKept, ...]:
    """The summary's form of the conflicts a link kept (SYNC-RULES 4.8)."""
    return tuple(
        ConflictKept(
            person_id=person_id,
            customer_id=customer_id,
            crm_field=note.crm_field,
            qbo_field=note.qbo_field,
            crm_value=note.crm_value,
            qbo_value=note.qbo_value,
        )
        for note in intent.conflicts
    )
