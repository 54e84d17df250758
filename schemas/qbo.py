"""QuickBooks Online entities (in QBO's own JSON shape) and the QBO change events.

Field names are QBO's PascalCase on purpose: the snapshot is the entity exactly as QBO sent it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.common import FrozenModel, Money, SnapshotModel
from schemas.envelope import Envelope


class QboMetaData(SnapshotModel):
    CreateTime: AwareDatetime | None = None
    LastUpdatedTime: AwareDatetime


class QboRef(SnapshotModel):
    value: str
    name: str | None = None


class QboEmailAddress(SnapshotModel):
    Address: str | None = None


class QboPhone(SnapshotModel):
    FreeFormNumber: str | None = None


class QboWebAddress(SnapshotModel):
    URI: str | None = None


class QboAddress(SnapshotModel):
    Id: str | None = None
    Line1: str | None = None
    Line2: str | None = None
    City: str | None = None
    CountrySubDivisionCode: str | None = None
    PostalCode: str | None = None
    Country: str | None = None


class QboEntity(SnapshotModel):
    """What every QBO entity carries: its id, the optimistic-lock SyncToken and MetaData."""

    Id: str = Field(pattern=r"^\d+$")
    SyncToken: str = Field(pattern=r"^\d+$", description="QBO's version counter of the entity")
    MetaData: QboMetaData
    domain: str | None = None
    sparse: bool | None = None


class QboCustomer(QboEntity):
    DisplayName: str | None = None
    GivenName: str | None = None
    FamilyName: str | None = None
    CompanyName: str | None = None
    PrimaryEmailAddr: QboEmailAddress | None = None
    PrimaryPhone: QboPhone | None = None
    Mobile: QboPhone | None = None
    WebAddr: QboWebAddress | None = None
    BillAddr: QboAddress | None = None
    Active: bool = True


class QboItem(QboEntity):
    Name: str
    Type: str | None = None
    Description: str | None = None
    UnitPrice: Money | None = None
    Active: bool = True


class QboSalesItemLineDetail(SnapshotModel):
    ItemRef: QboRef | None = None
    Qty: Money | None = None
    UnitPrice: Money | None = None


class QboLine(SnapshotModel):
    Id: str | None = None
    LineNum: int | None = None
    Description: str | None = None
    Amount: Money | None = None
    DetailType: str
    SalesItemLineDetail: QboSalesItemLineDetail | None = None


class QboLinkedTxn(SnapshotModel):
    TxnId: str
    TxnType: str
    TxnLineId: str | None = None


class QboDeliveryInfo(SnapshotModel):
    DeliveryType: str | None = None
    DeliveryTime: AwareDatetime | None = None


class QboSalesDocument(QboEntity):
    """Fields invoices and estimates share."""

    DocNumber: str | None = None
    TxnDate: str | None = None
    CustomerRef: QboRef
    Line: list[QboLine] = Field(default_factory=list)
    TotalAmt: Money | None = None
    BillEmail: QboEmailAddress | None = None
    EmailStatus: str | None = None
    DeliveryInfo: QboDeliveryInfo | None = None
    LinkedTxn: list[QboLinkedTxn] = Field(default_factory=list)
    PrivateNote: str | None = None


class QboInvoice(QboSalesDocument):
    DueDate: str | None = None
    Balance: Money | None = None


class QboEstimate(QboSalesDocument):
    ExpirationDate: str | None = None
    TxnStatus: str | None = Field(default=None, description="Pending, Accepted, Closed, Rejected")


QboChangeOp = Literal["created", "updated", "emailed", "voided"]


class QboChangedData(FrozenModel):
    realm_id: str = Field(pattern=r"^\d+$")
    op: QboChangeOp


class QboCustomerChangedData(QboChangedData):
    entity: QboCustomer


class QboInvoiceChangedData(QboChangedData):
    entity: QboInvoice


class QboEstimateChangedData(QboChangedData):
    entity: QboEstimate


class QboItemChangedData(QboChangedData):
    entity: QboItem


class QboDeletedData(FrozenModel):
    """A QBO tombstone (CDC `status: Deleted`, or a webhook Delete)."""

    realm_id: str = Field(pattern=r"^\d+$")
    id: str = Field(pattern=r"^\d+$")
    deleted_at: AwareDatetime = Field(description="the tombstone's MetaData.LastUpdatedTime")


class QboMergedData(FrozenModel):
    """Two name-list records merged in QBO: `merged_id` is gone, `surviving_id` remains."""

    realm_id: str = Field(pattern=r"^\d+$")
    merged_id: str = Field(pattern=r"^\d+$")
    surviving_id: str = Field(pattern=r"^\d+$")
    merged_at: AwareDatetime


class QboCustomerMergedData(QboMergedData):
    surviving: QboCustomer | None = None


class QboItemMergedData(QboMergedData):
    surviving: QboItem | None = None


class QboCustomerChanged(Envelope):
    type: Literal["qbsync.qbo.customer.changed.v1"] = "qbsync.qbo.customer.changed.v1"
    data: QboCustomerChangedData


class QboCustomerDeleted(Envelope):
    type: Literal["qbsync.qbo.customer.deleted.v1"] = "qbsync.qbo.customer.deleted.v1"
    data: QboDeletedData


class QboCustomerMerged(Envelope):
    type: Literal["qbsync.qbo.customer.merged.v1"] = "qbsync.qbo.customer.merged.v1"
    data: QboCustomerMergedData


class QboInvoiceChanged(Envelope):
    type: Literal["qbsync.qbo.invoice.changed.v1"] = "qbsync.qbo.invoice.changed.v1"
    data: QboInvoiceChangedData


class QboInvoiceDeleted(Envelope):
    type: Literal["qbsync.qbo.invoice.deleted.v1"] = "qbsync.qbo.invoice.deleted.v1"
    data: QboDeletedData


class QboEstimateChanged(Envelope):
    type: Literal["qbsync.qbo.estimate.changed.v1"] = "qbsync.qbo.estimate.changed.v1"
    data: QboEstimateChangedData


class QboEstimateDeleted(Envelope):
    type: Literal["qbsync.qbo.estimate.deleted.v1"] = "qbsync.qbo.estimate.deleted.v1"
    data: QboDeletedData


class QboItemChanged(Envelope):
    type: Literal["qbsync.qbo.item.changed.v1"] = "qbsync.qbo.item.changed.v1"
    data: QboItemChangedData


class QboItemDeleted(Envelope):
    type: Literal["qbsync.qbo.item.deleted.v1"] = "qbsync.qbo.item.deleted.v1"
    data: QboDeletedData


class QboItemMerged(Envelope):
    type: Literal["qbsync.qbo.item.merged.v1"] = "qbsync.qbo.item.merged.v1"
    data: QboItemMergedData


# Merges exist only for QBO name lists (customers, items); transactions are voided or deleted.
QBO_EVENTS: tuple[type[Envelope], ...] = (
    QboCustomerChanged,
    QboCustomerDeleted,
    QboCustomerMerged,
    QboInvoiceChanged,
    QboInvoiceDeleted,
    QboEstimateChanged,
    QboEstimateDeleted,
    QboItemChanged,
    QboItemDeleted,
    QboItemMerged,
)
