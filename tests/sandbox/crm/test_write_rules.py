"""Pipeline's write rules: name splitting, company find-or-create, derived fields, custom field
formats, deal stages; account notifications and the account's lookups (reference 2, 2.6, 2.7)."""

from __future__ import annotations

from typing import Any

from tests.sandbox.crm.conftest import Crm


def test_full_name_splits_at_the_first_space_into_first_and_last_name(crm: Crm) -> None:
    cases = {
        "Ann Lee": ("Ann", "Lee"),
        "Anna Van der Berg": ("Anna", "Van der Berg"),
        "  Cher  ": ("Cher", None),
    }
    for full_name, expected in cases.items():
        person = crm.person(full_name=full_name)
        assert (person["first_name"], person["last_name"]) == expected
        assert person["full_name"] == " ".join(p for p in expected if p)
    renamed = crm.ok(
        crm.api.put(f"/people/{person['id']}", json={"person": {"last_name": "Sarkisian"}})
    )
    assert renamed["full_name"] == "Cher Sarkisian"


def test_company_name_finds_the_company_ignoring_case_or_creates_it(crm: Crm) -> None:
    existing = crm.company("Smith Plumbing")
    linked = crm.person(full_name="Joe Smith", company_name="SMITH plumbing ")
    assert linked["company_id"] == existing["id"]
    assert linked["company"] == {"id": existing["id"], "name": "Smith Plumbing"}
    assert linked["company_name"] == "Smith Plumbing"
    created = crm.person(full_name="Amy Jones", company_name="Jones Bakery")
    assert created["company_name"] == "Jones Bakery"
    companies = crm.ok(crm.api.get("/companies.json"))["entries"]
    assert sorted(c["name"] for c in companies) == ["Jones Bakery", "Smith Plumbing"]
    unlinked = crm.ok(
        crm.api.put(f"/people/{created['id']}", json={"person": {"company_name": ""}})
    )
    assert (unlinked["company_id"], unlinked["company"], unlinked["company_name"]) == (
        None,
        None,
        None,
    )


def test_derived_fields_follow_the_records_they_derive_from(crm: Crm) -> None:
    company = crm.company("Acme", city="Denver")
    person = crm.person(full_name="Dee Rived", company_id=company["id"])
    assert person["company_city"] == "Denver" and person["has_company_address"] is True
    deal = crm.deal("Acme deal", primary_contact_id=person["id"], value="1200.50")
    crm.ok(crm.api.put(f"/companies/{company['id']}", json={"company": {"name": "Acme Corp"}}))
    after = crm.ok(crm.api.get(f"/people/{person['id']}"))
    assert after["company_name"] == "Acme Corp" and after["company"]["name"] == "Acme Corp"
    assert after["deal_ids"] == [deal["id"]]
    assert after["deals"] == [{"id": deal["id"], "name": "Acme deal"}]
    assert after["total_pipeline"] == 1200.5
    assert deal["person_ids"] == [person["id"]]
    assert deal["primary_contact"]["first_name"] == "Dee"


def test_deleting_a_company_unlinks_its_people_without_touching_them(crm: Crm) -> None:
    company = crm.company("Doomed Inc")
    person = crm.person(full_name="Left Behind", company_id=company["id"])
    assert crm.api.delete(f"/companies/{company['id']}").status_code == 204
    after = crm.ok(crm.api.get(f"/people/{person['id']}"))
    assert (after["company_id"], after["company"]) == (None, None)
    assert after["updated_at"] == person["updated_at"]


def test_custom_fields_are_stored_in_pipelines_value_formats(crm: Crm) -> None:
    values: dict[str, Any] = {
        "custom_label_4005301": "C-100",
        "custom_label_4005302": "3202",
        "custom_label_4005303": "1",
        "custom_label_4005304": 1234,
        "custom_label_4005305": "2026-08-10",
        "custom_label_4005306": ["3211", 3213],
        "custom_label_999": "ignored",
    }
    person = crm.person(full_name="Custom Fields", custom_fields=values)
    assert person["custom_fields"] == {
        "custom_label_4005301": "C-100",
        "custom_label_4005302": 3202,
        "custom_label_4005303": True,
        "custom_label_4005304": "1234.0",
        "custom_label_4005305": "2026/08/10",
        "custom_label_4005306": [3211, 3213],
    }
    partial = {"custom_fields": {"custom_label_4005301": "C-200"}}
    updated = crm.ok(crm.api.put(f"/people/{person['id']}", json={"person": partial}))
    assert updated["custom_fields"]["custom_label_4005302"] == 3202
    bad = crm.api.post(
        "/people", json={"person": {"full_name": "X", "custom_fields": {"custom_label_4005302": 1}}}
    )
    assert bad.status_code == 422 and bad.json()[0]["field"] == "custom_label_4005302"


def test_a_deals_stage_implies_its_pipeline_and_probability(crm: Crm) -> None:
    deal = crm.deal("Staged", deal_stage_id=2599198)
    assert deal["deal_pipeline"] == {"id": 339554, "name": "Sales Pipeline", "default": True}
    assert deal["deal_stage"] == {"id": 2599198, "name": "Presentation", "percent": 50}
    assert deal["probability"] == 50 and deal["closed_time"] is None
    won = crm.ok(crm.api.put(f"/deals/{deal['id']}", json={"deal": {"deal_stage_id": 2599200}}))
    assert won["probability"] == 100 and won["closed_time"] is not None
    default = crm.deal("Unstaged")
    assert default["deal_stage"]["name"] == "Qualified"
    mismatch = crm.api.post(
        "/deals", json={"deal": {"name": "x", "deal_stage_id": 2599196, "deal_pipeline_id": 339555}}
    )
    assert mismatch.status_code == 422


def test_account_notifications_can_be_posted_and_listed(crm: Crm) -> None:
    posted = crm.ok(
        crm.api.post(
            "/account_notifications.json",
            json={"account_notification": {"text": "Import: 3 linked"}},
        )
    )
    assert set(posted) == {
        "id",
        "account_id",
        "user_id",
        "text",
        "read_at",
        "created_at",
        "updated_at",
        "seen",
    }
    assert posted["text"] == "Import: 3 linked" and posted["seen"] is False
    listed = crm.ok(crm.api.get("/account_notifications.json"))
    assert [n["id"] for n in listed["entries"]] == [posted["id"]]
    blank = crm.api.post("/account_notifications.json", json={"account_notification": {}})
    assert blank.status_code == 400 and blank.json()["error"].startswith("Text cannot be blank")
    assert (
        crm.ok(crm.control.get("/account_notifications"))["entries"][0]["text"]
        == "Import: 3 linked"
    )


def test_users_account_and_lookups_describe_the_account(crm: Crm) -> None:
    account = crm.ok(crm.api.get("/account.json"))
    assert account["id"] == crm.config.account_id
    assert [s["name"] for s in account["deal_stages"]][:2] == ["Lost", "Qualified"]
    users = crm.ok(crm.api.get("/users.json"))["entries"]
    assert users[0]["email"] == crm.config.admin_email and "api_key" not in users[0]
    pipelines = crm.ok(crm.api.get("/admin/deal_pipelines.json"))["entries"]
    assert {"id", "name", "default", "pipeline_type", "has_deals"} <= set(pipelines[0])
    labels = crm.ok(crm.api.get("/admin/person_custom_field_labels.json"))["entries"]
    assert {label["field_type"] for label in labels} >= {"text", "dropdown", "date", "currency"}
    assert labels[0]["type"] == "PersonCustomFieldLabel"
    statuses = crm.ok(crm.api.get("/admin/lead_statuses.json"))["entries"]
    assert {"id", "name", "hex_color"} == set(statuses[0])
    entries = crm.ok(
        crm.api.get(
            "/admin/custom_field_label_dropdown_entries",
            params={"conditions[custom_field_label_id]": 4005302},
        )
    )
    assert [e["name"] for e in entries["entries"]] == ["Email", "Phone", "Text message"]
