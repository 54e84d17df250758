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


def test_an_update_sends_only_the_changed_leaves_nested():
    body = fields.sparse_update_body("58", "3", {"BillAddr.City": "Bergen"})
    assert body == {"Id": "58", "SyncToken": "3", "sparse": True, "BillAddr": {"City": "Bergen"}}


def test_the_update_carries_the_engines_sync_token():
    body = fields.sparse_update_body("58", "2", {"CompanyName": "New"})
    assert body is not None and body["SyncToken"] == "2" and body["sparse"] is True


def test_a_null_clears_by_sending_an_empty_string():
    body = fields.sparse_update_body(
        "58", "3", {"PrimaryPhone.FreeFormNumber": None, "CompanyName": None}
    )
    assert body is not None
    assert body["PrimaryPhone"] == {"FreeFormNumber": ""}
    assert body["CompanyName"] == ""


def test_a_null_display_name_is_left_out_so_the_old_name_stays():
    body = fields.sparse_update_body("58", "3", {"DisplayName": None, "CompanyName": "Acme"})
    assert body is not None
    assert "DisplayName" not in body and body["CompanyName"] == "Acme"


def test_an_update_that_could_only_clear_a_name_is_not_sent():
    assert fields.sparse_update_body("58", "3", {"DisplayName": None}) is None
    assert fields.sparse_update_body("58", "3", {}) is None


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
        fields.sparse_update_body("58", "3", bad)


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
