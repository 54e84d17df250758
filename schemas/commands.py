"""Commands: what the engine decided to do to a remote system. The envelope id is the command id.

Command ids are deterministic (uuid5 of the cause id and the action), so a redelivered cause yields
the same command, which the executor recognises and QBO receives as the same `requestid`.
`fields` maps dotted field paths (QBO: `PrimaryPhone.FreeFormNumber`; CRM: `phone`) to values;
null means "clear this field".
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.common import FrozenModel
from schemas.envelope import Envelope
from schemas.requests import DocumentLine
from schemas.settings import FieldPair

RealmId = str
FieldValues = dict[str, str | None]


class QboCommandData(FrozenModel):
    realm_id: RealmId = Field(pattern=r"^\d+$")


class CreateQboCustomerData(QboCommandData):
    person_id: int = Field(description="the CRM person the customer is created for")
    fields: FieldValues


class UpdateQboCustomerData(QboCommandData):
    customer_id: str = Field(pattern=r"^\d+$")
    sync_token: str = Field(pattern=r"^\d+$", description="SyncToken the change was decided on")
    fields: FieldValues = Field(description="sparse update: only the mapped fields that changed")
    base: FieldValues = Field(
        default_factory=dict,
        description="QBO's values of these fields when decided: on a stale SyncToken (5010) "
        "only the fields still holding them are re-applied, so a concurrent QBO edit survives",
    )
    person_id: int | None = Field(default=None, description="the linked CRM person")


class DocumentCommandData(QboCommandData):
    """What every document command carries back to the decider through its outcome."""

    request_id: str = Field(min_length=1, description="the CRM user's request this serves")
    requested_by: int = Field(description="CRM user id of the requester")


class CreateQboDocumentData(DocumentCommandData):
    """Create an invoice or estimate on a deal for one of its people (SYNC-RULES 6).

    `customer_id` is the linked customer; null means the person has none yet: the executor
    finds one by email (not linked to anyone else) or creates one from the person with
    `field_mapping`, and the outcome makes the link.
    """

    customer_id: str | None = Field(default=None, pattern=r"^\d+$")
    person_id: int
    deal_id: int
    lines: tuple[DocumentLine, ...] = Field(min_length=1)
    bill_email: str | None = None
    txn_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    send_now: bool = False
    send_to: str | None = Field(default=None, description="email; default the bill email")
    field_mapping: tuple[FieldPair, ...] = Field(
        default=(), description="the mapping a new customer is created with (settings)"
    )


class CreateQboInvoiceData(CreateQboDocumentData):
    from_estimate_id: str | None = Field(
        default=None, pattern=r"^\d+$", description="set when converting: becomes a LinkedTxn"
    )


class SendQboDocumentData(DocumentCommandData):
    document_type: Literal["invoice", "estimate"]
    qbo_id: str = Field(pattern=r"^\d+$")
    send_to: str | None = None


class ConvertQboEstimateData(DocumentCommandData):
    """Invoice an estimate: lines copied, a LinkedTxn to it, the estimate Closed (SYNC-RULES 6)."""

    estimate_id: str = Field(pattern=r"^\d+$")


class CreateCrmPersonData(FrozenModel):
    fields: FieldValues
    company_id: int | None = None


class UpdateCrmPersonData(FrozenModel):
    person_id: int
    fields: FieldValues


class CreateCrmCompanyData(FrozenModel):
    name: str = Field(min_length=1)


class RunImportData(FrozenModel):
    """Run (or resume) the import an admin requested; the import run's id is `request_id`."""

    request_id: str = Field(min_length=1)
    dry_run: bool = False
    requested_by: int


class PostCrmNotificationData(FrozenModel):
    title: str = Field(min_length=1, max_length=200)
    message: str = Field(min_length=1)


class CreateQboCustomer(Envelope):
    type: Literal["qbsync.command.qbo.customer.create.v1"] = "qbsync.command.qbo.customer.create.v1"
    data: CreateQboCustomerData


class UpdateQboCustomer(Envelope):
    type: Literal["qbsync.command.qbo.customer.update.v1"] = "qbsync.command.qbo.customer.update.v1"
    data: UpdateQboCustomerData


class CreateQboInvoice(Envelope):
    type: Literal["qbsync.command.qbo.invoice.create.v1"] = "qbsync.command.qbo.invoice.create.v1"
    data: CreateQboInvoiceData


class CreateQboEstimate(Envelope):
    type: Literal["qbsync.command.qbo.estimate.create.v1"] = "qbsync.command.qbo.estimate.create.v1"
    data: CreateQboDocumentData


class SendQboDocument(Envelope):
    type: Literal["qbsync.command.qbo.document.send.v1"] = "qbsync.command.qbo.document.send.v1"
    data: SendQboDocumentData


class ConvertQboEstimate(Envelope):
    type: Literal["qbsync.command.qbo.estimate.convert.v1"] = (
        "qbsync.command.qbo.estimate.convert.v1"
    )
    data: ConvertQboEstimateData


class CreateCrmPerson(Envelope):
    type: Literal["qbsync.command.crm.person.create.v1"] = "qbsync.command.crm.person.create.v1"
    data: CreateCrmPersonData


class UpdateCrmPerson(Envelope):
    type: Literal["qbsync.command.crm.person.update.v1"] = "qbsync.command.crm.person.update.v1"
    data: UpdateCrmPersonData


class CreateCrmCompany(Envelope):
    type: Literal["qbsync.command.crm.company.create.v1"] = "qbsync.command.crm.company.create.v1"
    data: CreateCrmCompanyData


class PostCrmNotification(Envelope):
    type: Literal["qbsync.command.crm.notification.post.v1"] = (
        "qbsync.command.crm.notification.post.v1"
    )
    data: PostCrmNotificationData


class RunImport(Envelope):
    """A long job, on the jobs topic so it never holds up ordinary commands."""

    type: Literal["qbsync.command.import.run.v1"] = "qbsync.command.import.run.v1"
    data: RunImportData


JOBS: tuple[type[Envelope], ...] = (RunImport,)

COMMANDS: tuple[type[Envelope], ...] = (
    CreateQboCustomer,
    UpdateQboCustomer,
    CreateQboInvoice,
    CreateQboEstimate,
    SendQboDocument,
    ConvertQboEstimate,
    CreateCrmPerson,
    UpdateCrmPerson,
    CreateCrmCompany,
    PostCrmNotification,
)
