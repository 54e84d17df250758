"""Small builders of CRM people and QBO customers for the engine's table tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schemas.crm import CrmCompany, CrmPerson
from schemas.qbo import QboCustomer
from schemas.settings import IntegrationSettings

QBO_TO_CRM = IntegrationSettings(direction="qbo_to_crm")
CRM_TO_QBO = IntegrationSettings(direction="crm_to_qbo")
BOTH = IntegrationSettings(direction="both")
T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0.replace(minute=minutes)


def person(person_id: int = 4211, **fields: Any) -> CrmPerson:
    return CrmPerson.model_validate({"id": person_id, **fields})


def customer(
    values: dict[str, Any] | None = None,
    *,
    customer_id: str = "58",
    sync_token: str = "0",
    active: bool = True,
) -> QboCustomer:
    """A customer from dotted paths: {"PrimaryPhone.FreeFormNumber": "555"}."""
    doc: dict[str, Any] = {
        "Id": customer_id,
        "SyncToken": sync_token,
        "MetaData": {"LastUpdatedTime": T0.isoformat()},
        "Active": active,
    }
    for path, value in (values or {}).items():
        node = doc
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return QboCustomer.model_validate(doc)


def company(company_id: int, name: str | None) -> CrmCompany:
    return CrmCompany(id=company_id, name=name)


# The vendor's example (SYNC-RULES 4.6 and 5): John Smith in both systems; QBO has no phone,
# address or website; the CRM has phone 555-1234, an address and a website.
JOHN_IN_CRM = person(
    first_name="John",
    last_name="Smith",
    full_name="John Smith",
    email="john.smith@example.com",
    phone="555-1234",
    website="https://smith.example.com",
    work_address_1="12 Harbour St",
    work_city="Portland",
    work_state="OR",
    work_postal_code="97201",
    work_country="US",
    custom_fields={"custom_label_12": "gold"},
    position="Owner",
)
JOHN_IN_QBO = customer(
    {
        "DisplayName": "John Smith",
        "GivenName": "John",
        "FamilyName": "Smith",
        "PrimaryEmailAddr.Address": "john.smith@example.com",
    }
)
JOHNS_CRM_ONLY_DATA_IN_QBO = {
    "PrimaryPhone.FreeFormNumber": "555-1234",
    "WebAddr.URI": "https://smith.example.com",
    "BillAddr.Line1": "12 Harbour St",
    "BillAddr.City": "Portland",
    "BillAddr.CountrySubDivisionCode": "OR",
    "BillAddr.PostalCode": "97201",
    "BillAddr.Country": "US",
}
JOHNS_CRM_ONLY_DATA = {
    "phone": "555-1234",
    "website": "https://smith.example.com",
    "work_address_1": "12 Harbour St",
    "work_city": "Portland",
    "work_state": "OR",
    "work_postal_code": "97201",
    "work_country": "US",
}
