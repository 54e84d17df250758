"""Request shapes and exact matching that need no server: field bodies with clears, bracket
conditions, and the equality check on top of the CRM's substring filters."""

from __future__ import annotations

import pytest

from adapters.crm import matching, payloads
from schemas.crm import CrmCompany, CrmPerson


def test_an_update_sends_only_the_given_fields_and_null_clears():
    attrs = payloads.record_attributes({"phone": "555-0100", "website": None}, for_create=False)
    assert payloads.record_body("person", attrs) == {
        "person": {"phone": "555-0100", "website": None}
    }


def test_custom_fields_are_nested_and_can_be_cleared_too():
    attrs = payloads.record_attributes(
        {"custom_fields.custom_label_3": "Gold", "custom_fields.custom_label_4": None},
        for_create=False,
    )
    assert attrs == {"custom_fields": {"custom_label_3": "Gold", "custom_label_4": None}}


def test_a_create_leaves_out_fields_that_would_be_cleared():
    attrs = payloads.record_attributes(
        {"email": "a@x.com", "phone": None, "custom_fields.custom_label_1": None}, for_create=True
    )
    assert attrs == {"email": "a@x.com"}


@pytest.mark.parametrize("name", ["Phone", "custom_fields", "custom_fields.", "a.b", "x y", ""])
def test_a_field_name_the_crm_cannot_have_is_refused_before_sending(name):
    with pytest.raises(ValueError, match="not a CRM field name"):
        payloads.record_attributes({name: "v"}, for_create=False)


def test_conditions_use_rails_brackets_for_scalars_lists_and_ranges():
    params = payloads.condition_params(
        {
            "person_email": "ann@x.com",
            "deal_stage": [2, 3],
            "person_modified": {"from_date": "2024-05-31 10:14:59"},
            "person_owner": 7,
        }
    )
    assert params == [
        ("conditions[person_email]", "ann@x.com"),
        ("conditions[deal_stage][]", "2"),
        ("conditions[deal_stage][]", "3"),
        ("conditions[person_modified][from_date]", "2024-05-31 10:14:59"),
        ("conditions[person_owner]", "7"),
    ]
    assert payloads.condition_params(None) == []


def person(id_: int, email: str | None) -> CrmPerson:
    return CrmPerson(id=id_, email=email)


def test_a_substring_hit_is_not_an_email_match():
    hits = [person(1, "joann@x.com"), person(2, "ann@x.com.au"), person(3, "ann@x.com")]
    assert [p.id for p in matching.people_with_email(hits, "ann@x.com")] == [3]


def test_email_equality_ignores_case_and_surrounding_spaces_and_lists_oldest_first():
    hits = [person(9, " Ann@X.com "), person(4, "ANN@x.COM"), person(5, None)]
    assert [p.id for p in matching.people_with_email(hits, "  ann@x.com")] == [4, 9]


def test_only_the_primary_email_counts():
    other = CrmPerson(id=1, email="someone@x.com", email2="ann@x.com")
    assert matching.people_with_email([other], "ann@x.com") == []


def test_blank_never_matches_blank():
    assert matching.people_with_email([person(1, ""), person(2, None)], " ") == []
    assert not matching.same_text("", "")


def test_company_names_match_exactly_ignoring_case_and_outer_spaces():
    companies = [
        CrmCompany(id=5, name="Acme Inc"),
        CrmCompany(id=2, name="acme inc "),
        CrmCompany(id=1, name="Acme Incorporated"),
    ]
    assert [c.id for c in matching.companies_named(companies, "ACME INC")] == [2, 5]
