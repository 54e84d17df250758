"""QBO → CRM after the first import (SYNC-RULES 5): QBO's values overwrite every mapped CRM field,
empties clear, and the cleared values are listed with what they held."""

from __future__ import annotations

import pytest

from engine.crm_names import crm_values_after_write
from engine.fields import crm_values
from engine.merge import merge_first_import
from engine.overwrite import ClearedField, overwrite_from_qbo, overwrite_values
from schemas.settings import FieldPair, IntegrationSettings
from tests.unit.engine.builders import (
    BOTH,
    CRM_TO_QBO,
    JOHN_IN_CRM,
    JOHN_IN_QBO,
    JOHNS_CRM_ONLY_DATA,
    JOHNS_CRM_ONLY_DATA_IN_QBO,
    QBO_TO_CRM,
    customer,
    person,
)

PHONE = FieldPair(crm="phone", qbo="PrimaryPhone.FreeFormNumber")


@pytest.mark.parametrize(
    ("crm", "qbo", "settings", "updates", "cleared"),
    [
        (
            {"phone": "555-1"},
            {"PrimaryPhone.FreeFormNumber": "555-2"},
            QBO_TO_CRM,
            {"phone": "555-2"},
            (),
        ),
        (
            {"phone": "555-1"},
            {},
            QBO_TO_CRM,
            {"phone": None},
            (ClearedField(pair=PHONE, old_value="555-1"),),
        ),
        (
            {"phone": "555-1"},
            {},
            BOTH,
            {"phone": None},
            (ClearedField(pair=PHONE, old_value="555-1"),),
        ),
        ({"phone": "555-1"}, {"PrimaryPhone.FreeFormNumber": " 555-1 "}, QBO_TO_CRM, {}, ()),
        ({}, {}, QBO_TO_CRM, {}, ()),
        ({}, {"PrimaryPhone.FreeFormNumber": "555-2"}, QBO_TO_CRM, {"phone": "555-2"}, ()),
        ({"phone": "555-1"}, {}, CRM_TO_QBO, {}, ()),
        ({"email": "JO@x.com"}, {"PrimaryEmailAddr.Address": "jo@x.com"}, QBO_TO_CRM, {}, ()),
    ],
    ids=[
        "qbo-value-replaces-crm",
        "qbo-empty-clears-crm",
        "qbo-empty-clears-crm-with-both",
        "same-after-trim-not-written",
        "both-empty-nothing",
        "qbo-fills-crm",
        "crm-to-qbo-never-writes-crm",
        "email-case-only-not-written",
    ],
)
def test_a_qbo_change_overwrites_every_mapped_crm_field_and_clears_empties(
    crm, qbo, settings, updates, cleared
):
    result = overwrite_from_qbo(person(**crm), customer(qbo), settings)
    assert result.crm_updates == updates
    assert result.cleared == cleared


def test_a_qbo_overwrite_returns_only_the_fields_that_differ():
    crm = person(first_name="John", last_name="Smith", email="j@x.com", phone="555-1")
    qbo = customer(
        {
            "GivenName": "John",
            "FamilyName": "Smith",
            "DisplayName": "John Smith",
            "PrimaryEmailAddr.Address": "j@x.com",
            "PrimaryPhone.FreeFormNumber": "555-2",
        }
    )
    assert overwrite_from_qbo(crm, qbo, QBO_TO_CRM).crm_updates == {"phone": "555-2"}


def test_a_qbo_overwrite_never_touches_custom_or_unmapped_crm_fields():
    crm = person(position="Owner", custom_fields={"custom_label_12": "gold"}, phone="555-1")
    result = overwrite_from_qbo(crm, customer({"Notes": "x"}), QBO_TO_CRM)
    assert set(result.crm_updates) == {"phone"}


def test_a_qbo_overwrite_clears_a_mapped_custom_field_too():
    pair = FieldPair(crm="custom_fields.custom_label_12", qbo="Notes")
    settings = IntegrationSettings(field_mapping=(pair,))
    result = overwrite_values({"custom_fields.custom_label_12": "gold"}, {"Notes": None}, settings)
    assert result.crm_updates == {"custom_fields.custom_label_12": None}
    assert result.cleared == (ClearedField(pair=pair, old_value="gold"),)


def test_vendor_example_renaming_to_jane_in_qbo_clears_the_crm_phone_address_and_website():
    """QBO has no phone or address; the rename makes QBO's values overwrite the CRM's."""
    merge = merge_first_import(JOHN_IN_CRM, JOHN_IN_QBO, QBO_TO_CRM)
    crm_after_import = {**crm_values(JOHN_IN_CRM, QBO_TO_CRM.field_mapping), **merge.crm_updates}
    renamed = JOHN_IN_QBO.model_copy(
        update={"DisplayName": "Jane Smith", "GivenName": "Jane", "SyncToken": "1"}
    )
    result = overwrite_from_qbo(crm_after_import, renamed, QBO_TO_CRM)
    assert result.crm_updates == {"first_name": "Jane", **dict.fromkeys(JOHNS_CRM_ONLY_DATA)}
    assert {c.pair.crm: c.old_value for c in result.cleared} == JOHNS_CRM_ONLY_DATA
    mapped = [pair.crm for pair in QBO_TO_CRM.field_mapping]
    shown = crm_values_after_write(crm_after_import, result.crm_updates, mapped)
    assert shown["full_name"] == "Jane Smith"
    assert all(shown[field] is None for field in JOHNS_CRM_ONLY_DATA)
    assert result.cleared == merge.would_clear_later  # the dry run said so beforehand


def test_vendor_example_with_both_the_rename_clears_nothing_because_qbo_holds_the_data():
    merge = merge_first_import(JOHN_IN_CRM, JOHN_IN_QBO, BOTH)
    qbo_after_import = customer(
        {
            "DisplayName": "Jane Smith",
            "GivenName": "Jane",
            "FamilyName": "Smith",
            "PrimaryEmailAddr.Address": "john.smith@example.com",
            **merge.qbo_updates,
        }
    )
    result = overwrite_from_qbo(JOHN_IN_CRM, qbo_after_import, BOTH)
    assert result.crm_updates == {"first_name": "Jane"}
    assert result.cleared == ()
    assert merge.qbo_updates == JOHNS_CRM_ONLY_DATA_IN_QBO
