"""What the sandbox knows about each QBO entity type, and the JSON hygiene every write goes through.

QBO returns only properties that have values (reference section 1), so request bodies are
cleaned of None, "", [] and {} before they are stored; clients such as python-quickbooks send
every attribute of their objects, most of them empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sandbox.qbo import faults
from sandbox.qbo.changes import EntityName
from sandbox.qbo.faults import QboFault

# Fields only the server writes; a client sending them back (as every read-modify-write does)
# must not be able to change them.
_ENVELOPE = frozenset({"Id", "SyncToken", "MetaData", "domain", "sparse"})


@dataclass(frozen=True)
class EntitySpec:
    name: EntityName
    # Name lists (customers, items) are deactivated, never deleted, and queries hide inactive ones.
    name_list: bool
    # The field that must be unique within the realm (case-insensitively), if any.
    unique_name: str | None
    read_only: frozenset[str]
    operations: frozenset[str]

    @property
    def path(self) -> str:
        return self.name.lower()


SPECS: dict[EntityName, EntitySpec] = {
    "Customer": EntitySpec(
        "Customer",
        name_list=True,
        unique_name="DisplayName",
        read_only=_ENVELOPE | {"FullyQualifiedName", "Level", "BalanceWithJobs", "IsProject"},
        operations=frozenset({"create", "update"}),
    ),
    "Item": EntitySpec(
        "Item",
        name_list=True,
        unique_name="Name",
        read_only=_ENVELOPE | {"FullyQualifiedName", "Level"},
        operations=frozenset({"create", "update"}),
    ),
    "Invoice": EntitySpec(
        "Invoice",
        name_list=False,
        unique_name=None,
        read_only=_ENVELOPE | {"TotalAmt", "Balance", "HomeTotalAmt", "HomeBalance", "InvoiceLink"},
        operations=frozenset({"create", "update", "delete", "void", "send"}),
    ),
    "Estimate": EntitySpec(
        "Estimate",
        name_list=False,
        unique_name=None,
        read_only=_ENVELOPE | {"TotalAmt", "HomeTotalAmt"},
        operations=frozenset({"create", "update", "delete", "send"}),
    ),
}

_BY_LOWER: dict[str, EntitySpec] = {name.lower(): spec for name, spec in SPECS.items()}


def spec_for_path(segment: str) -> EntitySpec:
    """The entity of a URI segment; QBO URIs are lower-case and case-sensitive."""
    spec = _BY_LOWER.get(segment)
    if spec is None or segment != spec.path:
        raise unsupported(f"Operation on '{segment}' is not supported by this sandbox")
    return spec


def spec_for_name(name: str) -> EntitySpec | None:
    """The entity named in a query or a CDC request (case-insensitive there)."""
    return _BY_LOWER.get(name.lower())


def unsupported(detail: str) -> QboFault:
    return QboFault(400, "500", "Unsupported Operation", detail)


def clean(value: Any) -> Any:
    """The value without empty properties, as QBO stores and returns it."""
    if isinstance(value, dict):
        cleaned = {key: clean(item) for key, item in value.items()}
        return {key: item for key, item in cleaned.items() if not _empty(item)}
    if isinstance(value, list):
        return [item for item in (clean(element) for element in value) if not _empty(item)]
    return value


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def writable(spec: EntitySpec, body: dict[str, Any]) -> dict[str, Any]:
    """The cleaned fields of a request body a client may set."""
    return {key: value for key, value in clean(body).items() if key not in spec.read_only}


# QBO refuses to empty these through a sparse update (reference 3.1); an empty value leaves them.
UNCLEARABLE_BY_SPARSE = frozenset({"DisplayName", "PrintOnCheckName"})


def sparse_merge(spec: EntitySpec, current: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The writable fields after a sparse update: supplied fields change, nested objects merge
    key by key (an address keeps its other lines), and an empty value ("" or null) clears."""
    kept = {key: value for key, value in current.items() if key not in spec.read_only}
    patch = {key: value for key, value in body.items() if key not in spec.read_only}
    for key in UNCLEARABLE_BY_SPARSE:
        if key in patch and _empty(patch[key]):
            del patch[key]
    merged: dict[str, Any] = clean(_merge(kept, patch))
    return merged


def _merge(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        elif _empty(value):
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def require_id(body: dict[str, Any]) -> str:
    raw = body.get("Id")
    if raw is None or str(raw) == "":
        raise faults.required_missing("Id")
    return str(raw)


def check_sync_token(spec: EntitySpec, body: dict[str, Any], current: dict[str, Any]) -> None:
    """Optimistic locking: QBO rejects a write based on an older version with 5010."""
    token = body.get("SyncToken")
    if token is None or str(token) == "":
        raise faults.required_missing("SyncToken")
    if str(token) != current["SyncToken"]:
        raise faults.stale_object(spec.name, current["Id"])


def stamp(
    record: dict[str, Any], id_: str, sync_token: int, created: str, updated: datetime
) -> dict[str, Any]:
    """The record with the envelope QBO puts on every entity."""
    return {
        "Id": id_,
        "SyncToken": str(sync_token),
        "domain": "QBO",
        "sparse": False,
        "MetaData": {"CreateTime": created, "LastUpdatedTime": stamp_time(updated)},
        **record,
    }


def stamp_time(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat(timespec="seconds")


def to_decimal(value: Any, element: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise faults.invalid_request(f"{element} is not a number: {value!r}", element) from None


def money(amount: Decimal) -> float:
    """An amount as QBO prints it: a JSON number rounded to cents."""
    return float(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def number(value: Decimal) -> float | int:
    """A quantity or unit price as a JSON number, without inventing decimals."""
    return int(value) if value == value.to_integral_value() else float(value)


def ref_value(ref: Any) -> str | None:
    if isinstance(ref, dict) and ref.get("value") not in (None, ""):
        return str(ref["value"])
    return None
