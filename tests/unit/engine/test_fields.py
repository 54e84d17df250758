"""Reading and comparing mapped values (SYNC-RULES 3): dotted paths, empties, trimming, case."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.fields import (
    crm_to_qbo_applies,
    crm_value,
    crm_values,
    match_key,
    normalise,
    qbo_to_crm_applies,
    qbo_value,
    same_value,
    without_qbo_clears_it_refuses,
)
from schemas.settings import DEFAULT_FIELD_MAPPING, FieldPair
from tests.unit.engine.builders import customer, person

PHONE = FieldPair(crm="phone", qbo="PrimaryPhone.FreeFormNumber")
EMAIL = FieldPair(crm="email", qbo="PrimaryEmailAddr.Address")
NAME = FieldPair(crm="full_name", qbo="DisplayName")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("   \t\n", None),
        ("  555-1234 ", "555-1234"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (Decimal("1.50"), "1.50"),
        (["b", "a"], '["b", "a"]'),
        ({"b": 1, "a": 2}, '{"a": 2, "b": 1}'),
    ],
)
def test_every_kind_of_empty_reads_as_none_and_text_is_trimmed(raw, expected):
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    ("record", "path", "expected"),
    [
        (person(phone=" 555-1234 "), "phone", "555-1234"),
        (person(phone="  "), "phone", None),
        (
            person(custom_fields={"custom_label_12": "gold"}),
            "custom_fields.custom_label_12",
            "gold",
        ),
        (person(custom_fields={}), "custom_fields.custom_label_12", None),
        (person(position="Owner"), "position", "Owner"),  # an unknown key the snapshot kept
        (person(home_email=None), "home_email", None),
        ({"id": 1, "phone": "555"}, "phone", "555"),
        ({"id": 1, "custom_fields": {"x": 7}}, "custom_fields.x", "7"),
        (person(full_name="Ann Lee"), "full_name", "Ann Lee"),
        ({"id": 1, "first_name": "Ann", "last_name": "Lee"}, "full_name", "Ann Lee"),
    ],
)
def test_a_mapped_crm_value_is_read_from_a_person_by_field_or_custom_field(record, path, expected):
    assert crm_value(record, path) == expected


@pytest.mark.parametrize(
    ("record", "path", "expected"),
    [
        (customer({"PrimaryPhone.FreeFormNumber": "555"}), "PrimaryPhone.FreeFormNumber", "555"),
        (customer({}), "PrimaryPhone.FreeFormNumber", None),
        (customer({"BillAddr.City": " Portland "}), "BillAddr.City", "Portland"),
        (customer({"BillAddr.City": "Portland"}), "BillAddr.Line1", None),
        (customer({"ShipAddr.City": "Bergen"}), "ShipAddr.City", "Bergen"),  # kept as extra
        (customer({"DisplayName": "Jane"}), "DisplayName", "Jane"),
        ({"WebAddr": {"URI": "https://x"}}, "WebAddr.URI", "https://x"),
        ({"WebAddr": None}, "WebAddr.URI", None),
        ({"Notes": "  "}, "Notes", None),
    ],
)
def test_a_mapped_qbo_value_is_read_by_dotted_path(record, path, expected):
    assert qbo_value(record, path) == expected


@pytest.mark.parametrize(
    ("pair", "left", "right", "same"),
    [
        (PHONE, "555-1234", " 555-1234  ", True),
        (PHONE, "555-1234", "555 1234", False),
        (PHONE, None, "", True),
        (PHONE, None, "  ", True),
        (PHONE, None, "555", False),
        (NAME, "Jane Smith", "jane smith", False),
        (EMAIL, "John@Example.com", " john@example.COM ", True),
        (EMAIL, "john@example.com", "jo@example.com", False),
        (EMAIL, None, "john@example.com", False),
    ],
)
def test_values_compare_exactly_after_trimming_and_emails_ignore_case(pair, left, right, same):
    assert same_value(pair, left, right) is same


def test_mapped_values_of_a_person_cover_every_pair_and_nothing_else():
    values = crm_values(person(phone="555", position="Owner"), DEFAULT_FIELD_MAPPING)
    assert set(values) == {pair.crm for pair in DEFAULT_FIELD_MAPPING}
    assert values["phone"] == "555"
    assert values["mobile"] is None


def test_emails_match_on_the_trimmed_case_folded_address():
    assert match_key("  John.Smith@Example.COM ") == "john.smith@example.com"
    assert match_key("   ") is None


def test_an_emptied_display_name_is_dropped_from_a_qbo_update_but_other_clears_stay():
    fields = {"DisplayName": None, "PrintOnCheckName": None, "PrimaryPhone.FreeFormNumber": None}
    assert without_qbo_clears_it_refuses(fields) == {"PrimaryPhone.FreeFormNumber": None}
    assert without_qbo_clears_it_refuses({"DisplayName": "Jane"}) == {"DisplayName": "Jane"}


@pytest.mark.parametrize(
    ("direction", "qbo_to_crm", "crm_to_qbo"),
    [("both", True, True), ("qbo_to_crm", True, False), ("crm_to_qbo", False, True)],
)
def test_each_direction_lets_changes_flow_only_its_way(direction, qbo_to_crm, crm_to_qbo):
    assert qbo_to_crm_applies(direction) is qbo_to_crm
    assert crm_to_qbo_applies(direction) is crm_to_qbo
