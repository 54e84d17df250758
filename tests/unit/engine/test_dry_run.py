"""The import's dry run (SYNC-RULES 4.9): what would be linked, created, skipped, in conflict,
and which CRM fields a later QBO update would clear."""

from __future__ import annotations

import pytest

from engine.dry_run import dry_run_report
from engine.matching import plan_import
from engine.merge import merge_first_import
from tests.unit.engine.builders import (
    BOTH,
    JOHN_IN_CRM,
    JOHN_IN_QBO,
    JOHNS_CRM_ONLY_DATA,
    QBO_TO_CRM,
    company,
    customer,
    person,
)

CUSTOMERS = [
    JOHN_IN_QBO.model_copy(update={"CompanyName": "Smith Tools"}),
    customer(
        {"PrimaryEmailAddr.Address": "ann@x.com", "GivenName": "Ann", "CompanyName": "Acme"},
        customer_id="59",
    ),
    customer({"DisplayName": "No Mail"}, customer_id="60"),
    customer({"PrimaryEmailAddr.Address": "john.smith@example.com"}, customer_id="61"),
]


def report(settings, crm=JOHN_IN_CRM):
    plan = plan_import(CUSTOMERS, [crm], [company(88, "Smith Tools")], {}, settings)
    merges = {"58": merge_first_import(crm, CUSTOMERS[0], settings)}
    return dry_run_report(plan, merges)


def test_the_dry_run_lists_links_creates_skips_ambiguities_and_companies():
    result = report(QBO_TO_CRM)
    assert [(link.customer_id, link.person_id) for link in result.would_link] == [("58", 4211)]
    assert [p.customer_id for p in result.would_create_people] == ["59"]
    assert result.would_create_companies == ("Acme",)
    assert [(s.customer_id, s.reason) for s in result.would_skip] == [("60", "no_email")]
    assert [(a.passed_over_customer_id, a.reason) for a in result.ambiguous] == [
        ("61", "several_qbo_customers")
    ]


def test_the_dry_run_lists_which_crm_fields_a_later_qbo_update_would_clear():
    clears = report(QBO_TO_CRM).later_qbo_update_would_clear
    assert {(c.person_id, c.cleared.pair.crm, c.cleared.old_value) for c in clears} == {
        (4211, field, value) for field, value in JOHNS_CRM_ONLY_DATA.items()
    }
    assert report(BOTH).later_qbo_update_would_clear == ()


def test_the_dry_run_lists_first_import_conflicts_with_both_values():
    crm = JOHN_IN_CRM.model_copy(update={"last_name": "Smyth", "full_name": "John Smyth"})
    conflicts = report(QBO_TO_CRM, crm).conflicts
    assert {
        (c.conflict.pair.crm, c.conflict.crm_value, c.conflict.qbo_value) for c in conflicts
    } == {
        ("last_name", "Smyth", "Smith"),
        ("full_name", "John Smyth", "John Smith"),
    }
    assert all(c.conflict.kept == "crm" and c.person_id == 4211 for c in conflicts)


def test_the_dry_run_refuses_a_plan_whose_link_has_no_merge():
    plan = plan_import(
        CUSTOMERS[:1], [person(4211, email="john.smith@example.com")], [], {}, QBO_TO_CRM
    )
    with pytest.raises(ValueError, match="58"):
        dry_run_report(plan, {})
