"""Who the seeded account holds: one spec (the fields of a person write) per person.

`from_qbo` turns the QBO sandbox's customer plan into the CRM people that match it (seed.py's
docstring has the guarantee); `crm_only` fills the rest. Specs carry `company_name`; seed.py
resolves it to a company and stores the person.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sandbox.crm.lookups import Lookups
from sandbox.crm.seed_data import CITIES, NICKNAMES, POSITIONS
from sandbox.qbo.seed_customers import CustomerPlan
from sandbox.qbo.seed_data import COMPANY_WORDS, FIRST_NAMES, LAST_NAMES, STREETS

QBO_EMAIL_OVERLAP = 0.6


def qbo_overlap_emails(plan: list[CustomerPlan]) -> list[str]:
    """The distinct emails of a QBO plan, in plan order: the pool the overlap is drawn from."""
    return list(dict.fromkeys(c.email for c in plan if c.email))


class PeoplePlanner:
    def __init__(
        self, rng: random.Random, lookups: Lookups, users: list[int], first_day: date
    ) -> None:
        self.rng, self.lookups, self.users, self.first_day = rng, lookups, users, first_day
        self.crm_emails: list[str] = []

    def from_qbo(self, plan: list[CustomerPlan]) -> list[dict[str, Any]]:
        rng, pool = self.rng, qbo_overlap_emails(plan)
        chosen = set(rng.sample(pool, round(len(pool) * QBO_EMAIL_OVERLAP)))
        first_with: dict[str, CustomerPlan] = {}
        for customer in plan:
            if customer.email:
                first_with.setdefault(customer.email, customer)
        linked = [self._like(first_with[email]) for email in pool if email in chosen]
        twins = [
            self._like(first_with[e], twin=True)
            for e in pool
            if e in chosen and rng.random() < 0.06
        ]
        nameless = [
            {**self._like(c), "email": None, "type": "Lead"}
            for c in plan
            if not c.email and rng.random() < 0.25
        ]
        return linked + twins + nameless

    def _like(self, customer: CustomerPlan, *, twin: bool = False) -> dict[str, Any]:
        rng = self.rng
        first, last = customer.given_name, customer.family_name
        if twin or rng.random() < 0.2:
            first = NICKNAMES.get(first, first.upper() if rng.random() < 0.3 else first)
        email = customer.email or ""
        if rng.random() < 0.1:
            email = email[:1].upper() + email[1:]  # a CRM user typed it with a capital
        spec: dict[str, Any] = {"first_name": first, "last_name": last, "email": email}
        spec["company_name"] = customer.company_name
        if customer.phone is None:
            spec["phone"] = self.phone() if rng.random() < 0.7 else None
        else:
            spec["phone"] = customer.phone if rng.random() < 0.6 else self.phone()
        address = customer.address
        if address is not None and rng.random() < 0.5:
            spec.update(work_address_1=address.line1, work_city=address.city)
            spec.update(work_state=address.state, work_postal_code=address.postal_code)
            spec["work_country"] = "United States"
        elif address is not None or rng.random() < 0.6:
            spec.update(self.address())
        return self._decorate(spec, lead_share=0.1)

    def crm_only(self, count: int) -> list[dict[str, Any]]:
        rng, specs = self.rng, []
        for index in range(max(count, 0)):
            classics = (("John", "Smith"), ("Jon", "Smith"), ("John", "Smyth"))
            first, last = (
                classics[index] if index < 3 else (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))
            )
            draw = rng.random()
            if draw < 0.15:
                email = None
            elif draw < 0.2 and self.crm_emails:
                email = rng.choice(self.crm_emails[-30:])
            else:
                email = f"{first.lower()}.{last.lower().replace(' ', '')}{index}@crm.example.net"
                self.crm_emails.append(email)
            company = None
            if rng.random() < 0.6:
                company = f"{rng.choice(LAST_NAMES)} {rng.choice(COMPANY_WORDS)}"
            spec = {"first_name": first, "last_name": last, "email": email, "company_name": company}
            spec["phone"] = self.phone() if rng.random() < 0.7 else None
            if rng.random() < 0.5:
                spec.update(self.address())
            specs.append(self._decorate(spec, lead_share=0.25))
        return specs

    def _decorate(self, spec: dict[str, Any], *, lead_share: float) -> dict[str, Any]:
        rng, lookups = self.rng, self.lookups
        spec["user_id"] = rng.choice(self.users)
        spec.setdefault("type", "Lead" if rng.random() < lead_share else "Contact")
        if spec["type"] == "Lead":
            spec["lead_status_id"] = rng.choice(lookups.lead_statuses)[0]
            spec["lead_source_id"] = rng.choice(lookups.lead_sources)[0]
        if rng.random() < 0.3:
            spec["mobile"] = self.phone()
        if rng.random() < 0.3:
            spec["position"] = rng.choice(POSITIONS)
        if spec.get("company_name") and rng.random() < 0.3:
            slug = "".join(ch for ch in spec["company_name"].lower() if ch.isalnum())
            spec["website"] = f"https://www.{slug}.example.com"
        if rng.random() < 0.2:
            tags = rng.sample(lookups.person_tags, rng.randint(1, 2))
            spec["predefined_contacts_tag_ids"] = [t[0] for t in tags]
        spec["custom_fields"] = self._custom_fields()
        return spec

    def _custom_fields(self) -> dict[str, Any]:
        rng, values = self.rng, dict[str, Any]()
        for label in self.lookups.labels_for("person"):
            if rng.random() >= 0.35:
                continue
            kind = label.field_type
            if kind == "text":
                values[label.key] = f"C-{rng.randrange(10000, 99999)}"
            elif kind == "dropdown":
                values[label.key] = rng.choice(label.entries)[0]
            elif kind == "multi_select":
                values[label.key] = [e[0] for e in rng.sample(label.entries, rng.randint(1, 2))]
            elif kind == "boolean":
                values[label.key] = rng.random() < 0.5
            elif kind == "currency":
                values[label.key] = rng.randrange(100, 90000)
            elif kind == "date":
                values[label.key] = (
                    self.first_day + timedelta(days=rng.randrange(390))
                ).isoformat()
        return values

    def phone(self) -> str:
        rng = self.rng
        return f"({rng.randrange(200, 999)}) {rng.randrange(200, 999)}-{rng.randrange(1000, 9999)}"

    def address(self) -> dict[str, Any]:
        city, state, postal = self.rng.choice(CITIES)
        return {
            "work_address_1": f"{self.rng.randrange(1, 9999)} {self.rng.choice(STREETS)}",
            "work_city": city,
            "work_state": state,
            "work_postal_code": postal,
            "work_country": "United States",
        }
