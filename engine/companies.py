"""A QBO customer's company in the CRM: find by name, else create (SYNC-RULES 4.4).

The CRM company whose name equals the customer's CompanyName, trimmed and case-insensitively
(exact: "Acme" does not match "Acme Tools"), else the company is created.

Decisions where the rules are silent:
- Several CRM companies with the name: the oldest (lowest id), as for people (rule 4.3) and as
  the CRM's own `company_name` write does.
- One import creates a missing company once, whatever the number of its customers or the case
  they spell it in; the spelling of the customer with the lowest QBO id is the one created.
- A blank CompanyName means no company.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.fields import match_key, normalise, qbo_value
from schemas.common import FrozenModel
from schemas.crm import CrmCompany
from schemas.qbo import QboCustomer

CompanyRecord = CrmCompany | Mapping[str, Any]


class CompanyChoice(FrozenModel):
    """The CRM company for a customer: `company_id`, or None to create `name`."""

    name: str
    company_id: int | None = None


class CompanyPlan(FrozenModel):
    by_customer: dict[str, CompanyChoice]
    to_create: tuple[str, ...] = ()


def company_key(name: object) -> str | None:
    """What company names are compared on: trimmed and case-folded; None when blank."""
    return match_key(name)


def _id_and_name(company: CompanyRecord) -> tuple[int, object]:
    if isinstance(company, CrmCompany):
        return company.id, company.name
    return int(company["id"]), company.get("name")


def find_company(name: object, companies: Iterable[CompanyRecord]) -> CompanyChoice | None:
    """Rule 4.4: the lowest-id CRM company named `name`, else a choice to create it."""
    key, wanted = company_key(name), normalise(name)
    if key is None or wanted is None:
        return None
    ids = sorted(cid for cid, cname in map(_id_and_name, companies) if company_key(cname) == key)
    return CompanyChoice(name=wanted, company_id=ids[0] if ids else None)


def plan_companies(
    customers: Iterable[QboCustomer], companies: Iterable[CompanyRecord]
) -> CompanyPlan:
    """Rule 4.4 for an import: each customer's company, and each missing company created once."""
    known = list(companies)
    by_customer: dict[str, CompanyChoice] = {}
    to_create: dict[str, str] = {}
    for customer in sorted(customers, key=lambda c: int(c.Id)):
        choice = find_company(qbo_value(customer, "CompanyName"), known)
        if choice is None:
            continue
        if choice.company_id is None:
            spelling = to_create.setdefault(company_key(choice.name) or "", choice.name)
            choice = CompanyChoice(name=spelling)
        by_customer[customer.Id] = choice
    return CompanyPlan(by_customer=by_customer, to_create=tuple(to_create.values()))
