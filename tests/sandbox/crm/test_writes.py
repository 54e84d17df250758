"""Create, show, update and delete: root keys, encodings, statuses and shapes (reference 3.3)."""

from __future__ import annotations

from tests.sandbox.crm.conftest import Crm

# Every key of the person POST /people.json answered on 2026-08-05 (Nango recording).
RECORDED_PERSON_KEYS = {
    "id", "first_name", "last_name", "type", "position", "phone", "email",
    "home_address_1", "home_address_2", "home_city", "home_state", "home_postal_code",
    "home_country", "home_email", "home_phone", "work_address_1", "work_address_2", "work_city",
    "work_state", "work_postal_code", "work_country", "user_id", "viewed_at", "created_at",
    "updated_at", "mobile", "company_id", "fax", "website", "email2", "instant_message",
    "twitter", "linked_in_url", "facebook_url", "summary", "unsubscribed", "bounced",
    "last_emailed_at", "is_sample", "created_by_user_id", "next_entry_due", "next_entry_all_day",
    "next_entry_name", "next_entry_id", "is_key_contact", "relationship", "owner", "company_name",
    "full_name", "deal_ids", "image_thumb_url", "image_mobile_url", "work_address_google_maps_url",
    "home_address_google_maps_url", "company_address_google_maps_url", "has_work_address",
    "has_home_address", "has_company_address", "shared_user_ids", "project_shared_user_ids",
    "date_of_first_activity", "days_since_last_activity", "hours_to_first_activity", "deals",
    "company", "user", "created_by_user", "lead_status", "lead_source",
    "predefined_contacts_tag_ids", "predefined_contacts_tags", "custom_fields",
    "possible_notify_user_ids", "currency", "total_pipeline", "won_deals_total",
    "company_address_1", "company_address_2", "company_city", "company_country",
    "company_postal_code", "company_state",
}  # fmt: skip


def test_create_takes_a_singular_root_key_and_answers_200_with_the_full_bare_object(
    crm: Crm,
) -> None:
    response = crm.api.post(
        "/people.json", json={"person": {"first_name": "Ann", "last_name": "Lee"}}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    person = response.json()
    assert "person" not in person
    assert set(person) >= RECORDED_PERSON_KEYS
    assert person["email"] is None and person["home_city"] is None
    assert person["type"] == "Contact"
    assert person["custom_fields"] == {f"custom_label_{i}": None for i in range(4005301, 4005307)}


def test_create_also_accepts_form_encoded_bodies(crm: Crm) -> None:
    form = {
        "person[full_name]": "Form Person",
        "person[email]": "form@example.com",
        "person[predefined_contacts_tag_ids][]": ["1087", "1092"],
        "person[custom_fields][custom_label_4005303]": "true",
    }
    person = crm.ok(crm.api.post("/people.json", data=form))
    assert (person["first_name"], person["last_name"]) == ("Form", "Person")
    assert person["predefined_contacts_tag_ids"] == [1087, 1092]
    assert [t["name"] for t in person["predefined_contacts_tags"]] == ["Decision Maker", "VIP"]
    assert person["custom_fields"]["custom_label_4005303"] is True
    company = crm.ok(crm.api.post("/companies", data={"company[name]": "Formed LLC"}))
    assert company["name"] == "Formed LLC"


def test_a_body_without_the_root_key_is_400(crm: Crm) -> None:
    for body in ({"full_name": "Bare Fields"}, {"person": {}}, {"people": {"full_name": "x"}}):
        response = crm.api.post("/people.json", json=body)
        assert response.status_code == 400, body
        assert response.json() == {"error": "param is missing or the value is empty: person"}
    assert (
        crm.api.post(
            "/people.json", content=b"{not json", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )


def test_show_answers_the_bare_object_that_create_answered(crm: Crm) -> None:
    created = crm.person(full_name="Shown Person", email="shown@example.com")
    assert crm.ok(crm.api.get(f"/people/{created['id']}.json")) == created


def test_update_is_partial_bumps_updated_at_and_keeps_created_at(crm: Crm) -> None:
    crm.set_clock("2026-05-01T12:00:00+00:00")
    created = crm.person(full_name="Partial Update", email="p@example.com", phone="555-0100")
    crm.set_clock("2026-05-02T12:00:00+00:00")
    response = crm.api.put(f"/people/{created['id']}.json", json={"person": {"position": "Owner"}})
    updated = crm.ok(response)
    assert updated["position"] == "Owner"
    assert (updated["email"], updated["phone"]) == ("p@example.com", "555-0100")
    assert updated["created_at"] == created["created_at"] == "2026/05/01 08:00:00 -0400"
    assert updated["updated_at"] == "2026/05/02 08:00:00 -0400"
    cleared = crm.ok(crm.api.patch(f"/people/{created['id']}", json={"person": {"phone": None}}))
    assert cleared["phone"] is None and cleared["position"] == "Owner"


def test_delete_answers_204_with_no_body_and_the_record_is_gone(crm: Crm) -> None:
    for collection, record in (
        ("people", crm.person()),
        ("companies", crm.company("Gone Co")),
        ("deals", crm.deal("Gone Deal")),
    ):
        response = crm.api.delete(f"/{collection}/{record['id']}.json")
        assert (response.status_code, response.content) == (204, b"")
        assert crm.api.get(f"/{collection}/{record['id']}.json").status_code == 404
        assert crm.ok(crm.api.get(f"/{collection}.json"))["pagination"]["total"] == 0


def test_an_unknown_id_is_404_with_an_error_body(crm: Crm) -> None:
    company = crm.company("Real Co")
    answers = [
        crm.api.get("/people/123.json"),
        crm.api.get(f"/people/{company['id']}.json"),  # a company's id is no person's
        crm.api.get("/people/abc.json"),
        crm.api.put("/people/123.json", json={"person": {"position": "x"}}),
        crm.api.delete("/deals/123.json"),
    ]
    for response in answers:
        assert response.status_code == 404
        assert response.json() == {"error": "Not found"}


def test_invalid_fields_are_422_with_field_humanized_field_and_msg(crm: Crm) -> None:
    response = crm.api.post(
        "/people.json",
        json={"person": {"email": "not-an-email", "type": "Customer", "company_id": 42}},
    )
    assert response.status_code == 422
    errors = {e["field"]: e for e in response.json()}
    assert errors["first_name"] == {
        "field": "first_name",
        "humanized_field": "First name",
        "msg": "can't be blank",
    }
    assert {"email", "type", "company_id"} <= set(errors)
    assert crm.ok(crm.api.get("/people.json"))["pagination"]["total"] == 0
    nameless = crm.api.post("/companies.json", json={"company": {"email": "x@y.com"}})
    assert nameless.status_code == 422 and nameless.json()[0]["field"] == "name"
