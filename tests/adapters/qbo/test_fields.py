"""Dotted field paths ↔ QBO JSON, and how an update changes (and clears) only the given fields."""

from __future__ import annotations

import pytest

from adapters.qbo import fields
from schemas.qbo import QboCustomer

CURRENT = {
    "Id": "7",
    "SyncToken": "3",
    "domain": "QBO",
    "sparse": False,
    "MetaData": {"LastUpdatedTime": "2026-01-02T03:04:05-08:00"},
    "DisplayName": "Jane Doe",
    "CompanyName": "Doe Ltd",
    "PrimaryPhone": {"FreeFormNumber": "555-0100"},
    "BillAddr": {"Id": "12", "Line1": "1 Main St", "City": "Oslo"},
    "Active": True,
}
CUSTOMER = QboCustomer.model_validate(
    {**CURRENT, "PrimaryEmailAddr": {"Address": ""}, "Notes": "kept as an extra field"}
)


def test_dotted_paths_become_nested_objects():
    assert fields.nest({"PrimaryPhone.FreeFormNumber": "555", "GivenName": "J"}) == {
        "PrimaryPhone": {"FreeFormNumber": "555"},
        "GivenName": "J",
    }


def test_siblings_under_one_parent_share_the_nested_object():
    nested = fields.nest({"BillAddr.City": "Oslo", "BillAddr.PostalCode": "0150"})
    assert nested == {"BillAddr": {"City": "Oslo", "PostalCode": "0150"}}


def test_an_update_changes_one_nested_field_and_keeps_its_siblings():
    body = fields.full_update_body(CURRENT, "3", {"BillAddr.City": "Bergen"})
    assert body is not None
    assert body["BillAddr"] == {"Id": "12", "Line1": "1 Main St", "City": "Bergen"}
    assert body["CompanyName"] == "Doe Ltd"  # untouched fields travel back unchanged


def test_the_update_carries_the_engines_sync_token_and_no_read_envelope():
    body = fields.full_update_body(CURRENT, "2", {"CompanyName": "New"})
    assert body is not None
    assert body["SyncToken"] == "2"
    assert {"MetaData", "domain", "sparse"}.isdisjoint(body)


def test_a_null_clears_by_leaving_the_field_out_of_the_full_update():
    body = fields.full_update_body(
        CURRENT, "3", {"PrimaryPhone.FreeFormNumber": None, "CompanyName": None}
    )
    assert body is not None
    assert "PrimaryPhone" not in body  # the emptied object goes too: QBO stores no {}
    assert "CompanyName" not in body


def test_clearing_one_address_line_keeps_the_rest_of_the_address():
    body = fields.full_update_body(CURRENT, "3", {"BillAddr.Line1": None})
    assert body is not None
    assert body["BillAddr"] == {"Id": "12", "City": "Oslo"}


def test_a_null_display_name_is_ignored_so_the_old_name_stays():
    body = fields.full_update_body(CURRENT, "3", {"DisplayName": None, "CompanyName": "Acme"})
    assert body is not None
    assert body["DisplayName"] == "Jane Doe"


def test_an_update_that_changes_nothing_is_not_sent():
    assert fields.full_update_body(CURRENT, "3", {"DisplayName": None}) is None
    assert fields.full_update_body(CURRENT, "3", {"CompanyName": "Doe Ltd"}) is None
    assert fields.full_update_body(CURRENT, "3", {"Notes": None}) is None


def test_create_leaves_nulls_out():
    assert fields.create_body({"DisplayName": "Jo", "PrimaryPhone.FreeFormNumber": None}) == {
        "DisplayName": "Jo"
    }


def test_boolean_fields_are_sent_as_json_booleans():
    assert fields.create_body({"Active": "false", "Taxable": "TRUE"}) == {
        "Active": False,
        "Taxable": True,
    }
    with pytest.raises(ValueError, match="Active takes true or false"):
        fields.create_body({"Active": "maybe"})


@pytest.mark.parametrize(
    "bad", [{"PrimaryPhone": "x", "PrimaryPhone.FreeFormNumber": "y"}, {"A..B": "x"}, {"1A": "x"}]
)
def test_conflicting_or_malformed_paths_are_refused(bad):
    with pytest.raises(ValueError):
        fields.nest(bad)
    with pytest.raises(ValueError):
        fields.apply_fields(CURRENT, bad)


def test_reading_a_dotted_path_from_a_typed_entity():
    assert fields.read_path(CUSTOMER, "PrimaryPhone.FreeFormNumber") == "555-0100"
    assert fields.read_path(CUSTOMER, "DisplayName") == "Jane Doe"
    assert fields.read_path(CUSTOMER, "Notes") == "kept as an extra field"
    assert fields.read_path(CUSTOMER, "Active") == "true"


def test_absent_null_and_empty_values_all_read_as_none():
    assert fields.read_path(CUSTOMER, "Mobile.FreeFormNumber") is None
    assert fields.read_path(CUSTOMER, "BillAddr.PostalCode") is None
    assert fields.read_path(CUSTOMER, "PrimaryEmailAddr.Address") is None
    assert fields.read_path({"A": {"B": ""}}, "A.B") is None


def test_reading_an_object_path_is_an_error_not_a_stringified_dict():
    with pytest.raises(ValueError, match="not a leaf"):
        fields.read_path(CUSTOMER, "PrimaryPhone")
