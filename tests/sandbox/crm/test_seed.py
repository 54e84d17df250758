"""Seed data, its overlap with the QBO sandbox's seed, and the `/_sandbox` control endpoints."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from sandbox.crm.clock import SandboxClock
from sandbox.crm.config import CrmSandboxConfig
from sandbox.crm.seed import QBO_EMAIL_OVERLAP, seed_account
from sandbox.crm.server import account_details, create_app
from sandbox.crm.store import CrmStore, Row
from sandbox.qbo.clock import SandboxClock as QboClock
from sandbox.qbo.seed import seed_realm
from sandbox.qbo.store import QboStore
from tests.sandbox.crm.conftest import Crm

PEOPLE, RNG_SEED = 400, 11


def seeded(people: int, rng_seed: int) -> CrmStore:
    store = CrmStore(CrmSandboxConfig(), SandboxClock())
    seed_account(store, people, rng_seed)
    return store


def without_times(store: CrmStore) -> dict[str, list[Row]]:
    times = {"created_at", "updated_at", "closed_time", "expected_close_date"}
    return {
        table: [{k: v for k, v in row.items() if k not in times} for row in store.rows(table)]
        for table in ("person", "company", "deal", "user")
    }


def qbo_customers(customers: int, rng_seed: int) -> list[dict[str, Any]]:
    store = QboStore(QboClock())
    store.add_realm("1", "Seeded")
    seed_realm(store, "1", customers, rng_seed)
    with store.locked("1") as realm:
        return list(realm.records["Customer"].values())


@pytest.fixture(scope="module")
def account() -> CrmStore:
    return seeded(PEOPLE, RNG_SEED)


def test_the_same_rng_seed_builds_the_same_account() -> None:
    assert without_times(seeded(120, 5)) == without_times(seeded(120, 5))
    assert without_times(seeded(120, 5)) != without_times(seeded(120, 6))


def test_seeding_gives_exactly_the_people_asked_for_with_users_companies_and_deals(
    account: CrmStore,
) -> None:
    counts = account.counts()
    assert counts["person"] == PEOPLE
    assert counts["user"] == 4 and counts["company"] > 50 and counts["deal"] == 120
    admins = [u for u in account.rows("user") if u["is_account_admin"]]
    assert [u["api_key"] for u in admins] == [account.config.admin_api_key]


def test_seeded_people_include_the_cases_an_import_must_handle(account: CrmStore) -> None:
    people = account.rows("person")
    emails = Counter((p["email"] or "").casefold() for p in people if p["email"])
    names = Counter(f"{p['first_name']} {p['last_name']}" for p in people)
    assert any(count >= 2 for count in emails.values())  # one email, two people
    assert any(not p["email"] for p in people)
    assert {"John Smith", "Jon Smith"} <= set(names)
    assert {p["type"] for p in people} == {"Contact", "Lead"}
    assert len({p["user_id"] for p in people}) == 4
    assert any(p["company_id"] for p in people) and any(not p["company_id"] for p in people)
    for field in ("phone", "mobile", "work_city", "website", "position"):
        assert any(p[field] for p in people), field
    assert any(p["predefined_contacts_tag_ids"] for p in people)
    assert any(any(v is not None for v in p["custom_fields"].values()) for p in people)
    stages = {d["deal_stage_id"] for d in account.rows("deal")}
    assert len(stages) >= 6
    assert all(d["value"] is not None for d in account.rows("deal"))


def test_sixty_percent_of_the_qbo_seed_emails_are_crm_people_with_partly_different_data(
    account: CrmStore,
) -> None:
    customers = qbo_customers(PEOPLE, RNG_SEED)
    qbo_by_email: dict[str, dict[str, Any]] = {}
    for customer in customers:
        if "PrimaryEmailAddr" in customer:
            qbo_by_email.setdefault(customer["PrimaryEmailAddr"]["Address"].casefold(), customer)
    crm_by_email: dict[str, list[Row]] = {}
    for person in account.rows("person"):
        if person["email"]:
            crm_by_email.setdefault(person["email"].casefold(), []).append(person)
    shared = [e for e in qbo_by_email if e in crm_by_email]
    assert len(shared) == round(len(qbo_by_email) * QBO_EMAIL_OVERLAP)
    assert len(qbo_by_email) - len(shared) > 0  # some QBO customers have no CRM person yet
    pairs = [(qbo_by_email[e], crm_by_email[e][0]) for e in shared]
    assert any("PrimaryPhone" not in q and c["phone"] for q, c in pairs)  # CRM has it, QBO not
    assert any("BillAddr" not in q and c["work_address_1"] for q, c in pairs)
    assert any(q["GivenName"] != c["first_name"] for q, c in pairs)  # "Bill" for "William"
    assert any(q["PrimaryEmailAddr"]["Address"] != c["email"] for q, c in pairs)  # letter case
    assert any(len(crm_by_email[e]) >= 2 for e in shared)  # the same email twice in CRM
    assert any(q.get("CompanyName") and c["company_id"] for q, c in pairs)


def test_seeding_10000_people_gives_exactly_10000_people() -> None:
    # How fast is a benchmark figure (bench/seed_speed.py), not a test.
    store = seeded(10_000, 42)
    assert store.counts()["person"] == 10_000


def test_control_seed_stats_reset_and_direct_reads(crm: Crm) -> None:
    rows = crm.ok(crm.control.post("/seed", params={"people": 30, "seed": 2}))["rows"]
    assert rows["person"] == 30
    person = crm.ok(crm.api.get("/people.json", params={"per_page": 1}))["entries"][0]
    assert crm.ok(crm.control.get(f"/people/{person['id']}")) == person
    stats = crm.ok(crm.control.get("/stats"))
    assert stats["rows"]["person"] == 30
    assert stats["requests"]["by_status"]["200"] >= 1 and "throttled" in stats["rate_limit"]
    crm.control.post("/reset").raise_for_status()
    assert crm.ok(crm.control.get("/stats"))["rows"]["person"] == 0
    assert crm.control.get("/people/1").status_code == 404
    account = crm.ok(crm.control.get("/account"))
    assert account["admin_api_key"] == crm.config.admin_api_key
    assert account["app_key"] == crm.config.app_key


def test_advancing_the_clock_moves_the_times_records_get(crm: Crm) -> None:
    before = crm.person(full_name="Before Jump")
    crm.control.post("/clock/advance", params={"seconds": 86_400 * 3}).raise_for_status()
    after = crm.person(full_name="After Jump")
    assert before["created_at"][:10] != after["created_at"][:10]


def test_a_seeded_app_starts_with_the_configured_people() -> None:
    app = create_app(CrmSandboxConfig(seed_people=25, seed_random=1))
    assert app.state.crm.store.counts()["person"] == 25


def test_serve_prints_the_admin_key_the_app_key_the_account_and_the_base_url() -> None:
    app = create_app(
        CrmSandboxConfig(admin_api_key="adminKeyForPrinting01", account_name="Print Co")
    )
    details = account_details(app.state.crm, "http://127.0.0.1:8766")
    for expected in (
        "http://127.0.0.1:8766/api/v3",
        "adminKeyForPrinting01",
        app.state.crm.config.app_key,
        "Print Co",
        "America/New_York",
        "http://127.0.0.1:8766/_sandbox/docs",
    ):
        assert expected in details


def test_the_config_reads_qbsync_crm_sandbox_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QBSYNC_CRM_SANDBOX_ADMIN_API_KEY", "fromTheEnvironment01")
    monkeypatch.setenv("QBSYNC_CRM_SANDBOX_TIME_ZONE", "Europe/Berlin")
    monkeypatch.setenv("QBSYNC_CRM_SANDBOX_RATE_LIMIT_PER_SECOND", "25")
    monkeypatch.setenv("QBSYNC_CRM_SANDBOX_WEBHOOK_ACTION_TENSE", "past")
    config = CrmSandboxConfig()
    assert (config.admin_api_key, config.time_zone) == ("fromTheEnvironment01", "Europe/Berlin")
    assert (config.rate_limit_per_second, config.webhook_action_tense) == (25, "past")
    with pytest.raises(ValueError):
        CrmSandboxConfig(time_zone="Mars/Olympus_Mons")
