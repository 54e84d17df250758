"""Companies (SYNC-RULES 4.4): a customer's CompanyName finds the CRM company of that name,
trimmed and case-insensitively, the lowest id when several; else it is created (once)."""

from __future__ import annotations

import pytest

from engine.companies import CompanyChoice, find_company, plan_companies
from tests.unit.engine.builders import company, customer

COMPANIES = [company(90, "ACME"), company(88, "Acme"), company(70, "Acme Tools"), company(60, None)]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Acme", CompanyChoice(name="Acme", company_id=88)),
        ("  acme ", CompanyChoice(name="acme", company_id=88)),
        ("Acme Tools", CompanyChoice(name="Acme Tools", company_id=70)),
        ("Acm", CompanyChoice(name="Acm")),
        ("Acme Tools Inc", CompanyChoice(name="Acme Tools Inc")),
        ("", None),
        ("   ", None),
        (None, None),
    ],
    ids=[
        "exact",
        "trimmed-case-insensitive-lowest-id",
        "other-company",
        "prefix-never-matches",
        "superstring-never-matches",
        "empty-no-company",
        "blank-no-company",
        "none-no-company",
    ],
)
def test_a_company_name_finds_the_lowest_id_crm_company_of_that_name_else_creates(name, expected):
    assert find_company(name, COMPANIES) == expected


def test_companies_given_as_plain_dicts_are_found_too():
    assert find_company("acme", [{"id": 5, "name": "Acme"}]) == CompanyChoice(
        name="acme", company_id=5
    )


def test_a_missing_company_is_created_once_in_the_spelling_of_the_lowest_customer_id():
    customers = [
        customer({"CompanyName": "NEW CO"}, customer_id="70"),
        customer({"CompanyName": "New Co"}, customer_id="8"),
        customer({"CompanyName": "Acme"}, customer_id="9"),
        customer({}, customer_id="10"),
    ]
    result = plan_companies(customers, COMPANIES)
    assert result.to_create == ("New Co",)
    assert result.by_customer == {
        "8": CompanyChoice(name="New Co"),
        "9": CompanyChoice(name="Acme", company_id=88),
        "70": CompanyChoice(name="New Co"),
    }
