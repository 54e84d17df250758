"""Reading and comparing mapped field values (SYNC-RULES 3: the field mapping, dotted paths).

Every rule of customer sync works on *mapped values*: a mapping of field path → `str | None`,
read from a CRM person (`phone`, `custom_fields.custom_label_12`) or a QBO customer
(`PrimaryPhone.FreeFormNumber`). Records may be the schema models or plain dicts of them.

Decisions where the rules are silent:
- "Empty" is one value: None, "" and whitespace-only all read as None, so an empty string and a
  missing field never look like a change. Values are trimmed when read, and trimmed values are
  what the engine writes.
- A CRM record without `full_name` reads as `first_name last_name`, as the CRM derives it.
- Non-text values (CRM custom fields can be numbers, booleans, lists) are rendered as text:
  booleans as `true`/`false`, numbers with `str()`, anything else as sorted JSON.
- Comparison is exact after trimming, except for email pairs (either side an email field), which
  compare case-insensitively: mail systems treat `John@X.com` and `john@x.com` as one address,
  and rule 4.3 matches emails case-insensitively too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel

from schemas.commands import FieldValues
from schemas.crm import CrmPerson
from schemas.qbo import QboCustomer
from schemas.settings import FieldPair, SyncDirection

CrmRecord = CrmPerson | Mapping[str, Any]
QboRecord = QboCustomer | Mapping[str, Any]
Side = Literal["crm", "qbo"]

CRM_EMAIL_FIELDS = frozenset({"email", "email2", "home_email"})
QBO_EMAIL_FIELDS = frozenset({"PrimaryEmailAddr.Address"})
# QBO refuses to clear these with a sparse update (ADR 0006): an empty value keeps the old one.
NEVER_CLEARED_IN_QBO = frozenset({"DisplayName", "PrintOnCheckName"})


def normalise(value: object) -> str | None:
    """One spelling per value: trimmed text, or None for every kind of empty (rule 3)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    return json.dumps(value, sort_keys=True, default=str)


def _walk(record: object, path: str) -> object:
    node = record
    for part in path.split("."):
        if isinstance(node, Mapping):
            node = node.get(part)
        elif isinstance(node, BaseModel):
            # extra="allow" snapshots expose unknown keys as attributes too
            node = getattr(node, part, None)
        else:
            return None
    return node


def derived_full_name(first: object, last: object) -> str | None:
    """The full name the CRM shows for these names: "first last" (engine/crm_names.py)."""
    return normalise(" ".join(part for part in (normalise(first), normalise(last)) if part))


def crm_value(person: CrmRecord, path: str) -> str | None:
    """A CRM person's value of a mapped field: `phone` or `custom_fields.<key>` (rule 3).

    The CRM derives `full_name`; a record without one (a partial dict) reads as the derived name.
    """
    value = normalise(_walk(person, path))
    if value is None and path == "full_name":
        return derived_full_name(_walk(person, "first_name"), _walk(person, "last_name"))
    return value


def qbo_value(customer: QboRecord, path: str) -> str | None:
    """A QBO customer's value at a dotted path, e.g. `BillAddr.City` (rule 3)."""
    return normalise(_walk(customer, path))


def crm_values(person: CrmRecord, mapping: Iterable[FieldPair]) -> FieldValues:
    """Every mapped CRM field of a person, keyed by CRM path."""
    return {pair.crm: crm_value(person, pair.crm) for pair in mapping}


def qbo_values(customer: QboRecord, mapping: Iterable[FieldPair]) -> FieldValues:
    """Every mapped QBO field of a customer, keyed by QBO path."""
    return {pair.qbo: qbo_value(customer, pair.qbo) for pair in mapping}


def is_email_pair(pair: FieldPair) -> bool:
    return pair.crm in CRM_EMAIL_FIELDS or pair.qbo in QBO_EMAIL_FIELDS


def same_value(pair: FieldPair, left: object, right: object) -> bool:
    """Equal after normalising; case-insensitive for email pairs only (module docstring)."""
    a, b = normalise(left), normalise(right)
    if a is None or b is None:
        return a is b
    return a.casefold() == b.casefold() if is_email_pair(pair) else a == b


def match_key(value: object) -> str | None:
    """The key emails (rule 4.3) and company names (4.4) match on: trimmed, case-folded."""
    text = normalise(value)
    return text.casefold() if text is not None else None


def without_qbo_clears_it_refuses(fields: Mapping[str, str | None]) -> FieldValues:
    """Drop an emptied DisplayName (or PrintOnCheckName): QBO keeps the old one (rule 5)."""
    return {k: v for k, v in fields.items() if not (v is None and k in NEVER_CLEARED_IN_QBO)}


def qbo_to_crm_applies(direction: SyncDirection) -> bool:
    """QBO changes reach the CRM with `qbo_to_crm` and `both` (rule 5)."""
    return direction in ("qbo_to_crm", "both")


def crm_to_qbo_applies(direction: SyncDirection) -> bool:
    """CRM changes reach QBO with `crm_to_qbo` and `both` (rule 5)."""
    return direction in ("crm_to_qbo", "both")
