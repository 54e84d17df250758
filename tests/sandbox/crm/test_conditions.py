"""`conditions[...]` filters over Rails-style bracket parameters (reference 3.2)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import pytest

from sandbox.crm.params import ParameterTypeError, parse_nested
from tests.sandbox.crm.conftest import Crm


def ids(crm: Crm, collection: str, params: Any) -> list[int]:
    body = crm.ok(crm.api.get(f"/{collection}.json", params=params))
    return [row["id"] for row in body["entries"]]


def test_bracket_parameters_parse_into_hashes_and_lists() -> None:
    query = (
        "conditions[person_email]=a%40b.com&conditions[deal_stage][]=1&conditions[deal_stage][]=2"
        "&conditions[x][1]=b&conditions[x][0]=a&conditions[person_modified][from_date]=2026-01-01"
        "+10:00:00&page=2"
    )
    assert parse_nested(parse_qsl(query)) == {
        "conditions": {
            "person_email": "a@b.com",
            "deal_stage": ["1", "2"],
            "x": ["a", "b"],
            "person_modified": {"from_date": "2026-01-01 10:00:00"},
        },
        "page": "2",
    }
    with pytest.raises(ParameterTypeError):
        parse_nested([("a", "1"), ("a[b]", "2")])


def test_person_email_matches_a_case_insensitive_substring(crm: Crm) -> None:
    ann = crm.person(full_name="Ann Lee", email="Ann.Lee@Example.com")
    anna = crm.person(full_name="Anna Lee", email="ann.lee@example.co")
    crm.person(full_name="No Mail")
    assert ids(crm, "people", {"conditions[person_email]": "ann.lee@example.co"}) == [
        ann["id"],
        anna["id"],
    ]
    assert ids(crm, "people", {"conditions[person_email]": "ANN.LEE@EXAMPLE.COM"}) == [ann["id"]]
    assert ids(crm, "people", {"conditions[person_email]": "nobody@"}) == []


def test_person_full_name_and_person_name_match_substrings(crm: Crm) -> None:
    john = crm.person(full_name="John Smith")
    jon = crm.person(full_name="Jon Smithers")
    jane = crm.person(full_name="Jane Doe")
    assert ids(crm, "people", {"conditions[person_full_name]": "john smith"}) == [john["id"]]
    assert ids(crm, "people", {"conditions[person_full_name]": "smith"}) == [john["id"], jon["id"]]
    assert ids(crm, "people", {"conditions[person_name]": "doe"}) == [jane["id"]]
    assert ids(crm, "people", {"conditions[person_type]": "Lead"}) == []


def test_conditions_a_resource_does_not_know_are_ignored(crm: Crm) -> None:
    people = [
        crm.person(full_name="Al One", email="al@example.com"),
        crm.person(full_name="Bo Two"),
    ]
    assert ids(crm, "people", {"conditions[email]": "al@example.com"}) == [p["id"] for p in people]


def test_person_modified_date_bounds_cover_whole_days_in_the_account_time_zone(crm: Crm) -> None:
    # 03:30 UTC on 10 March is still 9 March in New York (EDT, -0400, since 8 March).
    crm.set_clock("2026-03-10T03:30:00+00:00")
    late_on_ninth = crm.person(full_name="Late Ninth")
    assert late_on_ninth["updated_at"] == "2026/03/09 23:30:00 -0400"
    crm.set_clock("2026-03-10T05:00:00+00:00")
    early_tenth = crm.person(full_name="Early Tenth")
    crm.set_clock("2026-03-12T15:00:00+00:00")
    later = crm.person(full_name="Later")

    def modified(**bounds: str) -> list[int]:
        return ids(
            crm, "people", {f"conditions[person_modified][{k}]": v for k, v in bounds.items()}
        )

    assert modified(to_date="2026-03-09") == [late_on_ninth["id"]]
    assert modified(from_date="2026-03-10") == [early_tenth["id"], later["id"]]
    assert modified(from_date="2026-03-10", to_date="2026-03-10") == [early_tenth["id"]]
    assert modified(from_date="2026/03/11") == [later["id"]]


def test_person_modified_from_date_accepts_a_local_date_and_time(crm: Crm) -> None:
    crm.set_clock("2026-07-01T16:00:00+00:00")  # 12:00:00 in New York
    noon = crm.person(full_name="At Noon")
    crm.set_clock("2026-07-01T16:00:05+00:00")
    after = crm.person(full_name="Five Seconds Later")
    key = "conditions[person_modified][from_date]"
    assert ids(crm, "people", {key: "2026-07-01 12:00:00"}) == [noon["id"], after["id"]]
    assert ids(crm, "people", {key: "2026-07-01 12:00:01"}) == [after["id"]]
    assert ids(crm, "people", {key: "2026-07-01T16:00:01Z"}) == [after["id"]]
    crm.set_clock("2026-07-02T16:00:00+00:00")
    crm.ok(crm.api.put(f"/people/{noon['id']}", json={"person": {"position": "Owner"}}))
    assert ids(crm, "people", {key: "2026-07-02 00:00:00"}) == [noon["id"]]


def test_person_created_filters_by_creation_not_update(crm: Crm) -> None:
    crm.set_clock("2026-02-01T12:00:00+00:00")
    old = crm.person(full_name="Old Timer")
    crm.set_clock("2026-02-05T12:00:00+00:00")
    new = crm.person(full_name="New Comer")
    crm.ok(crm.api.put(f"/people/{old['id']}", json={"person": {"position": "x"}}))
    assert ids(crm, "people", {"conditions[person_created][from_date]": "2026-02-03"}) == [
        new["id"]
    ]


def test_an_invalid_condition_date_is_422(crm: Crm) -> None:
    response = crm.api.get(
        "/people.json", params={"conditions[person_modified][from_date]": "soon"}
    )
    assert response.status_code == 422
    assert response.json()[0]["field"] == "conditions[person_modified][from_date]"


def test_company_name_is_a_substring_and_company_name_eq_the_whole_name(crm: Crm) -> None:
    plumbing = crm.company("Smith Plumbing")
    plumbing_llc = crm.company("Smith Plumbing LLC")
    crm.company("Jones Bakery")
    assert ids(crm, "companies", {"conditions[company_name]": "smith plumb"}) == [
        plumbing["id"],
        plumbing_llc["id"],
    ]
    assert ids(crm, "companies", {"conditions[company_name_eq]": "SMITH PLUMBING"}) == [
        plumbing["id"]
    ]


def test_company_modified_and_deal_modified_filter_by_update_time(crm: Crm) -> None:
    crm.set_clock("2026-04-01T12:00:00+00:00")
    company, deal = crm.company("Early Co"), crm.deal("Early deal")
    crm.set_clock("2026-04-03T12:00:00+00:00")
    later_company, later_deal = crm.company("Later Co"), crm.deal("Later deal")
    crm.ok(crm.api.put(f"/deals/{deal['id']}", json={"deal": {"summary": "touched"}}))
    key = "[from_date]"
    assert ids(crm, "companies", {f"conditions[company_modified]{key}": "2026-04-02"}) == [
        later_company["id"]
    ]
    assert ids(crm, "companies", {"conditions[company_modified][to_date]": "2026-04-02"}) == [
        company["id"]
    ]
    assert ids(crm, "deals", {f"conditions[deal_modified]{key}": "2026-04-02"}) == [
        deal["id"],
        later_deal["id"],
    ]


def test_deal_stage_accepts_bracket_and_indexed_lists(crm: Crm) -> None:
    qualified = crm.deal("Q", deal_stage_id=2599196)
    presented = crm.deal("P", deal_stage_id=2599198)
    crm.deal("W", deal_stage_id=2599200)
    brackets = [("conditions[deal_stage][]", "2599196"), ("conditions[deal_stage][]", "2599198")]
    assert ids(crm, "deals", brackets) == [qualified["id"], presented["id"]]
    indexed = {"conditions[deal_stage][0]": "2599198", "conditions[deal_stage][1]": "2599196"}
    assert ids(crm, "deals", indexed) == [qualified["id"], presented["id"]]
    assert ids(crm, "deals", {"conditions[deal_stage]": "2599198"}) == [presented["id"]]
    assert ids(crm, "deals", {"conditions[deal_value][from]": "1"}) == []


def test_people_and_deals_filter_by_company_id_and_person_id(crm: Crm) -> None:
    acme, other = crm.company("Acme"), crm.company("Other")
    ann = crm.person(full_name="Ann Acme", company_id=acme["id"])
    crm.person(full_name="Otto Other", company_id=other["id"])
    ann_deal = crm.deal("Ann's", primary_contact_id=ann["id"])
    acme_deal = crm.deal("Acme's", company_id=acme["id"])
    assert ids(crm, "people", {"company_id": acme["id"]}) == [ann["id"]]
    assert ids(crm, "deals", {"person_id": ann["id"]}) == [ann_deal["id"]]
    assert ids(crm, "deals", {"company_id": acme["id"]}) == [acme_deal["id"]]
    nested = crm.ok(crm.api.get(f"/companies/{acme['id']}/people.json"))
    assert [p["id"] for p in nested["entries"]] == [ann["id"]]
    assert [d["id"] for d in crm.ok(crm.api.get(f"/people/{ann['id']}/deals"))["entries"]] == [
        ann_deal["id"]
    ]
