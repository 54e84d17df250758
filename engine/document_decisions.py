"""Invoices and proposals from the CRM (SYNC-RULES 6): what a request and its outcome decide.

A request passes three gates, in order: the requester's permission (rule 6: on every request,
a denial with the reason), the integration being enabled (rule 2.6), and a QBO connection. It
then becomes one command. A create names the person's customer when the person has an active
link in the connected realm, else none: the executor finds one by email or creates one, and the
outcome makes the link (rule 6: "a link is made either way").

Decisions where the rules are silent:
- An inactive link's customer is not billed (QBO refuses inactive customers): the executor
  looks for another. The store keeps an inactive link alive, so no second link is made over it:
  the document is recorded for the person, and the inactive link stays as it is.
- The bill email is the request's `send_to`, else the linked person's email; the executor falls
  back to the customer's own email.
- A conversion's invoice goes to the estimate's customer: `customer_source` is "link" (the
  customer was given, not found or created) and `person_id` is the person linked to that
  customer, or null. A conversion has no deal: the estimate carries it (`from_estimate_id`).
- A link made by a document starts with no agreed values: each pair's baseline is QBO's value
  (engine/link_sync.py), as for a pair mapped after the link was made.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.accounting import Decision, applied, decision_meta, request_denied
from engine.documents import ConvertedEstimate, CreatedDocument, DocumentResult, SentDocument
from engine.fields import crm_value
from engine.link_state import LinkState
from engine.permissions import denial
from engine.state import TenantState
from schemas.commands import (
    ConvertQboEstimate,
    ConvertQboEstimateData,
    CreateQboDocumentData,
    CreateQboEstimate,
    CreateQboInvoice,
    CreateQboInvoiceData,
    SendQboDocument,
    SendQboDocumentData,
)
from schemas.decisions import (
    DocumentCreated,
    DocumentCreatedData,
    DocumentSent,
    DocumentSentData,
    LinkMade,
    LinkMadeData,
)
from schemas.envelope import Envelope, type_of
from schemas.outcomes import CommandSucceeded
from schemas.requests import (
    DocumentSendRequested,
    EstimateConvertRequested,
    EstimateCreateRequested,
    InvoiceCreateRequested,
    RequestData,
)
from schemas.settings import IntegrationSettings

CREATES = (type_of(CreateQboInvoice), type_of(CreateQboEstimate))
CONVERT = type_of(ConvertQboEstimate)
SEND = type_of(SendQboDocument)
DOCUMENT_COMMANDS = frozenset((*CREATES, CONVERT, SEND))


def _active_link(state: TenantState, person_id: int | None = None) -> LinkState | None:
    link = state.link
    if link is None or link.status != "active" or link.realm_id != state.realm_id:
        return None
    if person_id is not None and link.person_id != person_id:
        return None
    return link


# --- requests ---------------------------------------------------------------------------------


def document_request(
    state: TenantState, event: Envelope, settings: IntegrationSettings, now: datetime
) -> Decision:
    """Rule 6: the permission check first, on every request; a denial is an event with the
    reason, and nothing reaches QBO."""
    reason = denial(event, settings.permissions)
    if reason is not None:
        return Decision(events=(request_denied(event, "not_allowed", reason, now),))
    if not state.enabled:
        reason = "the integration is disabled: an admin must enable it first"
        return Decision(events=(request_denied(event, "disabled", reason, now),))
    if state.realm_id is None:
        reason = "the integration is not connected to QuickBooks: an admin must connect it"
        return Decision(events=(request_denied(event, "not_connected", reason, now),))
    command = _command(state, state.realm_id, event, settings, now)
    return applied(event, now, (), (command,))


def _command(
    state: TenantState,
    realm_id: str,
    event: Envelope,
    settings: IntegrationSettings,
    now: datetime,
) -> Envelope:
    data = event.data
    assert isinstance(data, RequestData)
    asked: dict[str, Any] = {
        "realm_id": realm_id,
        "request_id": event.id,
        "requested_by": data.actor.user_id,
    }
    if isinstance(event, DocumentSendRequested):
        sent = event.data
        return SendQboDocument(
            **decision_meta(event, "send-document", now, f"qbo/{sent.document_type}/{sent.qbo_id}"),
            data=SendQboDocumentData(
                **asked,
                document_type=sent.document_type,
                qbo_id=sent.qbo_id,
                send_to=sent.send_to,
            ),
        )
    if isinstance(event, EstimateConvertRequested):
        estimate_id = event.data.estimate_id
        return ConvertQboEstimate(
            **decision_meta(event, "convert-estimate", now, f"qbo/estimate/{estimate_id}"),
            data=ConvertQboEstimateData(**asked, estimate_id=estimate_id),
        )
    assert isinstance(event, InvoiceCreateRequested | EstimateCreateRequested)
    wanted = event.data
    link = _active_link(state, wanted.person_id)
    document: dict[str, Any] = {
        **asked,
        "customer_id": link.customer_id if link else None,
        "person_id": wanted.person_id,
        "deal_id": wanted.deal_id,
        "lines": wanted.lines,
        "bill_email": wanted.send_to or (crm_value(link.crm, "email") if link else None),
        "txn_date": wanted.txn_date,
        "send_now": wanted.send_now,
        "send_to": wanted.send_to,
        "field_mapping": settings.field_mapping,
    }
    meta = decision_meta(event, "create-document", now, f"crm/deal/{wanted.deal_id}")
    if isinstance(event, InvoiceCreateRequested):
        return CreateQboInvoice(**meta, data=CreateQboInvoiceData(**document))
    return CreateQboEstimate(**meta, data=CreateQboDocumentData(**document))


# --- outcomes ---------------------------------------------------------------------------------


def document_outcome(state: TenantState, event: CommandSucceeded, now: datetime) -> Decision:
    """What a document command's success tells: the document, and a link when one was made."""
    kind = event.data.command_type
    result = event.data.result
    if kind in CREATES:
        return applied(event, now, _created(state, event, CreatedDocument(**result), now), ())
    if kind == CONVERT:
        converted = ConvertedEstimate(**result)
        return applied(event, now, (_converted(state, event, converted, now),), ())
    sent = SentDocument(**result)
    return applied(event, now, (_sent(state, event, sent, now),), ())


def _common(
    event: CommandSucceeded, result: DocumentResult, person_id: int | None
) -> dict[str, Any]:
    document = result.document
    return {
        "input_id": event.id,
        "request_id": result.request_id,
        "requested_by": result.requested_by,
        "command_id": event.data.command_id,
        "document_type": result.document_type,
        "qbo_id": str(document["Id"]),
        "customer_id": str(document["CustomerRef"]["value"]),
        "person_id": person_id,
        "snapshot": document,
    }


def _subject(result: DocumentResult) -> str:
    return f"qbo/{result.document_type}/{result.document['Id']}"


def _link_company(link: LinkState | None) -> int | None:
    company = link.crm.get("company_id") if link else None
    return company if isinstance(company, int) else None


def _created(
    state: TenantState, event: CommandSucceeded, result: CreatedDocument, now: datetime
) -> tuple[Envelope, ...]:
    link = state.link if state.link and state.link.person_id == result.person_id else None
    company = result.company_id if result.company_id is not None else _link_company(link)
    created = DocumentCreated(
        **decision_meta(event, "document-created", now, _subject(result)),
        data=DocumentCreatedData(
            **_common(event, result, result.person_id),
            deal_id=result.deal_id,
            company_id=company,
            customer_source=result.customer_source,
            sent=result.sent,
        ),
    )
    # The store takes a LinkMade only for a person without a live link (an ended one restarts).
    unlinked = link is None or link.status == "ended"
    found = result.customer_source in ("email", "created")
    if not (found and unlinked and result.customer and result.person):
        return (created,)
    customer = result.customer
    made = LinkMade(
        **decision_meta(event, "link-made", now, f"crm/person/{result.person_id}"),
        data=LinkMadeData(
            input_id=event.id,
            person_id=result.person_id,
            customer_id=str(customer["Id"]),
            realm_id=result.realm_id,
            via="document",
            crm=result.person,
            qbo=customer,
            qbo_sync_token=str(customer["SyncToken"]),
        ),
    )
    return (created, made)


def _linked_to(state: TenantState, customer_id: str) -> LinkState | None:
    link = state.link
    if link is None or link.status == "ended" or link.customer_id != customer_id:
        return None
    return link


def _converted(
    state: TenantState, event: CommandSucceeded, result: ConvertedEstimate, now: datetime
) -> Envelope:
    link = _linked_to(state, result.customer_id)
    return DocumentCreated(
        **decision_meta(event, "document-created", now, _subject(result)),
        data=DocumentCreatedData(
            **_common(event, result, link.person_id if link else None),
            deal_id=None,
            company_id=_link_company(link),
            customer_source="link",
            from_estimate_id=str(result.estimate["Id"]),
            estimate=result.estimate,
            already_converted=result.already_converted,
        ),
    )


def _sent(
    state: TenantState, event: CommandSucceeded, result: SentDocument, now: datetime
) -> Envelope:
    link = _linked_to(state, str(result.document["CustomerRef"]["value"]))
    return DocumentSent(
        **decision_meta(event, "document-sent", now, _subject(result)),
        data=DocumentSentData(
            **_common(event, result, link.person_id if link else None), send_to=result.send_to
        ),
    )


def document_customer_of(result: dict[str, Any]) -> str | None:
    """The QBO customer a convert or send outcome is about (the shell loads its link)."""
    if isinstance(result.get("customer_id"), str):
        return str(result["customer_id"])
    document = result.get("document")
    ref = document.get("CustomerRef") if isinstance(document, dict) else None
    return str(ref["value"]) if isinstance(ref, dict) and "value" in ref else None
