"""A realistic Pipeline account, and the overlap with the QBO sandbox an import must untangle.

`seed_account(store, people, rng_seed)` adds three basic users (the configured admin exists
already), `people` people, their companies and about 0.3 deals per person. It reads the QBO
sandbox's customer plan for the same (people, rng_seed) (sandbox/qbo/seed_customers.py) and
guarantees: of the D distinct emails among those QBO customers, exactly round(0.6 x D) are
on at least one CRM person (compared ignoring case) and no other QBO email is. Around them:

- the same person, CRM-side data partly different: phones and addresses where QBO has none,
  different phones or cities where it has some, nicknames ("Bill" for "William"), email case;
- 6% of those emails on two CRM people (a duplicate contact);
- a quarter of the QBO customers without email present in CRM by name only (as leads);
- CRM-only people (emails on crm.example.net, some without email, some sharing one),
  look-alikes ("John Smith", "Jon Smith"), contacts and leads with owners, phones, addresses,
  websites, tags and custom fields.

Deterministic for (people, rng_seed). Records are built by the API's own builders (same shape),
stamped with past times (history ends a day ago) and not announced to webhooks. 10,000 people
take a couple of seconds.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta
from typing import Any

from sandbox.crm.seed_data import BASIC_USERS, SERVICES
from sandbox.crm.seed_people import QBO_EMAIL_OVERLAP, PeoplePlanner, qbo_overlap_emails
from sandbox.crm.store import CrmStore, Row
from sandbox.crm.writes import WriteContext, build_company, build_deal, build_person
from sandbox.qbo.seed_customers import customer_plan

__all__ = ["QBO_EMAIL_OVERLAP", "qbo_overlap_emails", "seed_account"]

DEALS_PER_PERSON = 0.3
_HISTORY = timedelta(days=400)
_QUIET = timedelta(days=1)


def seed_account(store: CrmStore, people: int, rng_seed: int) -> dict[str, int]:
    """Seed the account; returns the row counts per table."""
    rng = random.Random(f"crm:{rng_seed}")  # noqa: S311 - reproducible test data, not secrets
    with store.locked():
        seeder = _Seeder(store, rng, rng_seed)
        planner = seeder.planner
        specs = planner.from_qbo(customer_plan(people, rng_seed))[:people]
        specs += planner.crm_only(people - len(specs))
        for index, spec in enumerate(specs):
            seeder.person(spec, seeder.moment(index, len(specs)))
        seeder.deals(round(people * DEALS_PER_PERSON))
    return store.counts()


class _Seeder:
    def __init__(self, store: CrmStore, rng: random.Random, rng_seed: int) -> None:
        self.store, self.rng = store, rng
        now = store.clock.now()
        self.start, self.end = now - _HISTORY, now - _QUIET
        self.users = [u["id"] for u in store.rows("user") if u["deleted_at"] is None]
        for first, last in BASIC_USERS:
            email = f"{first.lower()}.{last.lower()}@sandbox-crm.example.com"
            if not any(u["email"] == email for u in store.rows("user")):
                key = hashlib.sha256(f"{rng_seed}:{email}".encode()).hexdigest()[:20]
                self.users.append(
                    store.add_user(first, last, email, admin=False, api_key=key)["id"]
                )
        self.people: list[Row] = []
        self.planner = PeoplePlanner(rng, store.lookups, self.users, self.start.date())

    def moment(self, index: int, total: int) -> datetime:
        moment = self.start + (self.end - self.start) * (index / max(total, 1))
        return moment.replace(microsecond=0)

    # -- storing ---------------------------------------------------------------------------
    def _context(self, actor: int, at: datetime) -> WriteContext:
        return WriteContext(self.store, actor, at, {})

    def _company(self, name: str, owner: int, at: datetime) -> int:
        found = self.store.company_named(name)
        if found is not None:
            return found
        body: dict[str, Any] = {"name": name, "owner_id": owner}
        if self.rng.random() < 0.5:
            address = self.planner.address()
            body.update({key.removeprefix("work_"): value for key, value in address.items()})
            body["phone1"] = self.planner.phone()
        company = build_company(body, None, self._context(owner, at))
        company["id"] = self.store.new_id("company")
        return int(self.store.put("company", company)["id"])

    def person(self, spec: dict[str, Any], at: datetime) -> None:
        body = {k: v for k, v in spec.items() if k != "company_name" and v is not None}
        if spec.get("company_name"):
            body["company_id"] = self._company(spec["company_name"], spec["user_id"], at)
        row = build_person(body, None, self._context(spec["user_id"], at))
        row["id"] = self.store.new_id("person")
        if self.rng.random() < 0.5:
            row["updated_at"] = at + (self.end - at) * self.rng.random()
            row["updated_at"] = row["updated_at"].replace(microsecond=0)
        self.people.append(self.store.put("person", row))

    def deals(self, count: int) -> None:
        rng, lookups = self.rng, self.store.lookups
        if not self.people:
            return
        for _ in range(count):
            contact = rng.choice(self.people)
            pipeline = lookups.pipelines[0] if rng.random() < 0.85 else lookups.pipelines[1]
            stage = rng.choice([s for s in lookups.stages if s.pipeline_id == pipeline.id])
            company = self.store.find("company", contact["company_id"])
            who = company["name"] if company else f"{contact['first_name']} {contact['last_name']}"
            at = contact["created_at"] + (self.end - contact["created_at"]) * rng.random()
            cents = rng.choice(("00", "50"))
            body = {
                "name": f"{who} - {rng.choice(SERVICES)}",
                "deal_stage_id": stage.id,
                "value": f"{rng.randrange(5, 500) * 100 + rng.choice((0, 0, 50, 99))}.{cents}",
                "primary_contact_id": contact["id"],
                "company_id": contact["company_id"],
                "user_id": contact["user_id"],
                "expected_close_date": (at + timedelta(days=rng.randrange(10, 120)))
                .date()
                .isoformat(),
            }
            deal = build_deal(
                body, None, self._context(contact["user_id"], at.replace(microsecond=0))
            )
            deal["id"] = self.store.new_id("deal")
            self.store.put("deal", deal)
