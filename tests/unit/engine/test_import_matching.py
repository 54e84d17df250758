"""The import plan (SYNC-RULES 4.1-4.4, 4.7): exact email matching, skips, ambiguity, re-runs."""

from __future__ import annotations

import pytest

from engine.companies import CompanyChoice
from engine.import_plan import AmbiguousMatch, ExistingLink, PlannedLink, SkippedCustomer
from engine.matching import plan_import
from tests.unit.engine.builders import QBO_TO_CRM, company, customer, person


def qbo(customer_id: str, email: str | None, name: str = "", **values: object):
    fields = {"PrimaryEmailAddr.Address": email, "DisplayName": name or f"Customer {customer_id}"}
    return customer({**fields, **values}, customer_id=customer_id)


def plan(customers, people=(), companies=(), links=None):
    return plan_import(customers, people, companies, links or {}, QBO_TO_CRM)


@pytest.mark.parametrize(
    ("customer_email", "person_email", "linked"),
    [
        ("john@x.com", "john@x.com", True),
        ("  John@X.COM ", "john@x.com", True),
        ("john@x.com", " JOHN@x.com", True),
        ("ann@x.com", "joann@x.com", False),
        ("joann@x.com", "ann@x.com", False),
        ("john@x.com", "john@x.co", False),
    ],
    ids=[
        "equal",
        "trimmed-and-case-insensitive",
        "person-side-trimmed",
        "substring-never-matches",
        "superstring-never-matches",
        "prefix-never-matches",
    ],
)
def test_emails_match_trimmed_case_insensitive_and_exactly(customer_email, person_email, linked):
    result = plan([qbo("58", customer_email)], [person(4211, email=person_email)])
    assert bool(result.links) is linked
    assert bool(result.creates) is not linked


def test_a_customer_without_an_email_is_skipped_with_that_reason():
    result = plan([qbo("58", None, "No Mail Ltd"), qbo("59", "   ", "Blank Mail")])
    assert result.skipped == (
        SkippedCustomer(customer_id="58", display_name="No Mail Ltd", reason="no_email"),
        SkippedCustomer(customer_id="59", display_name="Blank Mail", reason="no_email"),
    )
    assert result.links == result.creates == ()


def test_an_inactive_customer_is_not_imported_and_is_accounted_for():
    inactive = customer({"PrimaryEmailAddr.Address": "a@x.com", "DisplayName": "Old"}, active=False)
    result = plan([inactive], [person(1, email="a@x.com")])
    assert result.skipped == (
        SkippedCustomer(customer_id="58", display_name="Old", reason="inactive"),
    )
    assert result.links == ()


def test_a_matching_person_is_linked_and_an_unmatched_customer_creates_a_person():
    result = plan(
        [qbo("58", "john@x.com"), qbo("59", "new@x.com", GivenName="Ann")],
        [person(4211, email="john@x.com")],
    )
    assert result.links == (PlannedLink(customer_id="58", person_id=4211, email="john@x.com"),)
    (created,) = result.creates
    assert (created.customer_id, created.email) == ("59", "new@x.com")
    assert created.fields == {"first_name": "Ann", "email": "new@x.com"}


def test_several_crm_people_with_the_email_link_the_lowest_id_and_list_the_rest():
    people = [
        person(4300, email="john@x.com"),
        person(4211, email="JOHN@x.com"),
        person(4250, email="john@x.com"),
    ]
    result = plan([qbo("58", "john@x.com")], people)
    assert result.links == (PlannedLink(customer_id="58", person_id=4211, email="john@x.com"),)
    assert [(a.reason, a.passed_over_person_id, a.linked_person_id) for a in result.ambiguous] == [
        ("several_crm_people", 4250, 4211),
        ("several_crm_people", 4300, 4211),
    ]


def test_several_qbo_customers_with_one_email_link_the_lowest_numeric_id_and_list_the_others():
    customers = [qbo("100", "john@x.com"), qbo("9", "John@x.com"), qbo("58", "john@x.com")]
    result = plan(customers, [person(4211, email="john@x.com")])
    assert result.links == (PlannedLink(customer_id="9", person_id=4211, email="John@x.com"),)
    assert result.ambiguous == (
        AmbiguousMatch(
            reason="several_qbo_customers",
            email="John@x.com",
            passed_over_customer_id="58",
            linked_customer_id="9",
            linked_person_id=4211,
        ),
        AmbiguousMatch(
            reason="several_qbo_customers",
            email="John@x.com",
            passed_over_customer_id="100",
            linked_customer_id="9",
            linked_person_id=4211,
        ),
    )


def test_several_qbo_customers_with_a_new_email_create_one_person_only():
    result = plan([qbo("61", "new@x.com"), qbo("60", "new@x.com")])
    assert [c.customer_id for c in result.creates] == ["60"]
    (ambiguous,) = result.ambiguous
    assert (ambiguous.passed_over_customer_id, ambiguous.linked_person_id) == ("61", None)


def test_re_running_the_import_keeps_existing_links_and_duplicates_nothing():
    customers = [qbo("58", "john@x.com"), qbo("59", "new@x.com")]
    people = [person(4211, email="john@x.com")]
    first = plan(customers, people)
    links = {link.customer_id: link.person_id for link in first.links} | {"59": 5000}
    again = plan(customers, [*people, person(5000, email="new@x.com")], links=links)
    assert again.links == again.creates == again.ambiguous == ()
    assert again.already_linked == (
        ExistingLink(customer_id="58", person_id=4211),
        ExistingLink(customer_id="59", person_id=5000),
    )


def test_a_linked_customer_stays_linked_even_without_an_email():
    result = plan([qbo("58", None)], links={"58": 4211})
    assert result.already_linked == (ExistingLink(customer_id="58", person_id=4211),)
    assert result.skipped == ()


def test_a_new_customer_whose_person_is_linked_elsewhere_is_ambiguous_not_a_duplicate_person():
    result = plan(
        [qbo("58", "john@x.com"), qbo("70", "john@x.com")],
        [person(4211, email="john@x.com")],
        links={"58": 4211},
    )
    assert result.creates == result.links == ()
    assert result.ambiguous == (
        AmbiguousMatch(
            reason="person_linked_elsewhere",
            email="john@x.com",
            passed_over_customer_id="70",
            linked_customer_id="58",
            linked_person_id=4211,
        ),
    )


def test_a_person_linked_elsewhere_is_passed_over_for_a_free_one():
    people = [person(4211, email="john@x.com"), person(4300, email="john@x.com")]
    result = plan([qbo("70", "john@x.com")], people, links={"58": 4211})
    assert result.links == (PlannedLink(customer_id="70", person_id=4300, email="john@x.com"),)


def test_the_plan_attaches_linked_and_created_people_to_their_company():
    customers = [
        qbo("58", "john@x.com", CompanyName="smith tools"),
        qbo("59", "ann@x.com", CompanyName="Acme"),
        qbo("60", "bob@x.com", CompanyName="ACME "),
        qbo("61", None, CompanyName="Skipped Inc"),
    ]
    result = plan(customers, [person(4211, email="john@x.com")], [company(88, "Smith Tools")])
    assert result.companies == {
        "58": CompanyChoice(name="smith tools", company_id=88),
        "59": CompanyChoice(name="Acme"),
        "60": CompanyChoice(name="Acme"),
    }
    assert result.companies_to_create == ("Acme",)


def test_the_plan_is_the_same_whatever_order_the_inputs_come_in():
    customers = [qbo("58", "a@x.com"), qbo("9", "a@x.com"), qbo("7", None), qbo("12", "b@x.com")]
    people = [person(3, email="a@x.com"), person(2, email="a@x.com")]
    assert plan(customers, people) == plan(customers[::-1], people[::-1])


def test_a_person_found_twice_is_one_candidate_not_an_ambiguity():
    john = person(4211, email="john@x.com")
    result = plan([qbo("58", "john@x.com")], [john, john])
    assert result.ambiguous == ()
