"""Exact matching on top of the CRM's substring filters (SYNC-RULES 4.3 and 4.4).

`conditions[person_email]` and `conditions[company_name]` match substrings, case-insensitively:
`ann@x.com` finds `joann@x.com` too. Equality is confirmed here, trimmed and case-insensitive.
Only a person's `email` counts, not `email2`/`home_email`: the rules match the QBO customer's
primary email (mapped to `email`), and a secondary address may belong to someone else.
Matches come oldest first (lowest id), the one the import links.
"""

from __future__ import annotations

from collections.abc import Iterable

from schemas.crm import CrmCompany, CrmPerson


def normalized(text: str | None) -> str:
    return (text or "").strip().casefold()


def same_text(left: str | None, right: str | None) -> bool:
    """Equal once trimmed and case-folded; two blanks are never a match."""
    a, b = normalized(left), normalized(right)
    return bool(a) and a == b


def people_with_email(people: Iterable[CrmPerson], email: str) -> list[CrmPerson]:
    return sorted((p for p in people if same_text(p.email, email)), key=lambda p: p.id)


def companies_named(companies: Iterable[CrmCompany], name: str) -> list[CrmCompany]:
    return sorted((c for c in companies if same_text(c.name, name)), key=lambda c: c.id)
