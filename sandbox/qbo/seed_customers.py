"""The customers a seeded realm gets, planned without a realm: names, emails, phones, addresses.

Pure and deterministic for a given rng seed, so the CRM sandbox can seed people whose emails
match the QBO sandbox's customers (sandbox/crm/seed.py). `seed_realm` draws the plan from its
own rng first and goes on drawing documents from the same rng, so a realm seeded with a given
seed is exactly what it was before the plan was split out.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sandbox.qbo.seed_data import COMPANY_WORDS, FIRST_NAMES, LAST_NAMES, STREETS


@dataclass(frozen=True)
class PlannedAddress:
    line1: str
    city: str
    state: str
    postal_code: str
    country: str

    def as_qbo(self) -> dict[str, str]:
        return {
            "Line1": self.line1,
            "City": self.city,
            "CountrySubDivisionCode": self.state,
            "PostalCode": self.postal_code,
            "Country": self.country,
        }


@dataclass(frozen=True)
class CustomerPlan:
    """One seeded customer before it meets a realm. `display_name` is the name it gets in an
    empty realm (look-alikes numbered "John Smith 2"); a realm that already holds the name
    numbers it further."""

    index: int
    given_name: str
    family_name: str
    display_name: str
    company_name: str | None
    email: str | None
    phone: str | None
    address: PlannedAddress | None


def customer_plan(customers: int, rng_seed: int) -> list[CustomerPlan]:
    """The customers `seed_realm(store, realm, customers, rng_seed)` creates, without a store:
    pure and deterministic, so another sandbox (the CRM's) can seed the same people."""
    rng = random.Random(rng_seed)  # noqa: S311 - reproducible test data, not secrets
    return plan_customers(rng, customers)


def plan_customers(rng: random.Random, customers: int) -> list[CustomerPlan]:
    """Draw `customers` customers from `rng`, leaving it where seed_realm's documents start."""
    emails: list[str] = []
    suffixes: dict[str, int] = {}
    plans = []
    for index in range(customers):
        given, family = _person(rng, index)
        base = f"{given} {family}"
        suffixes[base] = suffixes.get(base, 0) + 1
        display = base if suffixes[base] == 1 else f"{base} {suffixes[base]}"
        company = f"{family} {rng.choice(COMPANY_WORDS)}" if rng.random() < 0.4 else None
        email = _email(rng, emails, given, family, company, index)
        phone = None
        if rng.random() < 0.6:
            phone = f"(555) {rng.randrange(200, 999)}-{rng.randrange(1000, 9999)}"
        address = None
        if rng.random() < 0.5:
            address = PlannedAddress(
                line1=f"{rng.randrange(1, 9999)} {rng.choice(STREETS)}",
                city=rng.choice(("Mountain View", "Tucson", "Austin", "Portland", "Denver")),
                state=rng.choice(("CA", "AZ", "TX", "OR", "CO")),
                postal_code=f"{rng.randrange(10000, 99999)}",
                country="USA",
            )
        plans.append(CustomerPlan(index, given, family, display, company, email, phone, address))
    return plans


def _person(rng: random.Random, index: int) -> tuple[str, str]:
    # The first three are the classic look-alikes every matcher must keep apart.
    classics = (("John", "Smith"), ("John", "Smith"), ("Jon", "Smith"))
    if index < len(classics):
        return classics[index]
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def _email(
    rng: random.Random,
    emails: list[str],
    given: str,
    family: str,
    company: str | None,
    index: int,
) -> str | None:
    draw = rng.random()
    if draw < 0.2:
        return None  # no email at all
    if draw < 0.3 and emails:
        return rng.choice(emails[-50:])  # shared with an earlier customer
    if company:
        email = f"accounts@{company.lower().replace(' ', '')}.example.com"
    else:
        email = f"{given.lower()}.{family.lower()}{index}@example.org"
    emails.append(email)
    return email
