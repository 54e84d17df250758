"""The engine's decisions: every input is accounted for as applied or deliberately ignored, and
every change the engine makes to what it knows (links, installations, imports) is a decision event
with its cause (`input_id`), so the decisions topic alone tells who changed what, and from what.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, Field

from schemas.common import FrozenModel
from schemas.envelope import Envelope
from schemas.imports import ImportSummary
from schemas.settings import IntegrationSettings

IgnoreReason = Literal[
    "not_linked",
    "echo",
    "disabled",
    "direction",
    "duplicate",
    "not_installed",
    "not_handled",
    "no_mapped_change",
    "link_ended",
    "stale",
]
Side = Literal["crm", "qbo"]


class InputAccountedData(FrozenModel):
    input_id: str = Field(min_length=1, description="id of the input event")
    input_type: str = Field(min_length=1, description="wire type of the input event")


class InputIgnoredData(InputAccountedData):
    reason: IgnoreReason
    detail: str = ""


class InputAppliedData(InputAccountedData):
    command_ids: tuple[str, ...] = ()


class InputIgnored(Envelope):
    type: Literal["qbsync.decision.input.ignored.v1"] = "qbsync.decision.input.ignored.v1"
    data: InputIgnoredData


class InputApplied(Envelope):
    type: Literal["qbsync.decision.input.applied.v1"] = "qbsync.decision.input.applied.v1"
    data: InputAppliedData


DenialCode = Literal["not_allowed", "invalid", "not_connected", "invalid_transition", "disabled"]


class RequestDeniedData(InputAccountedData):
    """A request refused by a rule: who may do it, or what state it needs."""

    code: DenialCode
    reason: str = Field(min_length=1)
    actor_user_id: int


class RequestDenied(Envelope):
    type: Literal["qbsync.decision.request.denied.v1"] = "qbsync.decision.request.denied.v1"
    data: RequestDeniedData


# --- installations -------------------------------------------------------------------------

InstallationChange = Literal[
    "installed", "connected", "disconnected", "settings_saved", "enabled", "disabled", "uninstalled"
]


class InstallationChangedData(FrozenModel):
    input_id: str
    change: InstallationChange
    actor_user_id: int
    crm_account_id: int | None = None
    realm_id: str | None = None
    settings: IntegrationSettings | None = Field(default=None, description="when saved")


class InstallationChanged(Envelope):
    type: Literal["qbsync.decision.installation.changed.v1"] = (
        "qbsync.decision.installation.changed.v1"
    )
    data: InstallationChangedData


# --- customer links ------------------------------------------------------------------------


class FieldChange(FrozenModel):
    """One field of one side, before and after (None: empty)."""

    field: str = Field(description="dotted path on the side it belongs to")
    before: str | None
    after: str | None


class ConflictNote(FrozenModel):
    """Both sides held different values for one mapped pair; `kept` won, the other is here."""

    rule: Literal["first_import", "concurrent_change"]
    crm_field: str
    qbo_field: str
    crm_value: str | None
    qbo_value: str | None
    kept: Side
    crm_changed_at: AwareDatetime | None = None
    qbo_changed_at: AwareDatetime | None = None


class AgreedValue(FrozenModel):
    """The value both sides should hold for one mapped pair (keyed by CRM path), the source time
    and side of the change that set it, and the command still writing it to the other side."""

    value: str | None
    at: AwareDatetime | None = None
    side: Side | Literal["import"]
    pending: str | None = Field(default=None, description="command id, until its outcome")


class LinkDecisionData(FrozenModel):
    input_id: str = Field(min_length=1, description="the event, outcome or import that caused it")
    person_id: int
    customer_id: str = Field(pattern=r"^\d+$")


class LinkMadeData(LinkDecisionData):
    """A person was linked to a customer (import by email, or a document)."""

    realm_id: str
    via: Literal["import", "document", "email_match"]
    crm: dict[str, Any] = Field(description="the CRM person as linked (after the merge)")
    qbo: dict[str, Any] = Field(description="the QBO customer as linked")
    qbo_sync_token: str
    import_request_id: str | None = None
    person_created: bool = False
    agreed: dict[str, AgreedValue] = Field(default_factory=dict)
    crm_changes: tuple[FieldChange, ...] = Field(default=(), description="first-import merge")
    qbo_changes: tuple[FieldChange, ...] = Field(default=(), description="written back (both)")
    conflicts: tuple[ConflictNote, ...] = ()


class LinkObservedData(LinkDecisionData):
    """A side of a link as the engine now knows it, with nothing to write to the other side."""

    side: Side
    snapshot: dict[str, Any]
    version: str | None = Field(default=None, description="SyncToken or updated_at")
    changed_at: AwareDatetime | None = None
    confirms: str | None = Field(default=None, description="the command whose outcome this is")
    conflicts: tuple[ConflictNote, ...] = Field(
        default=(), description="changes of this side that lost to a later one of the other"
    )


class LinkSyncedData(LinkDecisionData):
    """A change of one side is being written to the other, by `command_id`."""

    written_side: Side
    command_id: str
    changes: tuple[FieldChange, ...] = Field(description="the written side, before and after")
    crm: dict[str, Any] = Field(description="the CRM person as it will be after the write")
    qbo: dict[str, Any] = Field(description="the QBO customer as it will be after the write")
    qbo_sync_token: str
    crm_changed_at: AwareDatetime | None = None
    qbo_changed_at: AwareDatetime | None = None
    agreed: dict[str, AgreedValue] = Field(default_factory=dict, description="pairs it changes")
    conflicts: tuple[ConflictNote, ...] = ()


class LinkEndedData(LinkDecisionData):
    reason: Literal["person_deleted"]


class LinkInactiveData(LinkDecisionData):
    reason: Literal["customer_inactive", "customer_deleted"]


class LinkMovedData(LinkDecisionData):
    """QBO merged the linked customer into `to_customer_id`; the link follows the survivor."""

    to_customer_id: str = Field(pattern=r"^\d+$")
    qbo: dict[str, Any] | None = None
    qbo_sync_token: str | None = None


class LinkMade(Envelope):
    type: Literal["qbsync.decision.link.made.v1"] = "qbsync.decision.link.made.v1"
    data: LinkMadeData


class LinkObserved(Envelope):
    type: Literal["qbsync.decision.link.observed.v1"] = "qbsync.decision.link.observed.v1"
    data: LinkObservedData


class LinkSynced(Envelope):
    type: Literal["qbsync.decision.link.synced.v1"] = "qbsync.decision.link.synced.v1"
    data: LinkSyncedData


class LinkEnded(Envelope):
    type: Literal["qbsync.decision.link.ended.v1"] = "qbsync.decision.link.ended.v1"
    data: LinkEndedData


class LinkInactive(Envelope):
    type: Literal["qbsync.decision.link.inactive.v1"] = "qbsync.decision.link.inactive.v1"
    data: LinkInactiveData


class LinkMoved(Envelope):
    type: Literal["qbsync.decision.link.moved.v1"] = "qbsync.decision.link.moved.v1"
    data: LinkMovedData


LINK_DECISIONS: tuple[type[Envelope], ...] = (
    LinkMade,
    LinkObserved,
    LinkSynced,
    LinkEnded,
    LinkInactive,
    LinkMoved,
)

# --- imports -------------------------------------------------------------------------------


class ImportDecisionData(FrozenModel):
    request_id: str = Field(min_length=1, description="id of the ImportRequested")
    dry_run: bool = False


class ImportStartedData(ImportDecisionData):
    requested_by: int


class ImportProgressedData(ImportDecisionData):
    counts: dict[str, int]
    total: int | None = Field(default=None, description="customers to process, when known")


class ImportFinishedData(ImportDecisionData):
    summary: ImportSummary


class ImportFailedData(ImportDecisionData):
    reason: str = Field(min_length=1)


class ImportStarted(Envelope):
    type: Literal["qbsync.decision.import.started.v1"] = "qbsync.decision.import.started.v1"
    data: ImportStartedData


class ImportProgressed(Envelope):
    type: Literal["qbsync.decision.import.progressed.v1"] = "qbsync.decision.import.progressed.v1"
    data: ImportProgressedData


class ImportFinished(Envelope):
    type: Literal["qbsync.decision.import.finished.v1"] = "qbsync.decision.import.finished.v1"
    data: ImportFinishedData


class ImportFailed(Envelope):
    type: Literal["qbsync.decision.import.failed.v1"] = "qbsync.decision.import.failed.v1"
    data: ImportFailedData


# --- documents (SYNC-RULES 6) ----------------------------------------------------------------

DocumentType = Literal["invoice", "estimate"]


class DocumentDecisionData(FrozenModel):
    input_id: str = Field(description="the outcome that reported the QBO write")
    request_id: str = Field(min_length=1, description="the CRM user's request")
    requested_by: int
    command_id: str
    document_type: DocumentType
    qbo_id: str = Field(pattern=r"^\d+$")
    customer_id: str = Field(pattern=r"^\d+$")
    person_id: int | None = Field(default=None, description="the linked CRM person")
    snapshot: dict[str, Any] = Field(description="the QBO document as the write left it")


class DocumentCreatedData(DocumentDecisionData):
    """A document created from the CRM; shown to everyone who can see its deal (SYNC-RULES 3)."""

    deal_id: int | None = Field(default=None, description="null for a conversion: see estimate")
    company_id: int | None = None
    customer_source: Literal["link", "email", "created"] = Field(
        description="the linked customer, one found by email, or one created for the person"
    )
    sent: bool = False
    from_estimate_id: str | None = Field(default=None, pattern=r"^\d+$")
    estimate: dict[str, Any] | None = Field(
        default=None, description="the converted estimate after the conversion (Closed)"
    )
    already_converted: bool = Field(
        default=False, description="the estimate had been invoiced before: that invoice"
    )


class DocumentSentData(DocumentDecisionData):
    send_to: str | None = None


class DocumentCreated(Envelope):
    type: Literal["qbsync.decision.document.created.v1"] = "qbsync.decision.document.created.v1"
    data: DocumentCreatedData


class DocumentSent(Envelope):
    type: Literal["qbsync.decision.document.sent.v1"] = "qbsync.decision.document.sent.v1"
    data: DocumentSentData


DECISIONS: tuple[type[Envelope], ...] = (
    InputIgnored,
    InputApplied,
    RequestDenied,
    InstallationChanged,
    *LINK_DECISIONS,
    ImportStarted,
    ImportProgressed,
    ImportFinished,
    ImportFailed,
    DocumentCreated,
    DocumentSent,
)
