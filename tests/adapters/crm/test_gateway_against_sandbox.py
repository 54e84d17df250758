"""The CrmGateway over HTTP against the CRM sandbox: who the key is, paging to the end, exact
email and company-name matches on top of substring filters, writes with clears, deletes,
modified-since in the account's zone, and account notifications."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from adapters.crm.client import PER_PAGE, CrmClient
from adapters.crm.errors import NotAuthorizedError, NotFoundError, ValidationError
from adapters.crm.ports import CrmGateway
from schemas.crm import CrmCompany, CrmDeal, CrmPerson
from tests.adapters.crm.conftest import make_client, start_sandbox, unique


def as_port(client: CrmClient) -> CrmGateway:
    return client  # the client is what the engine's port asks for (checked by mypy here)


async def test_the_profile_says_whose_key_it_is_and_the_zone_timestamps_are_in(client, sandbox):
    profile = await as_port(client).profile()
    assert profile.is_admin and profile.email == sandbox.config.admin_email
    assert await client.time_zone() == ZoneInfo("America/New_York")
    account = await client.account()
    assert (account.id, account.company_name) == (
        sandbox.config.account_id,
        sandbox.config.account_name,
    )


async def test_a_basic_users_key_is_not_an_admin(sandbox, http):
    user = sandbox.control(
        "POST", "/users", json={"first_name": "Bo", "last_name": "Sic", "email": unique() + "@x.io"}
    )
    profile = await make_client(sandbox, http, api_key=user["api_key"]).profile()
    assert profile.id == user["id"] and not profile.is_admin


async def test_a_rejected_api_key_fails_at_once_and_says_which_key(sandbox, http):
    client = make_client(sandbox, http, api_key="not-a-key-at-all")
    with pytest.raises(NotAuthorizedError, match="api_key rejected") as caught:
        await client.profile()
    assert caught.value.status == 401 and client.calls == 1


@pytest.fixture(scope="module")
def seeded():
    """A sandbox of its own holding more than one page of people (250, by its control API)."""
    for sandbox in start_sandbox():
        sandbox.control("POST", "/seed", params={"people": 250})
        yield sandbox


async def test_lists_are_read_to_the_last_page(seeded, http):
    client = make_client(seeded, http)
    rows = seeded.stats()["rows"]
    assert rows["person"] > PER_PAGE
    people = [p async for p in client.iter_people()]
    assert len(people) == rows["person"] and all(isinstance(p, CrmPerson) for p in people)
    assert len({p.id for p in people}) == len(people)  # no page read twice
    assert client.calls == -(-rows["person"] // PER_PAGE)  # 200 per page: 2 calls for 250


async def test_the_id_sweeps_see_every_record(seeded, http):
    client = make_client(seeded, http)
    people = {p.id async for p in client.iter_people()}
    assert await client.all_person_ids() == people
    companies = await client.all_company_ids()
    assert len(companies) == seeded.stats()["rows"]["company"] > 0
    assert len(await client.all_deal_ids()) == seeded.stats()["rows"]["deal"]


async def test_deals_come_with_money_as_decimals_and_crm_timestamps_as_aware_datetimes(
    seeded, http
):
    client = make_client(seeded, http)
    deals = [d async for d in client.iter_deals()]
    deal = next(d for d in deals if d.value is not None)
    assert isinstance(deal.value, Decimal) and deal.updated_at.tzinfo is not None
    again = await client.get_deal(deal.id)
    assert isinstance(again, CrmDeal) and again.value == deal.value
    assert await client.get_deal(1) is None


async def test_conditions_filter_lists(client):
    tag = unique("cond")
    await client.create_person({"full_name": f"Cora {tag}", "email": f"cora.{tag}@x.io"})
    found = [p async for p in client.iter_people({"person_full_name": tag})]
    assert [p.email for p in found] == [f"cora.{tag}@x.io"]


async def test_an_email_matches_exactly_never_as_a_substring(client):
    domain = f"{unique()}.example.com"
    joann = await client.create_person({"full_name": "Jo Ann", "email": f"joann@{domain}"})
    await client.create_person({"full_name": "Ann Au", "email": f"ann@{domain}.au"})
    await client.create_person({"full_name": "Ann Two", "email": f"ann2@{domain}"})
    ann = await client.create_person({"full_name": "Ann Lee", "email": f"Ann@{domain.upper()}"})
    also = await client.create_person({"full_name": "Ann Dup", "email": f"ann@{domain}"})

    matches = await client.find_people_by_email(f"  ANN@{domain} ")
    assert [p.id for p in matches] == [ann.id, also.id]  # oldest first
    assert [p.id for p in await client.find_people_by_email(f"joann@{domain}")] == [joann.id]
    assert await client.find_people_by_email(f"nn@{domain}") == []  # only substrings
    assert await client.find_people_by_email("   ") == []


async def test_a_person_is_created_updated_cleared_and_deleted(client, sandbox, http):
    labels = (
        await http.get(
            f"{sandbox.api_url}/admin/person_custom_field_labels.json",
            params={"api_key": sandbox.config.admin_api_key, "app_key": sandbox.config.app_key},
        )
    ).json()["entries"]
    text_label = next(f"custom_label_{lab['id']}" for lab in labels if lab["field_type"] == "text")
    email = f"pat.{unique()}@example.com"
    created = await client.create_person(
        {
            "full_name": "Pat Doe",
            "email": email,
            "phone": "555-0100",
            "work_city": "Oslo",
            "website": None,  # nothing to clear on create: left out
            f"custom_fields.{text_label}": "C-42",
        }
    )
    assert (created.first_name, created.last_name, created.phone) == ("Pat", "Doe", "555-0100")
    assert created.custom_fields[text_label] == "C-42"

    updated = await client.update_person(
        created.id, {"phone": None, "work_city": "Bergen", f"custom_fields.{text_label}": None}
    )
    assert updated.phone in (None, "") and updated.work_city == "Bergen"
    assert updated.custom_fields.get(text_label) in (None, "")
    assert updated.email == email  # fields not named are left alone
    stored = await client.get_person(created.id)
    assert stored is not None and stored.phone is None and stored.work_city == "Bergen"
    assert (await client.update_person(created.id, {})).id == created.id  # nothing to send

    assert await client.delete_person(created.id) is True
    assert await client.get_person(created.id) is None
    assert await client.delete_person(created.id) is False  # already gone: not an error
    with pytest.raises(NotFoundError):
        await client.update_person(created.id, {"phone": "1"})


async def test_a_refused_person_says_which_fields_and_why(client):
    with pytest.raises(ValidationError) as caught:
        await client.create_person({"email": "not-an-email"})
    assert caught.value.status == 422
    assert {e.field for e in caught.value.field_errors} >= {"email"}


async def test_find_or_create_a_company_agrees_with_the_crms_own_company_name_lookup(client):
    name = f"Acme Widgets {unique()}"
    assert await client.find_company_by_name(name) is None
    await client.create_company(f"{name} International")  # a substring hit, not a match
    company = await client.create_company(name, {"city": "Oslo"})
    assert isinstance(company, CrmCompany) and company.city == "Oslo"

    found = await client.find_company_by_name(f"  {name.upper()} ")
    assert found is not None and found.id == company.id
    # The CRM's own find-or-create (a person's company_name) lands on the same company.
    person = await client.create_person({"full_name": "Cy Co", "company_name": name.lower()})
    assert person.company_id == company.id
    attached = await client.create_person({"full_name": "Al Co"}, company_id=company.id)
    assert attached.company_id == company.id and attached.company_name == name

    renamed = await client.update_company(company.id, {"phone1": "555-0199", "city": None})
    assert renamed.phone1 == "555-0199" and renamed.city is None and renamed.name == name


async def test_people_modified_since_reads_the_bound_in_the_accounts_zone(client, sandbox):
    before = await client.create_person({"full_name": f"Old {unique()}"})
    sandbox.control("POST", "/clock/advance", params={"seconds": 3600})
    since = datetime.fromisoformat(sandbox.now())
    changed = await client.create_person({"full_name": f"New {unique()}"})
    ids = {p.id async for p in client.people_modified_since(since)}
    assert changed.id in ids and before.id not in ids
    # Sent as UTC wall time instead, the bound would be 5 hours off in New York.
    later = {p.id async for p in client.people_modified_since(since + timedelta(seconds=2))}
    assert changed.id not in later
    companies = {c.id async for c in client.companies_modified_since(since)}
    assert before.id not in companies  # different model, same mechanism


async def test_an_account_notification_is_posted_for_the_admin_to_see(client, sandbox):
    title = f"Import finished {unique()}"
    posted = await client.post_account_notification(title, "12 linked, 3 created, 1 skipped")
    shown = sandbox.control("GET", "/account_notifications")["entries"]
    mine = next(n for n in shown if n["id"] == posted.id)
    assert mine["text"] == posted.text == f"{title}\n\n12 linked, 3 created, 1 skipped"


async def test_unknown_records_read_as_none(client):
    assert await client.get_person(999_999_999) is None
    assert await client.get_company(999_999_999) is None
