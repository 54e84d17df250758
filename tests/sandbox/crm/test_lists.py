"""The list envelope, paging and the optional `.json` suffix (reference 1.2, 3.1)."""

from __future__ import annotations

import pytest

from tests.sandbox.crm.conftest import Crm


@pytest.fixture
def seeded(crm: Crm) -> Crm:
    crm.control.post("/seed", params={"people": 450, "seed": 3}).raise_for_status()
    return crm


def test_lists_answer_entries_and_a_pagination_block(seeded: Crm) -> None:
    body = seeded.ok(seeded.api.get("/people.json", params={"page": 1, "per_page": 200}))
    assert set(body) == {"entries", "pagination"}
    assert body["pagination"] == {
        "page": 1,
        "page_var": "page",
        "per_page": 200,
        "pages": 3,
        "total": 450,
    }
    assert len(body["entries"]) == 200
    assert {"id", "full_name", "email", "custom_fields"} <= set(body["entries"][0])


def test_per_page_defaults_to_200_and_is_clamped_at_200(seeded: Crm) -> None:
    default = seeded.ok(seeded.api.get("/people.json"))["pagination"]
    assert default["per_page"] == 200 and default["pages"] == 3
    clamped = seeded.ok(seeded.api.get("/people.json", params={"per_page": 1000}))
    assert clamped["pagination"]["per_page"] == 200
    assert len(clamped["entries"]) == 200
    small = seeded.ok(seeded.api.get("/people.json", params={"per_page": 7}))
    assert small["pagination"]["pages"] == 65 and len(small["entries"]) == 7


def test_paging_to_the_last_page_returns_every_record_once_in_id_order(seeded: Crm) -> None:
    ids: list[int] = []
    page = 1
    while True:
        body = seeded.ok(seeded.api.get("/people.json", params={"page": page, "per_page": 100}))
        ids += [p["id"] for p in body["entries"]]
        if page >= body["pagination"]["pages"]:
            break
        page += 1
    assert len(ids) == 450 == len(set(ids))
    assert ids == sorted(ids)


def test_a_page_past_the_end_has_no_entries(seeded: Crm) -> None:
    body = seeded.ok(seeded.api.get("/people.json", params={"page": 9}))
    assert body["entries"] == []
    assert body["pagination"]["page"] == 9 and body["pagination"]["total"] == 450


def test_an_empty_list_still_has_one_page(crm: Crm) -> None:
    body = crm.ok(crm.api.get("/deals.json"))
    assert body == {
        "entries": [],
        "pagination": {"page": 1, "page_var": "page", "per_page": 200, "pages": 1, "total": 0},
    }


def test_paths_work_with_and_without_the_json_suffix(crm: Crm) -> None:
    person = crm.person(full_name="Suffix Optional")
    for path in (f"/people/{person['id']}", f"/people/{person['id']}.json"):
        assert crm.ok(crm.api.get(path))["id"] == person["id"]
    for path in ("/companies", "/companies.json", "/users", "/users.json", "/admin/deal_stages"):
        assert crm.api.get(path).status_code == 200, path
    updated = crm.ok(crm.api.put(f"/people/{person['id']}", json={"person": {"position": "CEO"}}))
    assert updated["position"] == "CEO"
    assert crm.api.delete(f"/people/{person['id']}.json").status_code == 204


def test_unknown_paths_are_404_with_an_error_body(crm: Crm) -> None:
    response = crm.api.get("/no_such_things.json")
    assert response.status_code == 404
    assert response.json() == {"error": "Not found"}
