"""The import plan: which QBO customer links to which CRM person (SYNC-RULES 4.1-4.4, 4.7).

Emails match trimmed, case-insensitively and exactly (the CRM's email filter matches substrings,
so equality is confirmed here). A customer without an email is skipped with that reason. A match
links; no match creates a person. Several CRM people with the email: the lowest id is linked, the
rest are listed as ambiguous. Several QBO customers with one email: the lowest QBO id (numeric)
is linked, the others are listed. Existing links are kept (a link follows its ids, rule 1), so
re-running the import duplicates nothing (4.7).

Decisions where the rules are silent:
- Only a person's `email` is matched, not `email2`/`home_email` (as adapters/crm/matching.py).
- The import reads active customers only (4.1); an inactive one handed in anyway is skipped with
  the reason `inactive`, so it is still accounted for.
- A link joins one person to one customer: a person already linked to another customer is not a
  candidate. When only such people have the email, the customer is listed as ambiguous
  (`person_linked_elsewhere`) instead of creating a second person with that email.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from engine.companies import CompanyRecord, plan_companies
from engine.fields import match_key, qbo_value
from engine.import_plan import (
    AmbiguousMatch,
    ExistingLink,
    ImportPlan,
    PlannedLink,
    PlannedPerson,
    SkippedCustomer,
    SkipReason,
)
from engine.merge import new_person_fields
from schemas.crm import CrmPerson
from schemas.qbo import QboCustomer
from schemas.settings import IntegrationSettings


@dataclass
class _Draft:
    links: list[PlannedLink] = field(default_factory=list)
    creates: list[PlannedPerson] = field(default_factory=list)
    already_linked: list[ExistingLink] = field(default_factory=list)
    skipped: list[SkippedCustomer] = field(default_factory=list)
    ambiguous: list[AmbiguousMatch] = field(default_factory=list)

    def skip(self, customer: QboCustomer, reason: SkipReason) -> None:
        name = qbo_value(customer, "DisplayName")
        self.skipped.append(
            SkippedCustomer(customer_id=customer.Id, display_name=name, reason=reason)
        )


def _email(customer: QboCustomer) -> str | None:
    return qbo_value(customer, "PrimaryEmailAddr.Address")


def _match(
    draft: _Draft,
    group: list[QboCustomer],
    people: list[CrmPerson],
    customer_of: Mapping[int, str],
    settings: IntegrationSettings,
) -> None:
    """One email: its customers (lowest QBO id first) and its people (lowest id first)."""
    chosen, *others = group
    email = _email(chosen) or ""
    free = [p.id for p in people if p.id not in customer_of]
    taken = [p.id for p in people if p.id in customer_of]
    if taken and not free:
        for customer in group:
            draft.ambiguous.append(
                AmbiguousMatch(
                    reason="person_linked_elsewhere",
                    email=email,
                    passed_over_customer_id=customer.Id,
                    linked_customer_id=customer_of[taken[0]],
                    linked_person_id=taken[0],
                )
            )
        return
    person_id = free[0] if free else None
    if person_id is None:
        fields = new_person_fields(chosen, settings)
        draft.creates.append(PlannedPerson(customer_id=chosen.Id, email=email, fields=fields))
    else:
        draft.links.append(PlannedLink(customer_id=chosen.Id, person_id=person_id, email=email))
    for extra in free[1:]:
        draft.ambiguous.append(
            AmbiguousMatch(
                reason="several_crm_people",
                email=email,
                passed_over_person_id=extra,
                linked_customer_id=chosen.Id,
                linked_person_id=person_id,
            )
        )
    for customer in others:
        draft.ambiguous.append(
            AmbiguousMatch(
                reason="several_qbo_customers",
                email=email,
                passed_over_customer_id=customer.Id,
                linked_customer_id=chosen.Id,
                linked_person_id=person_id,
            )
        )


def plan_import(
    customers: Iterable[QboCustomer],
    people: Iterable[CrmPerson],
    companies: Iterable[CompanyRecord],
    links: Mapping[str, int],
    settings: IntegrationSettings,
) -> ImportPlan:
    """Rules 4.2-4.4 and 4.7. `people`: the CRM people found for the customers' emails; `links`:
    the tenant's existing links, QBO customer id → CRM person id."""
    draft = _Draft()
    people_by_email: dict[str, list[CrmPerson]] = {}
    unique = {person.id: person for person in people}  # the same person found twice is one
    for person in sorted(unique.values(), key=lambda p: p.id):
        if (key := match_key(person.email)) is not None:
            people_by_email.setdefault(key, []).append(person)
    groups: dict[str, list[QboCustomer]] = {}
    planned: list[QboCustomer] = []
    for customer in sorted(customers, key=lambda c: int(c.Id)):
        key = match_key(_email(customer))
        if not customer.Active:
            draft.skip(customer, "inactive")
        elif customer.Id in links:
            planned.append(customer)
            draft.already_linked.append(
                ExistingLink(customer_id=customer.Id, person_id=links[customer.Id])
            )
        elif key is None:
            draft.skip(customer, "no_email")
        else:
            groups.setdefault(key, []).append(customer)
    customer_of = {person_id: customer_id for customer_id, person_id in links.items()}
    for key, group in groups.items():
        _match(draft, group, people_by_email.get(key, []), customer_of, settings)
    attached = {link.customer_id for link in draft.links} | {p.customer_id for p in draft.creates}
    planned += [c for group in groups.values() for c in group if c.Id in attached]
    company_plan = plan_companies(planned, companies)
    return ImportPlan(
        links=tuple(draft.links),
        creates=tuple(draft.creates),
        already_linked=tuple(draft.already_linked),
        skipped=tuple(draft.skipped),
        ambiguous=tuple(draft.ambiguous),
        companies=company_plan.by_customer,
        companies_to_create=company_plan.to_create,
    )
