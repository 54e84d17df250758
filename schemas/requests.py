"""User and admin requests: what a person asked the engine to do. The engine decides whether to."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.common import FrozenModel, Money, NonNegativeMoney
from schemas.envelope import Envelope
from schemas.settings import IntegrationSettings


class Actor(FrozenModel):
    """Who asked. `is_admin` is asserted by the authenticated caller (the HTTP API checks it)."""

    user_id: int
    is_admin: bool


class RequestData(FrozenModel):
    actor: Actor


class InstallRequestedData(RequestData):
    crm_account_id: int
    realm_id: str | None = Field(default=None, pattern=r"^\d+$")


class ConnectRequestedData(RequestData):
    """Sent by the OAuth callback once the tokens for `realm_id` are stored (never the tokens)."""

    realm_id: str = Field(pattern=r"^\d+$")


class SettingsSaveRequestedData(RequestData):
    settings: IntegrationSettings


class ImportRequestedData(RequestData):
    dry_run: bool = False


class DocumentLine(FrozenModel):
    item_id: str = Field(pattern=r"^\d+$", description="QBO Item id")
    description: str | None = Field(default=None, max_length=4000)
    quantity: Money = Field(gt=0)
    unit_price: NonNegativeMoney


class DocumentCreateRequestedData(RequestData):
    deal_id: int
    person_id: int
    lines: tuple[DocumentLine, ...] = Field(min_length=1)
    send_now: bool = False
    send_to: str | None = Field(default=None, description="email; default the person's email")
    txn_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")


class DocumentSendRequestedData(RequestData):
    document_type: Literal["invoice", "estimate"]
    qbo_id: str = Field(pattern=r"^\d+$")
    send_to: str | None = None


class EstimateConvertRequestedData(RequestData):
    estimate_id: str = Field(pattern=r"^\d+$")


class RestoreRequestedData(RequestData):
    """Put one linked person's mapped fields back to what they were at `as_of` (issue 7).

    `values` are the CRM person's mapped fields as the history holds them at `as_of` (the
    planner reads them; the engine writes them through its ordinary commands, so permissions,
    direction and echo suppression apply). One request per person; the requests of one restore
    share `restore_id`.
    """

    person_id: int
    as_of: AwareDatetime
    values: dict[str, str | None] = Field(
        min_length=1, description="CRM field path → the value it had at as_of (null: empty)"
    )
    restore_id: str = Field(min_length=1, max_length=200, description="groups one restore")
    scope: Literal["record", "qbo_change", "import"] = Field(
        description="what was asked for: one record, what one QBO change or one import touched"
    )
    scope_id: str = Field(min_length=1, max_length=200, description="the record, change or import")


class InstallRequested(Envelope):
    type: Literal["qbsync.request.install.v1"] = "qbsync.request.install.v1"
    data: InstallRequestedData


class ConnectRequested(Envelope):
    type: Literal["qbsync.request.connect.v1"] = "qbsync.request.connect.v1"
    data: ConnectRequestedData


class DisconnectRequested(Envelope):
    type: Literal["qbsync.request.disconnect.v1"] = "qbsync.request.disconnect.v1"
    data: RequestData


class UninstallRequested(Envelope):
    type: Literal["qbsync.request.uninstall.v1"] = "qbsync.request.uninstall.v1"
    data: RequestData


class SettingsSaveRequested(Envelope):
    type: Literal["qbsync.request.settings.save.v1"] = "qbsync.request.settings.save.v1"
    data: SettingsSaveRequestedData


class EnableRequested(Envelope):
    type: Literal["qbsync.request.enable.v1"] = "qbsync.request.enable.v1"
    data: RequestData


class DisableRequested(Envelope):
    type: Literal["qbsync.request.disable.v1"] = "qbsync.request.disable.v1"
    data: RequestData


class ImportRequested(Envelope):
    type: Literal["qbsync.request.import.v1"] = "qbsync.request.import.v1"
    data: ImportRequestedData


class InvoiceCreateRequested(Envelope):
    type: Literal["qbsync.request.invoice.create.v1"] = "qbsync.request.invoice.create.v1"
    data: DocumentCreateRequestedData


class EstimateCreateRequested(Envelope):
    type: Literal["qbsync.request.estimate.create.v1"] = "qbsync.request.estimate.create.v1"
    data: DocumentCreateRequestedData


class DocumentSendRequested(Envelope):
    type: Literal["qbsync.request.document.send.v1"] = "qbsync.request.document.send.v1"
    data: DocumentSendRequestedData


class EstimateConvertRequested(Envelope):
    type: Literal["qbsync.request.estimate.convert.v1"] = "qbsync.request.estimate.convert.v1"
    data: EstimateConvertRequestedData


class RestoreRequested(Envelope):
    type: Literal["qbsync.request.restore.v1"] = "qbsync.request.restore.v1"
    data: RestoreRequestedData


REQUEST_EVENTS: tuple[type[Envelope], ...] = (
    InstallRequested,
    ConnectRequested,
    DisconnectRequested,
    UninstallRequested,
    SettingsSaveRequested,
    EnableRequested,
    DisableRequested,
    ImportRequested,
    InvoiceCreateRequested,
    EstimateCreateRequested,
    DocumentSendRequested,
    EstimateConvertRequested,
    RestoreRequested,
)
