"""CRM → QBO for a linked person (SYNC-RULES 5): a sparse update of the mapped fields that
changed; an emptied DisplayName is left out so QBO keeps the old one."""

from __future__ import annotations

import pytest

from engine.crm_changes import qbo_fields_for_crm_change
from tests.unit.engine.builders import BOTH, CRM_TO_QBO, JOHN_IN_CRM, QBO_TO_CRM, customer, person

JOHN = {"first_name": "John", "last_name": "Smith", "full_name": "John Smith", "phone": "555-0000"}


@pytest.mark.parametrize(
    ("before", "after", "settings", "fields"),
    [
        (
            JOHN,
            {**JOHN, "phone": "555-1234"},
            CRM_TO_QBO,
            {"PrimaryPhone.FreeFormNumber": "555-1234"},
        ),
        (JOHN, {**JOHN, "phone": "555-1234"}, BOTH, {"PrimaryPhone.FreeFormNumber": "555-1234"}),
        (JOHN, {**JOHN, "phone": "555-1234"}, QBO_TO_CRM, {}),
        (JOHN, {**JOHN, "phone": None}, BOTH, {"PrimaryPhone.FreeFormNumber": None}),
        (JOHN, {**JOHN, "phone": "  555-0000 "}, BOTH, {}),
        (JOHN, {**JOHN, "position": "CEO", "custom_fields": {"x": "1"}}, BOTH, {}),
        (
            JOHN,
            {**JOHN, "first_name": "Jane", "full_name": "Jane Smith"},
            BOTH,
            {"GivenName": "Jane", "DisplayName": "Jane Smith"},
        ),
        (JOHN, {**JOHN, "full_name": None}, BOTH, {}),
        (
            JOHN,
            {**JOHN, "first_name": None, "last_name": None, "full_name": ""},
            BOTH,
            {"GivenName": None, "FamilyName": None},
        ),
        ({**JOHN, "email": "j@x.com"}, {**JOHN, "email": "J@X.com"}, BOTH, {}),
        (
            {**JOHN, "work_city": None},
            {**JOHN, "work_city": "Bergen"},
            BOTH,
            {"BillAddr.City": "Bergen"},
        ),
    ],
    ids=[
        "changed-phone-crm-to-qbo",
        "changed-phone-both",
        "qbo-to-crm-never-writes-qbo",
        "emptied-phone-clears-in-qbo",
        "trim-only-is-no-change",
        "unmapped-and-custom-changes-send-nothing",
        "rename-updates-given-name-and-display-name",
        "emptied-display-name-is-dropped",
        "emptied-names-clear-but-display-name-stays",
        "email-case-only-is-no-change",
        "address-part-by-dotted-path",
    ],
)
def test_a_crm_change_becomes_a_sparse_qbo_update_of_the_mapped_fields_that_changed(
    before, after, settings, fields
):
    assert qbo_fields_for_crm_change(person(**before), person(**after), settings) == fields


def test_a_crm_change_leaves_out_fields_qbo_already_holds():
    after = JOHN_IN_CRM.model_copy(update={"phone": "555-9", "work_city": "Bergen"})
    qbo = customer({"PrimaryPhone.FreeFormNumber": "555-9"})
    fields = qbo_fields_for_crm_change(JOHN_IN_CRM, after, BOTH, customer=qbo)
    assert fields == {"BillAddr.City": "Bergen"}


def test_a_crm_change_of_plain_dicts_works_like_one_of_models():
    before, after = {"id": 1, "phone": "1"}, {"id": 1, "phone": "2"}
    assert qbo_fields_for_crm_change(before, after, BOTH) == {"PrimaryPhone.FreeFormNumber": "2"}
