"""A CRM person's names as the CRM stores them (full_name is derived from first and last name)."""

from __future__ import annotations

import pytest

from engine.crm_names import crm_values_after_write, shape_crm_name_updates, split_full_name

ALL_NAMES = {"first_name", "last_name", "full_name", "phone"}
FULL_NAME_ONLY = {"full_name", "phone"}
JOHN = {"first_name": "John", "last_name": "Smith", "full_name": "John Smith"}


@pytest.mark.parametrize(
    ("updates", "current", "mapped", "expected"),
    [
        # full_name follows the names: never written next to them
        (
            {"first_name": "Jane", "full_name": "Jane Smith"},
            JOHN,
            ALL_NAMES,
            {"first_name": "Jane"},
        ),
        # a DisplayName unlike the names would re-split them: not written
        ({"full_name": "Smith Tools Inc"}, JOHN, ALL_NAMES, {}),
        # with no name mapped, full_name is the name and is written
        ({"full_name": "Jane Smith"}, JOHN, FULL_NAME_ONLY, {"full_name": "Jane Smith"}),
        # full_name is never cleared
        ({"full_name": None, "phone": None}, JOHN, FULL_NAME_ONLY, {"phone": None}),
        # clearing both names would leave a nameless person: DisplayName is written instead
        (
            {"first_name": None, "last_name": None, "full_name": "Acme Corp"},
            JOHN,
            ALL_NAMES,
            {"full_name": "Acme Corp"},
        ),
        # ... and without a DisplayName the names simply stay
        ({"first_name": None, "last_name": None}, JOHN, ALL_NAMES, {}),
        # clearing one name is fine while the other remains
        ({"first_name": None}, JOHN, ALL_NAMES, {"first_name": None}),
        # a new person from a customer with only a DisplayName
        (
            {"full_name": "Acme Corp", "phone": "555"},
            {},
            ALL_NAMES,
            {"full_name": "Acme Corp", "phone": "555"},
        ),
    ],
    ids=[
        "full-name-follows-names",
        "display-name-unlike-names-not-written",
        "names-unmapped-full-name-written",
        "full-name-never-cleared",
        "nameless-writes-display-name",
        "nameless-keeps-names",
        "one-name-may-clear",
        "new-person-display-name-only",
    ],
)
def test_crm_name_updates_keep_the_person_named_consistently(updates, current, mapped, expected):
    assert shape_crm_name_updates(updates, current, mapped) == expected


@pytest.mark.parametrize(
    ("full_name", "expected"),
    [("Anna Van der Berg", ("Anna", "Van der Berg")), ("Cher", ("Cher", None)), ("", (None, None))],
)
def test_a_written_full_name_splits_at_its_first_space_as_the_crm_does(full_name, expected):
    assert split_full_name(full_name) == expected


@pytest.mark.parametrize(
    ("written", "mapped", "expected_names"),
    [
        ({"first_name": "Jane"}, ALL_NAMES, ("Jane", "Smith", "Jane Smith")),
        ({"full_name": "Acme Corp"}, ALL_NAMES, ("Acme", "Corp", "Acme Corp")),
        ({"full_name": "Jane Doe"}, FULL_NAME_ONLY, ("John", "Smith", "Jane Doe")),
    ],
)
def test_after_a_write_the_crm_derives_full_name_from_the_names(written, mapped, expected_names):
    after = crm_values_after_write(JOHN, written, mapped)
    assert (after["first_name"], after["last_name"], after["full_name"]) == expected_names
