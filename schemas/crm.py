"""Pipeline CRM records (as the CRM API returns them) and the CRM change events."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, Field

from schemas.common import FrozenModel, Money, SnapshotModel, SourceTimestamp
from schemas.envelope import Envelope


class CrmPerson(SnapshotModel):
    """A CRM person (contact or lead). Unknown CRM keys are kept verbatim."""

    id: int
    type: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    website: str | None = None
    work_address_1: str | None = None
    work_address_2: str | None = None
    work_city: str | None = None
    work_state: str | None = None
    work_postal_code: str | None = None
    work_country: str | None = None
    company_id: int | None = None
    company_name: str | None = None
    user_id: int | None = Field(default=None, description="owner (CRM user id)")
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    created_at: SourceTimestamp | None = None
    updated_at: SourceTimestamp | None = None


class CrmCompany(SnapshotModel):
    id: int
    name: str | None = None
    email: str | None = None
    web: str | None = None
    phone1: str | None = None
    address_1: str | None = None
    address_2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None
    owner_id: int | None = None
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    created_at: SourceTimestamp | None = None
    updated_at: SourceTimestamp | None = None


class CrmDeal(SnapshotModel):
    id: int
    name: str | None = None
    value: Money | None = Field(default=None, description="the CRM sends a decimal string")
    company_id: int | None = None
    primary_contact_id: int | None = None
    person_ids: list[int] = Field(default_factory=list)
    deal_stage_id: int | None = None
    user_id: int | None = Field(default=None, description="owner (CRM user id)")
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    created_at: SourceTimestamp | None = None
    updated_at: SourceTimestamp | None = None


ChangeOp = Literal["created", "updated"]


class CrmPersonChangedData(FrozenModel):
    op: ChangeOp
    after: CrmPerson = Field(description="the full record after the change")
    before: CrmPerson | None = Field(default=None, description="the record before, when known")
    updated_at: SourceTimestamp = Field(description="the CRM's own updated_at of `after`")


class CrmCompanyChangedData(FrozenModel):
    op: ChangeOp
    after: CrmCompany
    before: CrmCompany | None = None
    updated_at: SourceTimestamp


class CrmDealChangedData(FrozenModel):
    op: ChangeOp
    after: CrmDeal
    before: CrmDeal | None = None
    updated_at: SourceTimestamp


class CrmRecordDeletedData(FrozenModel):
    id: int
    deleted_at: AwareDatetime = Field(description="when the deletion was observed")
    detected_by: Literal["webhook", "poll_sweep", "publisher"] = "publisher"


class CrmPersonDeletedData(CrmRecordDeletedData):
    before: CrmPerson | None = None


class CrmCompanyDeletedData(CrmRecordDeletedData):
    before: CrmCompany | None = None


class CrmDealDeletedData(CrmRecordDeletedData):
    before: CrmDeal | None = None


class CrmPersonChanged(Envelope):
    type: Literal["qbsync.crm.person.changed.v1"] = "qbsync.crm.person.changed.v1"
    data: CrmPersonChangedData


class CrmPersonDeleted(Envelope):
    type: Literal["qbsync.crm.person.deleted.v1"] = "qbsync.crm.person.deleted.v1"
    data: CrmPersonDeletedData


class CrmCompanyChanged(Envelope):
    type: Literal["qbsync.crm.company.changed.v1"] = "qbsync.crm.company.changed.v1"
    data: CrmCompanyChangedData


class CrmCompanyDeleted(Envelope):
    type: Literal["qbsync.crm.company.deleted.v1"] = "qbsync.crm.company.deleted.v1"
    data: CrmCompanyDeletedData


class CrmDealChanged(Envelope):
    type: Literal["qbsync.crm.deal.changed.v1"] = "qbsync.crm.deal.changed.v1"
    data: CrmDealChangedData


class CrmDealDeleted(Envelope):
    type: Literal["qbsync.crm.deal.deleted.v1"] = "qbsync.crm.deal.deleted.v1"
    data: CrmDealDeletedData


CRM_EVENTS: tuple[type[Envelope], ...] = (
    CrmPersonChanged,
    CrmPersonDeleted,
    CrmCompanyChanged,
    CrmCompanyDeleted,
    CrmDealChanged,
    CrmDealDeleted,
)
