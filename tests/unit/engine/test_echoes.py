"""Echoes (SYNC-RULES 5): a change that only reflects the engine's own write is recognised.

An echo is the version our write produced, or a later version whose mapped values all equal
what the write left; a real user change riding along (a mapped field differs) is not an echo.
"""

from __future__ import annotations

import pytest

from engine.echo import is_crm_echo, is_echo, is_qbo_echo, remember_crm_write, remember_qbo_write
from tests.unit.engine.builders import BOTH, JOHN_IN_CRM, JOHN_IN_QBO, at, customer, person

PHONE = "PrimaryPhone.FreeFormNumber"
# We wrote the CRM's new phone to QBO; QBO answered with SyncToken 4.
QBO_WRITE = remember_qbo_write(JOHN_IN_QBO, {PHONE: "555-1234"}, BOTH, sync_token="4")


JOHN_AS_WRITTEN = {
    "DisplayName": "John Smith",
    "GivenName": "John",
    "FamilyName": "Smith",
    "PrimaryEmailAddr.Address": "john.smith@example.com",
    PHONE: "555-1234",
}


def qbo_echo_candidate(sync_token: str, changes: dict[str, str] | None = None):
    return customer({**JOHN_AS_WRITTEN, **(changes or {})}, sync_token=sync_token)


@pytest.mark.parametrize(
    ("incoming", "echo"),
    [
        (qbo_echo_candidate("4"), True),
        (qbo_echo_candidate("4", {PHONE: "(555) 1234"}), True),
        (qbo_echo_candidate("5"), True),
        (qbo_echo_candidate("5", {"Notes": "unmapped edit"}), True),
        (qbo_echo_candidate("5", {PHONE: " 555-1234 "}), True),
        (qbo_echo_candidate("5", {"GivenName": "Jane"}), False),
        (qbo_echo_candidate("5", {PHONE: "555-9999"}), False),
        (qbo_echo_candidate("3"), False),
    ],
    ids=[
        "same-sync-token",
        "same-sync-token-even-if-qbo-reformatted",
        "later-token-values-as-written",
        "later-token-only-unmapped-change",
        "later-token-values-equal-after-trim",
        "later-token-user-renamed-alongside",
        "later-token-user-changed-our-field",
        "older-token-is-never-our-echo",
    ],
)
def test_a_qbo_change_is_an_echo_only_when_it_reflects_our_write(incoming, echo):
    assert is_qbo_echo(QBO_WRITE, incoming, BOTH) is echo


def test_while_the_qbo_version_is_unknown_the_values_decide():
    pending = remember_qbo_write(JOHN_IN_QBO, {PHONE: "555-1234"}, BOTH)
    assert is_qbo_echo(pending, qbo_echo_candidate("4"), BOTH)
    assert not is_qbo_echo(pending, qbo_echo_candidate("4", {"GivenName": "Jane"}), BOTH)


def test_a_remembered_qbo_write_never_expects_an_emptied_display_name():
    write = remember_qbo_write(JOHN_IN_QBO, {"DisplayName": None}, BOTH, sync_token="4")
    assert write.written == {}
    assert write.expected["DisplayName"] == "John Smith"


# We wrote QBO's rename (first_name Jane) and a cleared phone to the CRM at minute 10.
CRM_BEFORE = person(first_name="John", last_name="Smith", full_name="John Smith", phone="555-0")
CRM_WRITE = remember_crm_write(CRM_BEFORE, {"first_name": "Jane", "phone": None}, BOTH, at(10))
AS_WRITTEN = {"first_name": "Jane", "last_name": "Smith", "full_name": "Jane Smith", "phone": None}


@pytest.mark.parametrize(
    ("incoming", "echo"),
    [
        (person(**AS_WRITTEN, updated_at=at(10)), True),
        (person(**AS_WRITTEN, updated_at=at(11)), True),
        (person(**AS_WRITTEN, position="CEO", updated_at=at(11)), True),
        (person(**{**AS_WRITTEN, "phone": "555-7"}, updated_at=at(10)), False),
        (person(**{**AS_WRITTEN, "phone": "555-7"}, updated_at=at(11)), False),
        (
            person(
                **{**AS_WRITTEN, "last_name": "Doe", "full_name": "Jane Doe"}, updated_at=at(12)
            ),
            False,
        ),
        (person(**AS_WRITTEN, updated_at=at(9)), False),
        (person(**AS_WRITTEN), False),
    ],
    ids=[
        "same-updated-at-values-as-written",
        "later-updated-at-values-as-written",
        "later-only-unmapped-change",
        "same-second-user-change-rides-along",
        "later-user-change-rides-along",
        "later-user-renamed",
        "older-updated-at-is-never-our-echo",
        "no-updated-at-is-not-proof",
    ],
)
def test_a_crm_change_is_an_echo_only_when_it_reflects_our_write(incoming, echo):
    assert is_crm_echo(CRM_WRITE, incoming, BOTH) is echo


def test_the_crm_echo_of_a_first_name_write_expects_the_derived_full_name():
    assert CRM_WRITE.expected["full_name"] == "Jane Smith"


def test_a_write_to_one_side_never_makes_a_change_of_the_other_side_an_echo():
    crm_incoming = JOHN_IN_CRM.model_copy(update={"updated_at": at(30)})
    assert not is_crm_echo(QBO_WRITE, crm_incoming, BOTH)
    assert not is_qbo_echo(CRM_WRITE, qbo_echo_candidate("9"), BOTH)


def test_echo_versions_of_different_systems_cannot_be_compared():
    with pytest.raises(TypeError):
        is_echo(QBO_WRITE, at(1), {}, BOTH)
