"""Rules of QBO's name-list entities: Customer and Item (reference sections 3.1, 3.4 and 11).

A builder takes the writable fields of a request (already cleaned; for a sparse update already
merged over the stored record) and returns the record's fields as QBO would store them, or raises
the fault QBO would answer. The store adds Id, SyncToken and MetaData.
"""

from __future__ import annotations

from typing import Any

from sandbox.qbo import faults
from sandbox.qbo.entities import money, number, to_decimal
from sandbox.qbo.faults import QboFault
from sandbox.qbo.realm import RealmState, Record

_NAME_PARTS = ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")
_NO_COLON = ("DisplayName", *_NAME_PARTS)
_HOME_CURRENCY = {"value": "USD", "name": "United States Dollar"}


def build_customer(fields: dict[str, Any], existing: Record | None, realm: RealmState) -> Record:
    record = dict(fields)
    if "DisplayName" not in record:
        # QBO derives the display name from the name parts when none is given.
        parts = [str(record[part]) for part in _NAME_PARTS if part in record]
        if not parts:
            raise faults.required_missing("DisplayName")
        record["DisplayName"] = " ".join(parts)
    for name_field in _NO_COLON:
        value = record.get(name_field)
        if isinstance(value, str) and any(ch in value for ch in ":\t\n"):
            raise invalid_format(name_field, "may not contain ':', tab or newline")
    email = record.get("PrimaryEmailAddr", {}).get("Address")
    if email is not None:
        check_email(email, "PrimaryEmailAddr")
    name = record["DisplayName"]
    owner = realm.name_owner("Customer", name)
    if owner is not None and (existing is None or owner != existing["Id"]):
        raise faults.duplicate_name(name)

    # Balance is an opening balance on create and read-only afterwards (reference 3.1).
    balance = (
        money(to_decimal(record.get("Balance", 0), "Balance"))
        if existing is None
        else existing.get("Balance", 0)
    )
    defaults = {
        "Active": True,
        "Job": False,
        "BillWithParent": False,
        "Taxable": False,
        "PreferredDeliveryMethod": "Print",
        "PrintOnCheckName": name,
    }
    record = {**defaults, **record}
    record["FullyQualifiedName"] = name
    record["Balance"] = balance
    record["BalanceWithJobs"] = balance
    # The currency is set once, on create.
    record["CurrencyRef"] = (existing or {}).get("CurrencyRef") or record.get(
        "CurrencyRef", _HOME_CURRENCY
    )
    for address in ("BillAddr", "ShipAddr"):
        if address in record:
            record[address] = _with_address_id(record[address], existing, address, realm)
    return record


def build_item(fields: dict[str, Any], existing: Record | None, realm: RealmState) -> Record:
    record = dict(fields)
    name = record.get("Name")
    if not isinstance(name, str):
        raise faults.required_missing("Name")
    if any(ch in name for ch in ":\t\n"):
        raise invalid_format("Name", "may not contain ':', tab or newline")
    owner = realm.name_owner("Item", name)
    if owner is not None and (existing is None or owner != existing["Id"]):
        raise QboFault(
            400,
            "6240",
            "Duplicate Name Exists Error",
            "The name supplied already exists. : Another product or service is already "
            f"using this name. Please use a different name. ({name})",
            element="Name",
        )
    defaults = {"Active": True, "Type": "Service", "Taxable": False, "TrackQtyOnHand": False}
    record = {**defaults, **record, "FullyQualifiedName": name}
    record["UnitPrice"] = number(to_decimal(record.get("UnitPrice", 0), "UnitPrice"))
    return record


def _with_address_id(
    address: dict[str, Any], existing: Record | None, field: str, realm: RealmState
) -> dict[str, Any]:
    # QBO gives every stored address a server id and keeps it across updates.
    if "Id" in address:
        return address
    previous_id = (existing or {}).get(field, {}).get("Id")
    return {"Id": previous_id or realm.new_address_id(), **address}


def check_email(address: str, element: str) -> None:
    local, _, domain = address.partition("@")
    if not local or "." not in domain:
        raise invalid_format(element, f"'{address}' is not a valid email address")


def invalid_format(element: str, why: str) -> QboFault:
    # Code 2050 is our best recollection of QBO's "invalid string length or format" (reference 9).
    return QboFault(
        400,
        "2050",
        "Invalid String Length or Format",
        f"String length or format is invalid : {element} {why}",
        element=element,
    )
