"""Concurrent changes with `both` (SYNC-RULES 5, decision): per field changed on both sides the
later source timestamp wins; the losing value is a recorded conflict; ties go to QBO."""

from __future__ import annotations

import pytest

from engine.conflicts import Conflict, reconcile_concurrent_changes
from schemas.settings import FieldPair
from tests.unit.engine.builders import BOTH, CRM_TO_QBO, QBO_TO_CRM, at, customer, person

PHONE = FieldPair(crm="phone", qbo="PrimaryPhone.FreeFormNumber")
SYNCED = {
    "phone": "555-0",
    "work_city": "Portland",
    "first_name": "John",
    "last_name": "Smith",
    "full_name": "John Smith",
}
CRM_SYNCED = dict(SYNCED)
QBO_SYNCED = {
    "PrimaryPhone.FreeFormNumber": "555-0",
    "BillAddr.City": "Portland",
    "GivenName": "John",
    "FamilyName": "Smith",
    "DisplayName": "John Smith",
}


def reconcile(crm_changes, crm_minute, qbo_changes, qbo_minute):
    return reconcile_concurrent_changes(
        SYNCED,
        person(**{**CRM_SYNCED, **crm_changes}),
        at(crm_minute),
        customer({**QBO_SYNCED, **qbo_changes}),
        at(qbo_minute),
        BOTH,
    )


@pytest.mark.parametrize(
    ("crm_change", "crm_minute", "qbo_change", "qbo_minute", "to_crm", "to_qbo", "kept"),
    [
        (
            {"phone": "555-C"},
            5,
            {"PrimaryPhone.FreeFormNumber": "555-Q"},
            3,
            {},
            {"PrimaryPhone.FreeFormNumber": "555-C"},
            "crm",
        ),
        (
            {"phone": "555-C"},
            3,
            {"PrimaryPhone.FreeFormNumber": "555-Q"},
            5,
            {"phone": "555-Q"},
            {},
            "qbo",
        ),
        (
            {"phone": "555-C"},
            4,
            {"PrimaryPhone.FreeFormNumber": "555-Q"},
            4,
            {"phone": "555-Q"},
            {},
            "qbo",
        ),
        (
            {"phone": None},
            5,
            {"PrimaryPhone.FreeFormNumber": "555-Q"},
            3,
            {},
            {"PrimaryPhone.FreeFormNumber": None},
            "crm",
        ),
        (
            {"phone": "555-C"},
            3,
            {"PrimaryPhone.FreeFormNumber": None},
            5,
            {"phone": None},
            {},
            "qbo",
        ),
    ],
    ids=[
        "crm-later-wins",
        "qbo-later-wins",
        "tie-goes-to-qbo",
        "a-later-clear-wins-too",
        "a-later-qbo-clear-wins",
    ],
)
def test_a_field_changed_on_both_sides_goes_to_the_later_change_and_records_the_loser(
    crm_change, crm_minute, qbo_change, qbo_minute, to_crm, to_qbo, kept
):
    result = reconcile(crm_change, crm_minute, qbo_change, qbo_minute)
    assert result.crm_updates == to_crm
    assert result.qbo_updates == to_qbo
    (conflict,) = result.conflicts
    assert conflict == Conflict(
        rule="concurrent_change",
        pair=PHONE,
        crm_value=crm_change["phone"],
        qbo_value=qbo_change["PrimaryPhone.FreeFormNumber"],
        kept=kept,
        crm_changed_at=at(crm_minute),
        qbo_changed_at=at(qbo_minute),
    )
    assert conflict.lost_value == (conflict.qbo_value if kept == "crm" else conflict.crm_value)


@pytest.mark.parametrize(
    ("crm_change", "qbo_change", "to_crm", "to_qbo"),
    [
        ({"phone": "555-C"}, {}, {}, {"PrimaryPhone.FreeFormNumber": "555-C"}),
        ({}, {"PrimaryPhone.FreeFormNumber": "555-Q"}, {"phone": "555-Q"}, {}),
        (
            {"phone": "555-C"},
            {"BillAddr.City": "Bergen"},
            {"work_city": "Bergen"},
            {"PrimaryPhone.FreeFormNumber": "555-C"},
        ),
        ({"phone": "555-N"}, {"PrimaryPhone.FreeFormNumber": " 555-N "}, {}, {}),
        ({}, {}, {}, {}),
        (
            {"first_name": "Jane", "full_name": "Jane Smith"},
            {},
            {},
            {"GivenName": "Jane", "DisplayName": "Jane Smith"},
        ),
        ({}, {"GivenName": "Jane", "DisplayName": "Jane Smith"}, {"first_name": "Jane"}, {}),
    ],
    ids=[
        "crm-only-change-goes-to-qbo",
        "qbo-only-change-goes-to-crm",
        "different-fields-both-survive",
        "same-new-value-on-both-sides-no-conflict",
        "nothing-changed-nothing-written",
        "crm-rename-goes-to-qbo",
        "qbo-rename-goes-to-crm-names",
    ],
)
def test_changes_on_one_side_only_reach_the_other_side_without_conflict(
    crm_change, qbo_change, to_crm, to_qbo
):
    # a QBO change arriving later must not revert a CRM-only change of another field
    result = reconcile(crm_change, 1, qbo_change, 9)
    assert (result.crm_updates, result.qbo_updates, result.conflicts) == (to_crm, to_qbo, ())


def test_a_display_name_emptied_in_the_crm_and_winning_is_not_sent_to_qbo():
    result = reconcile(
        {"full_name": None, "first_name": None, "last_name": None}, 9, {"DisplayName": "Johnny"}, 1
    )
    assert "DisplayName" not in result.qbo_updates
    assert any(c.pair.qbo == "DisplayName" and c.kept == "crm" for c in result.conflicts)


@pytest.mark.parametrize("settings", [QBO_TO_CRM, CRM_TO_QBO], ids=["qbo_to_crm", "crm_to_qbo"])
def test_concurrent_changes_are_reconciled_only_with_direction_both(settings):
    with pytest.raises(ValueError, match="both"):
        reconcile_concurrent_changes(SYNCED, person(), at(1), customer({}), at(2), settings)
