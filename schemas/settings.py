"""Integration settings as they travel in a save-settings request (SYNC-RULES section 3).

A mapping that names an unknown field is rejected here, when it is saved, not when first used.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from schemas.common import FrozenModel

SyncDirection = Literal["both", "crm_to_qbo", "qbo_to_crm"]
Visibility = Literal["admin", "everyone", "installation_owner"]

CRM_PERSON_FIELDS: frozenset[str] = frozenset(
    {
        "first_name",
        "last_name",
        "full_name",
        "company_name",
        "position",
        "summary",
        "email",
        "email2",
        "home_email",
        "phone",
        "mobile",
        "home_phone",
        "fax",
        "website",
        "work_address_1",
        "work_address_2",
        "work_city",
        "work_state",
        "work_postal_code",
        "work_country",
        "home_address_1",
        "home_address_2",
        "home_city",
        "home_state",
        "home_postal_code",
        "home_country",
    }
)
# Custom fields are addressed as `custom_fields.<key>` (e.g. custom_fields.custom_label_12).
_CRM_CUSTOM_FIELD = re.compile(r"^custom_fields\.[A-Za-z0-9_]+$")

_QBO_ADDRESS_PARTS = (
    "Line1",
    "Line2",
    "Line3",
    "Line4",
    "Line5",
    "City",
    "CountrySubDivisionCode",
    "PostalCode",
    "Country",
)
QBO_CUSTOMER_FIELDS: frozenset[str] = frozenset(
    {
        "Title",
        "GivenName",
        "MiddleName",
        "FamilyName",
        "Suffix",
        "DisplayName",
        "CompanyName",
        "PrintOnCheckName",
        "Notes",
        "PrimaryEmailAddr.Address",
        "PrimaryPhone.FreeFormNumber",
        "Mobile.FreeFormNumber",
        "AlternatePhone.FreeFormNumber",
        "Fax.FreeFormNumber",
        "WebAddr.URI",
        *(f"BillAddr.{part}" for part in _QBO_ADDRESS_PARTS),
        *(f"ShipAddr.{part}" for part in _QBO_ADDRESS_PARTS),
    }
)


def is_known_crm_field(path: str) -> bool:
    return path in CRM_PERSON_FIELDS or bool(_CRM_CUSTOM_FIELD.match(path))


class FieldPair(FrozenModel):
    """One mapped pair: a CRM person field and a QBO customer field (dotted paths)."""

    crm: str = Field(min_length=1)
    qbo: str = Field(min_length=1)

    @field_validator("crm")
    @classmethod
    def _known_crm_field(cls, value: str) -> str:
        if not is_known_crm_field(value):
            raise ValueError(f"unknown CRM person field {value!r}")
        return value

    @field_validator("qbo")
    @classmethod
    def _known_qbo_field(cls, value: str) -> str:
        if value not in QBO_CUSTOMER_FIELDS:
            raise ValueError(f"unknown QBO customer field {value!r}")
        return value


DEFAULT_FIELD_MAPPING: tuple[FieldPair, ...] = tuple(
    FieldPair(crm=crm, qbo=qbo)
    for crm, qbo in (
        ("first_name", "GivenName"),
        ("last_name", "FamilyName"),
        ("full_name", "DisplayName"),
        ("company_name", "CompanyName"),
        ("email", "PrimaryEmailAddr.Address"),
        ("phone", "PrimaryPhone.FreeFormNumber"),
        ("mobile", "Mobile.FreeFormNumber"),
        ("website", "WebAddr.URI"),
        ("work_address_1", "BillAddr.Line1"),
        ("work_address_2", "BillAddr.Line2"),
        ("work_city", "BillAddr.City"),
        ("work_state", "BillAddr.CountrySubDivisionCode"),
        ("work_postal_code", "BillAddr.PostalCode"),
        ("work_country", "BillAddr.Country"),
    )
)


class Permissions(FrozenModel):
    """Switches for basic users; admins can always do everything. All off by default."""

    basic_can_create_estimates: bool = False
    basic_can_create_invoices: bool = False
    basic_can_convert_estimates: bool = False


class IntegrationSettings(FrozenModel):
    direction: SyncDirection = "qbo_to_crm"
    field_mapping: tuple[FieldPair, ...] = DEFAULT_FIELD_MAPPING
    permissions: Permissions = Permissions()
    # (decision) documents created in QBO are shown to admins only until an admin widens it.
    visibility: Visibility = "admin"

    @model_validator(mode="after")
    def _each_field_mapped_once(self) -> IntegrationSettings:
        for side in ("crm", "qbo"):
            seen: set[str] = set()
            for pair in self.field_mapping:
                name = getattr(pair, side)
                if name in seen:
                    raise ValueError(f"{side} field {name!r} is mapped more than once")
                seen.add(name)
        return self
