"""What the query functions and the query API answer (documented in the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.imports import ImportSummary

LinkStatus = Literal["active", "inactive", "ended"]
ImportStatus = Literal["running", "finished", "failed"]


class View(BaseModel):
    model_config = ConfigDict(frozen=True)


class LinkView(View):
    person_id: int = Field(description="CRM person id (a link follows it)")
    customer_id: str = Field(description="QBO customer id it is linked to now")
    realm_id: str | None = Field(description="QBO company (realm)")
    via: str | None = Field(description="how it was made: import, document, email_match")
    status: LinkStatus
    status_reason: str | None = Field(
        description="why inactive or ended: customer_inactive, customer_deleted, person_deleted"
    )
    first_linked_at: datetime | None
    last_synced_at: datetime | None = Field(description="last link made or write decided")
    last_input_id: str = Field(description="the input behind the latest link decision")
    last_decision_id: str
    conflicts: int = Field(description="conflicts recorded for this person")
    former_customer_ids: list[str] = Field(description="customers merged away in QBO")
    updated_at: datetime


class LinkPage(View):
    items: list[LinkView]
    total: int = Field(description="links matching the filter")
    limit: int
    offset: int


class ConflictView(View):
    """Both sides held different values for one mapped pair; `kept` won."""

    decision_id: str
    person_id: int
    customer_id: str
    rule: str = Field(description="first_import or concurrent_change")
    crm_field: str
    qbo_field: str
    crm_value: str | None
    qbo_value: str | None
    kept: Literal["crm", "qbo"]
    crm_changed_at: datetime | None
    qbo_changed_at: datetime | None
    at: datetime


class EngineState(View):
    """Both sides of a linked record as the engine knows them (its last link decisions)."""

    crm: dict[str, Any] | None = Field(description="the CRM person")
    qbo: dict[str, Any] | None = Field(description="the QBO customer")
    qbo_sync_token: str | None
    crm_changed_at: datetime | None
    qbo_changed_at: datetime | None


class LinkDetail(LinkView):
    engine: EngineState
    conflict_notes: list[ConflictView] = Field(description="most recent first")


class QboCustomerRecord(View):
    """The latest QBO customer from the QBO change events, linked or not."""

    customer_id: str
    realm_id: str
    snapshot: dict[str, Any] | None = Field(description="the entity in QBO's JSON shape")
    sync_token: str | None
    last_updated_at: datetime | None = Field(description="QBO MetaData.LastUpdatedTime")
    active: bool | None
    deleted_at: datetime | None
    merged_into: str | None = Field(description="surviving customer id after a QBO merge")
    event_id: str = Field(description="the change event it came from")


class CrmPersonRecord(View):
    """The latest CRM person from the CRM change events, linked or not."""

    person_id: int
    snapshot: dict[str, Any] | None = Field(description="the record as the CRM API returns it")
    updated_at: datetime | None = Field(description="the CRM's own updated_at")
    deleted_at: datetime | None
    event_id: str


class CustomerView(View):
    customer_id: str
    linked: bool = Field(description="an active or inactive link names this customer now")
    link: LinkView | None
    engine: EngineState | None = Field(description="when linked")
    latest_qbo: QboCustomerRecord | None


class PersonView(View):
    person_id: int
    linked: bool = Field(description="the person has an active or inactive link")
    link: LinkView | None
    engine: EngineState | None = Field(description="when a link exists")
    latest_crm: CrmPersonRecord | None


class ImportRunView(View):
    request_id: str = Field(description="id of the ImportRequested")
    dry_run: bool
    requested_by: int | None = Field(description="CRM user id of the admin")
    status: ImportStatus
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    counts: dict[str, int] = Field(description="latest progress counts")
    total: int | None = Field(description="customers to process, when known")
    summary: ImportSummary | None = Field(description="when finished")
    failure_reason: str | None


class ImportPage(View):
    items: list[ImportRunView] = Field(description="most recently started first")
    total: int
    limit: int
    offset: int


class PendingCommand(View):
    command_id: str
    command_type: str
    subject: str | None
    issued_at: datetime
    age_s: float = Field(description="seconds since it was issued")


class PendingCommands(View):
    count: int
    oldest_age_s: float | None
    oldest: list[PendingCommand] = Field(description="oldest first")


class FailedCommand(View):
    outcome_id: str
    command_id: str
    command_type: str
    reason: str
    code: str | None = Field(description="remote error code, e.g. QBO 6240")
    retryable: bool
    attempts: int
    at: datetime


class DeadLetterView(View):
    dead_letter_id: str
    stage: str
    reason: str
    errors: list[dict[str, Any]]
    source_topic: str
    partition: int | None
    offset: int | None
    original_id: str | None = Field(description="the dead-lettered event's id, when readable")
    at: datetime


class Failures(View):
    failed_commands_total: int
    dead_letters_total: int
    recent_failed_commands: list[FailedCommand] = Field(description="most recent first")
    recent_dead_letters: list[DeadLetterView] = Field(description="most recent first")


class Conflicts(View):
    total: int
    recent: list[ConflictView] = Field(description="most recent first")


class Lag(View):
    newest_input_at: datetime | None = Field(description="time of the newest input event")
    newest_decision_at: datetime | None = Field(
        description="time of the newest decision accounting for an input"
    )
    lag_s: float | None = Field(
        description="newest input minus newest decision, in seconds (0 when decisions are "
        "newer); None without inputs"
    )
    inputs: int = Field(description="inputs seen (CRM and QBO changes, requests)")
    undecided_inputs: int = Field(description="inputs without a decision or dead letter yet")
    oldest_undecided_at: datetime | None


class Decisions(View):
    """The decider's inputs (changes, requests, outcomes), each counted once per verdict."""

    applied: int = Field(description="inputs applied (requests: by what they changed)")
    ignored: int = Field(description="inputs deliberately ignored")
    ignored_by_reason: dict[str, int]
    denied: int = Field(description="requests refused by a rule")
    dead_lettered_inputs: int = Field(description="dead letters of input topics")


class LinkCounts(View):
    active: int
    inactive: int
    ended: int


class HealthView(View):
    tenant: str
    as_of: datetime
    lag: Lag
    decisions: Decisions
    pending_commands: PendingCommands
    failures: Failures
    conflicts: Conflicts
    links: LinkCounts


# --- documents (SYNC-RULES 3 and 6) ---------------------------------------------------------

DocumentType = Literal["invoice", "estimate"]
Origin = Literal["crm", "qbo"]


class DocumentLineView(View):
    line_id: str | None
    detail_type: str | None = Field(description="QBO DetailType, e.g. SalesItemLineDetail")
    item_id: str | None = Field(description="QBO Item id")
    item_name: str | None
    description: str | None
    quantity: Decimal | None
    unit_price: Decimal | None
    amount: Decimal | None


class LinkedTxnView(View):
    txn_id: str
    txn_type: str | None = Field(description="e.g. Estimate on an invoice, Invoice on an estimate")


class DocumentView(View):
    """An invoice or estimate as the CRM shows it. Money is exact decimal (JSON strings)."""

    document_type: DocumentType
    qbo_id: str
    doc_number: str | None
    txn_date: str | None = Field(description="YYYY-MM-DD, as QBO has it")
    due_date: str | None = Field(description="invoices")
    expiration_date: str | None = Field(description="estimates")
    customer_id: str | None = Field(description="QBO customer")
    customer_name: str | None
    person_id: int | None = Field(
        description="CRM person: the customer's current link, else the person it was made for"
    )
    company_id: int | None = Field(description="that person's CRM company")
    status: str = Field(
        description="invoice: open, partially_paid, paid, voided; estimate: pending, accepted, "
        "closed, rejected; either: deleted"
    )
    txn_status: str | None = Field(description="estimates: QBO TxnStatus")
    total: Decimal | None
    balance: Decimal | None = Field(description="invoices: what is still owed")
    emailed: bool = Field(description="QBO EmailStatus is EmailSent")
    email_status: str | None
    delivered_at: datetime | None = Field(description="QBO DeliveryInfo.DeliveryTime")
    voided: bool
    deleted_at: datetime | None
    lines: list[DocumentLineView]
    linked_txns: list[LinkedTxnView]
    origin: Origin = Field(description="crm: created from the CRM; qbo: created in QBO")
    deal_id: int | None = Field(description="the CRM deal, for documents created from the CRM")
    requested_by: int | None = Field(description="CRM user who asked for it")
    request_id: str | None = Field(description="the request that created it")
    from_estimate_id: str | None = Field(description="invoices converted from an estimate")
    sync_token: str | None
    last_updated_at: datetime | None = Field(description="QBO MetaData.LastUpdatedTime")
    updated_at: datetime = Field(description="time of the last event that changed it")


class DocumentDetail(DocumentView):
    snapshot: dict[str, Any] | None = Field(description="the last QBO document, in QBO's JSON")


class DocumentPage(View):
    items: list[DocumentView] = Field(description="newest transaction date first")
    total: int = Field(description="documents matching, that this user may see")
    limit: int
    offset: int


# --- requests -------------------------------------------------------------------------------

RequestVerdict = Literal["pending", "applied", "ignored", "denied", "dead_lettered"]
CommandStatus = Literal["pending", "succeeded", "failed", "dead_lettered"]


class RequestCommandView(View):
    command_id: str
    command_type: str | None = Field(description="None until the command itself is seen")
    subject: str | None
    issued_at: datetime | None
    status: CommandStatus
    attempts: int | None
    reason: str | None = Field(description="why it failed")
    code: str | None = Field(description="remote error code, e.g. QBO 6240")
    retryable: bool | None
    finished_at: datetime | None


class RequestDocumentView(View):
    action: Literal["created", "already_converted", "sent"] = Field(
        description="already_converted: the estimate had been invoiced before; this is that invoice"
    )
    document_type: DocumentType
    qbo_id: str
    document: DocumentView | None = Field(
        description="documents created from the CRM; None for a QBO-made one (its visibility "
        "depends on the user: read it through /documents)"
    )


class RequestView(View):
    """What became of one request (the request id is its event id)."""

    request_id: str
    request_type: str | None = Field(description="wire type, once the request is seen")
    received_at: datetime | None
    verdict: RequestVerdict = Field(
        description="pending until the engine accounts for it; denied by a rule; ignored (e.g. "
        "disabled); applied"
    )
    code: str | None = Field(
        description="denied: not_allowed, invalid, ...; ignored: disabled, not_installed, ..."
    )
    reason: str | None = Field(description="in words, for the user")
    decided_at: datetime | None
    commands: list[RequestCommandView] = Field(description="issued for it, in order")
    documents: list[RequestDocumentView] = Field(description="created or sent for it")
