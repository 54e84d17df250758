"""SYNC-RULES 6, the pure parts: which customer an unlinked person is billed to (found by email,
the import's matching rule), the fields of a customer created for them, whether they are on the
deal, and what converting an estimate copies."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from engine.documents import (
    conversion_refusal,
    customer_fields_from_person,
    customer_for_person,
    estimate_lines,
    person_on_deal,
)
from schemas.crm import CrmDeal
from schemas.qbo import QboEstimate
from schemas.requests import DocumentLine
from schemas.settings import DEFAULT_FIELD_MAPPING, FieldPair
from tests.unit.engine.builders import T0, customer, person

EMAIL = "ann@example.com"


def with_email(customer_id: str, email: str | None, *, active: bool = True):
    values = {"PrimaryEmailAddr.Address": email} if email else {}
    return customer(values, customer_id=customer_id, active=active)


# --- find one by email -----------------------------------------------------------------------

FIND_CASES = [
    # (the person's email, the customers QBO returned, linked elsewhere, the one chosen)
    ("exact match", EMAIL, [with_email("5", EMAIL)], set(), "5"),
    ("case and spaces", "  Ann@Example.COM ", [with_email("5", "ann@example.com")], set(), "5"),
    ("a substring is no match", EMAIL, [with_email("5", "joann@example.com")], set(), None),
    ("lowest id, numerically", EMAIL, [with_email("10", EMAIL), with_email("9", EMAIL)], set(), "9"),
    ("linked elsewhere is skipped", EMAIL, [with_email("3", EMAIL), with_email("8", EMAIL)], {"3"}, "8"),
    ("all linked elsewhere: create", EMAIL, [with_email("3", EMAIL)], {"3"}, None),
    ("inactive is skipped", EMAIL, [with_email("3", EMAIL, active=False), with_email("8", EMAIL)], set(), "8"),
    ("no email finds none", None, [with_email("5", EMAIL)], set(), None),
    ("a blank email finds none", "  ", [with_email("5", None)], set(), None),
    ("none found: create", EMAIL, [], set(), None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("email", "candidates", "elsewhere", "chosen"),
    [case[1:] for case in FIND_CASES],
    ids=[case[0] for case in FIND_CASES],
)
def test_rule_6_an_unlinked_person_is_billed_to_a_customer_with_their_email(
    email, candidates, elsewhere, chosen
):
    found = customer_for_person(email, candidates, elsewhere)
    assert (found.Id if found else None) == chosen


# --- one of the deal's people ----------------------------------------------------------------


def deal(person_ids: list[int], primary: int | None = None) -> CrmDeal:
    return CrmDeal(id=3301, person_ids=person_ids, primary_contact_id=primary)


@pytest.mark.parametrize(
    ("the_deal", "on_it"),
    [
        (deal([4211, 7]), True),
        (deal([], primary=4211), True),  # the primary contact, whatever person_ids says
        (deal([7], primary=8), False),
        (deal([]), False),
    ],
)
def test_rule_6_a_document_is_for_one_of_the_deals_people(the_deal, on_it):
    reason = person_on_deal(the_deal, 4211)
    assert (reason is None) == on_it
    if not on_it:
        assert "person 4211" in reason and "deal 3301" in reason


# --- a customer created from the person ------------------------------------------------------


def test_rule_6_a_new_customer_holds_the_persons_mapped_values():
    ann = person(
        first_name="Ann",
        last_name="Berg",
        email=" ann@example.com ",
        phone="555-1234",
        work_city="Oslo",
        website="",
        position="CEO",  # not mapped: not copied
    )
    assert customer_fields_from_person(ann, DEFAULT_FIELD_MAPPING) == {
        "GivenName": "Ann",
        "FamilyName": "Berg",
        "DisplayName": "Ann Berg",  # full_name, derived from the names
        "PrimaryEmailAddr.Address": "ann@example.com",
        "PrimaryPhone.FreeFormNumber": "555-1234",
        "BillAddr.City": "Oslo",
    }


@pytest.mark.parametrize(
    ("fields", "mapping", "name"),
    [
        ({"first_name": "Ann", "last_name": "Berg"}, (), "Ann Berg"),  # not mapped: still named
        ({}, DEFAULT_FIELD_MAPPING, "CRM person 4211"),  # nothing to name it by
        ({"full_name": "Smith: Tools\tInc"}, DEFAULT_FIELD_MAPPING, "Smith Tools Inc"),
        ({"company_name": "Acme"}, (FieldPair(crm="company_name", qbo="DisplayName"),), "Acme"),
    ],
    ids=["unmapped name", "no name", "refused characters", "another field mapped to it"],
)
def test_rule_6_a_new_customer_always_has_a_display_name_qbo_accepts(fields, mapping, name):
    assert customer_fields_from_person(person(**fields), mapping)["DisplayName"] == name


# --- converting an estimate ------------------------------------------------------------------


def estimate(lines: list[dict[str, Any]], status: str = "Pending", **extra: Any) -> QboEstimate:
    return QboEstimate.model_validate(
        {
            "Id": "101",
            "SyncToken": "0",
            "MetaData": {"LastUpdatedTime": T0.isoformat()},
            "CustomerRef": {"value": "58"},
            "Line": lines,
            "TxnStatus": status,
            **extra,
        }
    )


def item_line(item: str, qty: Any, price: Any, amount: Any, description: str | None = None):
    detail: dict[str, Any] = {"ItemRef": {"value": item}}
    if qty is not None:
        detail["Qty"] = qty
    if price is not None:
        detail["UnitPrice"] = price
    line = {"DetailType": "SalesItemLineDetail", "Amount": amount, "SalesItemLineDetail": detail}
    return {**line, "Description": description} if description else line


SUBTOTAL = {"DetailType": "SubTotalLineDetail", "Amount": 1580, "SubTotalLineDetail": {}}
NOTE = {"DetailType": "DescriptionOnly", "Description": "Thank you"}


def test_rule_6_converting_copies_item_description_quantity_and_unit_price_not_subtotals():
    lines = [item_line("5", 10, 150, 1500, "On-site consulting"), NOTE, item_line("6", 2, 40, 80)]
    assert estimate_lines(estimate([*lines, SUBTOTAL])) == (
        DocumentLine(item_id="5", description="On-site consulting", quantity=10, unit_price=150),
        DocumentLine(item_id="6", quantity=2, unit_price=40),
    )


def test_a_line_without_quantity_is_one_and_without_price_is_its_amount_per_unit():
    lines = estimate([item_line("5", None, 75, 75), item_line("6", 4, None, 100)])
    assert [(line.quantity, line.unit_price) for line in estimate_lines(lines)] == [
        (Decimal(1), Decimal(75)),
        (Decimal(4), Decimal(25)),
    ]


INVOICED = {"LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]}
REFUSAL_CASES = [
    ("pending", estimate([item_line("5", 1, 10, 10)]), None),
    ("accepted", estimate([item_line("5", 1, 10, 10)], "Accepted"), None),
    ("closed with its invoice: converted before", estimate([item_line("5", 1, 10, 10)], "Closed", **INVOICED), None),
    ("rejected", estimate([item_line("5", 1, 10, 10)], "Rejected"), "estimate_rejected"),
    ("closed by hand", estimate([item_line("5", 1, 10, 10)], "Closed"), "estimate_closed"),
    ("no item line", estimate([NOTE]), "nothing_to_invoice"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("the_estimate", "code"),
    [case[1:] for case in REFUSAL_CASES],
    ids=[case[0] for case in REFUSAL_CASES],
)
def test_rule_6_which_estimates_can_be_converted(the_estimate, code):
    refusal = conversion_refusal(the_estimate)
    assert (refusal[0] if refusal else None) == code
    if refusal:
        assert "estimate 101" in refusal[1]
