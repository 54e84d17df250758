"""First import of a link (SYNC-RULES 4.6): existing CRM data is preserved.

QBO empty → keep CRM; CRM empty → take QBO; both set and different → keep CRM and record a
conflict. With `both` the merged record is written to QBO too. Custom and unmapped CRM fields are
never touched.
"""

from __future__ import annotations

import pytest

from engine.conflicts import Conflict
from engine.merge import merge_first_import, new_person_fields
from engine.overwrite import ClearedField
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
CITY = FieldPair(crm="work_city", qbo="BillAddr.City")


@pytest.mark.parametrize(
    ("crm", "qbo", "settings", "crm_updates", "qbo_updates", "conflicts"),
    [
        ({"phone": "555-1234"}, {}, QBO_TO_CRM, {}, {}, ()),
        ({"phone": "555-1234"}, {}, BOTH, {}, {"PrimaryPhone.FreeFormNumber": "555-1234"}, ()),
        ({"phone": "555-1234"}, {}, CRM_TO_QBO, {}, {}, ()),
        ({}, {"PrimaryPhone.FreeFormNumber": "555-9"}, QBO_TO_CRM, {"phone": "555-9"}, {}, ()),
        (
            {"phone": "  "},
            {"PrimaryPhone.FreeFormNumber": "555-9"},
            BOTH,
            {"phone": "555-9"},
            {},
            (),
        ),
        ({}, {"PrimaryPhone.FreeFormNumber": "555-9"}, CRM_TO_QBO, {"phone": "555-9"}, {}, ()),
        ({"phone": "555-1234"}, {"PrimaryPhone.FreeFormNumber": " 555-1234 "}, BOTH, {}, {}, ()),
        (
            {"phone": "555-1234"},
            {"PrimaryPhone.FreeFormNumber": "555-9"},
            QBO_TO_CRM,
            {},
            {},
            (
                Conflict(
                    rule="first_import",
                    pair=PHONE,
                    crm_value="555-1234",
                    qbo_value="555-9",
                    kept="crm",
                ),
            ),
        ),
        (
            {"phone": "555-1234", "work_city": "Portland"},
            {"PrimaryPhone.FreeFormNumber": "555-9", "BillAddr.City": "Bergen"},
            BOTH,
            {},
            {"PrimaryPhone.FreeFormNumber": "555-1234", "BillAddr.City": "Portland"},
            (
                Conflict(
                    rule="first_import",
                    pair=PHONE,
                    crm_value="555-1234",
                    qbo_value="555-9",
                    kept="crm",
                ),
                Conflict(
                    rule="first_import",
                    pair=CITY,
                    crm_value="Portland",
                    qbo_value="Bergen",
                    kept="crm",
                ),
            ),
        ),
        ({"email": "John@X.com"}, {"PrimaryEmailAddr.Address": "john@x.com"}, BOTH, {}, {}, ()),
    ],
    ids=[
        "qbo-empty-keeps-crm",
        "qbo-empty-keeps-crm-and-both-writes-it-to-qbo",
        "qbo-empty-keeps-crm-crm-to-qbo-writes-nothing-to-qbo",
        "crm-empty-takes-qbo",
        "crm-blank-takes-qbo",
        "crm-empty-takes-qbo-whatever-the-direction",
        "same-after-trim-nothing-to-do",
        "different-keeps-crm-and-records-conflict",
        "different-with-both-writes-crm-values-to-qbo",
        "emails-differing-in-case-are-the-same",
    ],
)
def test_first_import_merges_each_mapped_pair(
    crm, qbo, settings, crm_updates, qbo_updates, conflicts
):
    merge = merge_first_import(person(**crm), customer(qbo), settings)
    assert merge.crm_updates == crm_updates
    assert merge.qbo_updates == qbo_updates
    assert merge.conflicts == conflicts


def test_first_import_keeps_crm_phone_when_qbo_has_none():
    merge = merge_first_import(person(phone="555-1234"), customer({}), QBO_TO_CRM)
    assert "phone" not in merge.crm_updates


def test_first_import_never_touches_custom_or_unmapped_crm_fields():
    crm = person(position="Owner", home_phone="555-0", custom_fields={"custom_label_12": "gold"})
    qbo = customer({"Notes": "vip", "AlternatePhone.FreeFormNumber": "555-7"})
    for settings in (QBO_TO_CRM, BOTH):
        merge = merge_first_import(crm, qbo, settings)
        assert set(merge.crm_updates) <= {pair.crm for pair in settings.field_mapping}
        assert not any(f.startswith("custom_fields") for f in merge.crm_updates)
        assert "position" not in merge.crm_updates and "home_phone" not in merge.crm_updates


def test_first_import_fills_a_mapped_custom_field_like_any_other_pair():
    pair = FieldPair(crm="custom_fields.custom_label_12", qbo="Notes")
    settings = IntegrationSettings(direction="both", field_mapping=(pair,))
    merge = merge_first_import(person(custom_fields={}), customer({"Notes": "vip"}), settings)
    assert merge.crm_updates == {"custom_fields.custom_label_12": "vip"}


def test_first_import_with_both_never_empties_the_display_name():
    merge = merge_first_import(person(), customer({"DisplayName": "Jo Q"}), BOTH)
    assert "DisplayName" not in merge.qbo_updates
    assert all(value is not None for value in merge.qbo_updates.values())


def test_first_import_does_not_write_display_name_into_crm_full_name_next_to_the_names():
    merge = merge_first_import(
        person(first_name=None, last_name=None, full_name=None),
        customer({"GivenName": "Jane", "FamilyName": "Doe", "DisplayName": "Jane Doe"}),
        QBO_TO_CRM,
    )
    assert merge.crm_updates == {"first_name": "Jane", "last_name": "Doe"}


def test_vendor_example_first_import_keeps_the_crm_data_of_john_smith():
    merge = merge_first_import(JOHN_IN_CRM, JOHN_IN_QBO, QBO_TO_CRM)
    assert merge.crm_updates == {}
    assert merge.conflicts == ()
    assert merge.qbo_updates == {}


def test_vendor_example_first_import_with_both_writes_the_crm_data_to_qbo():
    merge = merge_first_import(JOHN_IN_CRM, JOHN_IN_QBO, BOTH)
    assert merge.crm_updates == {}
    assert merge.qbo_updates == JOHNS_CRM_ONLY_DATA_IN_QBO
    assert merge.would_clear_later == ()


def test_first_import_lists_what_a_later_qbo_update_would_clear():
    merge = merge_first_import(JOHN_IN_CRM, JOHN_IN_QBO, QBO_TO_CRM)
    cleared = {c.pair.crm: c.old_value for c in merge.would_clear_later}
    assert cleared == JOHNS_CRM_ONLY_DATA
    assert all(isinstance(c, ClearedField) for c in merge.would_clear_later)
    assert merge_first_import(JOHN_IN_CRM, JOHN_IN_QBO, CRM_TO_QBO).would_clear_later == ()


@pytest.mark.parametrize(
    ("qbo", "expected"),
    [
        (
            {
                "DisplayName": "Jane Doe",
                "GivenName": "Jane",
                "FamilyName": "Doe",
                "PrimaryEmailAddr.Address": " jane@x.com ",
                "PrimaryPhone.FreeFormNumber": "",
                "BillAddr.City": "Bergen",
            },
            {
                "first_name": "Jane",
                "last_name": "Doe",
                "email": "jane@x.com",
                "work_city": "Bergen",
            },
        ),
        (
            {"DisplayName": "Acme Corp", "PrimaryEmailAddr.Address": "ap@acme.com"},
            {"full_name": "Acme Corp", "email": "ap@acme.com"},
        ),
    ],
    ids=["names-and-values", "display-name-only"],
)
def test_a_person_created_by_the_import_holds_the_customers_mapped_values(qbo, expected):
    assert new_person_fields(customer(qbo), QBO_TO_CRM) == expected
