"""What the query functions and the query API answer (documented in the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
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
