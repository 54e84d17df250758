"""Document commands (SYNC-RULES 6): create an invoice or estimate for one of a deal's people,
convert an estimate into an invoice, send a document. The rules are engine/documents.py; this
does them with the gateways. Results are the models of engine/documents.py, which the decider
reads back.

Safe to run twice (SYNC-RULES 7): each QBO write carries a requestid derived from the command id
(`outcomes.request_id`), so a command run again after a crash gets QBO's replay of each earlier
answer, never a second invoice. The one exception is the customer created for a person: its
requestid derives from the person (`customer_key`), not from the command, so two commands racing
to bill the same unlinked person (two invoices asked for at once, say) get ONE customer: the
second create is answered with QBO's replay of the first.

A linked person (the command names the customer) costs one QBO call and no CRM call: the CRM is
not read, the customer is not read (QBO fills the document's customer reference), and whether
the person is still on the deal is not checked. An unlinked person is read from the CRM with the
deal, and must be one of the deal's people.

Decisions where the rules are silent:
- Sending at once is a second write; when QBO refuses it (no email address, say) the document
  still exists, so the command succeeds with `sent: false` and QBO's reason: the user can send
  it later. Failing the command would leave a document the CRM never hears of.
- A replayed customer creation answers with the customer as it was created. It is read again;
  if it has been made inactive since, a new one is created under a key derived from the old
  one (the same for every racing command, so they still agree).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from adapters.crm.ports import CrmGateway
from adapters.executor import qbo_commands
from adapters.executor.failures import CommandRefusedError
from adapters.executor.outcomes import Writes, as_json, request_id
from adapters.qbo.errors import QboError
from adapters.qbo.ports import QboGateway
from engine.documents import (
    EMAIL,
    ConvertedEstimate,
    CreatedDocument,
    CustomerSource,
    SentDocument,
    conversion_refusal,
    customer_fields_from_person,
    customer_for_person,
    estimate_lines,
    invoice_of,
    person_on_deal,
)
from engine.fields import normalise, qbo_value
from engine.ids import derived_id
from qbsync.logs import get_logger
from schemas.commands import (
    ConvertQboEstimate,
    CreateQboEstimate,
    CreateQboInvoice,
    SendQboDocument,
)
from schemas.crm import CrmDeal, CrmPerson
from schemas.decisions import DocumentType
from schemas.qbo import QboCustomer, QboEstimate, QboInvoice

log = get_logger(__name__)
Result = dict[str, Any]
LinkedPersonOf = Callable[[str, str], Awaitable[int | None]]
"""(tenant, QBO customer id) → the CRM person linked to that customer (live or inactive)."""
CreateDocument = CreateQboInvoice | CreateQboEstimate
REPLACED_CUSTOMERS = 3  # inactive customers replaced at most this often (module docstring)


async def nobody_is_linked(tenant: str, customer_id: str) -> int | None:
    """Without the store (tests, tools): no customer counts as linked to someone else."""
    return None


def customer_key(tenant: str, realm_id: str, person_id: int) -> str:
    """The requestid key of "the customer created for this person" (module docstring)."""
    return derived_id(f"{tenant}/{realm_id}/crm-person/{person_id}", "create-customer")


@dataclass(frozen=True)
class _Billed:
    """Whom the document is for: the customer (None: linked, not read) and where it came from."""

    source: CustomerSource
    customer_id: str
    customer: QboCustomer | None = None
    person: CrmPerson | None = None
    company_id: int | None = None


# --- create ------------------------------------------------------------------------------------


async def create_document(
    qbo: QboGateway,
    crm_for: Callable[[], CrmGateway],
    command: CreateDocument,
    writes: Writes,
    *,
    name_retries: int,
    linked_person_of: LinkedPersonOf,
) -> Result:
    data = command.data
    if data.customer_id is not None:
        billed = _Billed("link", data.customer_id)
    else:
        billed = await _customer_for(
            qbo, crm_for(), command, writes, name_retries, linked_person_of
        )
    bill_email = data.bill_email or (qbo_value(billed.customer, EMAIL) if billed.customer else None)
    writes.one()
    document: QboInvoice | QboEstimate = await _create(qbo, command, billed.customer_id, bill_email)
    sent, send_error = False, None
    if data.send_now:
        document, send_error = await _send_now(qbo, command, document, writes)
        sent = send_error is None
    return CreatedDocument(
        request_id=data.request_id,
        requested_by=data.requested_by,
        document_type="invoice" if isinstance(command, CreateQboInvoice) else "estimate",
        document=as_json(document),
        realm_id=data.realm_id,
        customer_source=billed.source,
        customer=as_json(billed.customer) if billed.customer else None,
        person_id=data.person_id,
        deal_id=data.deal_id,
        person=as_json(billed.person) if billed.person else None,
        company_id=billed.company_id,
        sent=sent,
        send_error=send_error,
    ).model_dump(mode="json")


async def _create(
    qbo: QboGateway, command: CreateDocument, customer_id: str, bill_email: str | None
) -> QboInvoice | QboEstimate:
    data, rid = command.data, request_id(command.id)
    if isinstance(command, CreateQboInvoice):
        return await qbo.create_invoice(
            customer_id,
            data.lines,
            rid,
            from_estimate_id=command.data.from_estimate_id,
            bill_email=bill_email,
            txn_date=data.txn_date,
        )
    return await qbo.create_estimate(
        customer_id, data.lines, rid, bill_email=bill_email, txn_date=data.txn_date
    )


async def _send_now(
    qbo: QboGateway, command: CreateDocument, document: QboInvoice | QboEstimate, writes: Writes
) -> tuple[QboInvoice | QboEstimate, str | None]:
    """The document as sent, or as it is with QBO's reason for not sending it."""
    kind: DocumentType = "invoice" if isinstance(command, CreateQboInvoice) else "estimate"
    rid = request_id(command.id, "send")
    writes.one()
    try:
        sent = await qbo.send(kind, document.Id, command.data.send_to, rid)
    except QboError as exc:
        log.warning("document_not_sent", command_id=command.id, qbo_id=document.Id, error=str(exc))
        return document, str(exc)
    return sent, None


async def _person_and_deal(crm: CrmGateway, command: CreateDocument) -> tuple[CrmPerson, CrmDeal]:
    data = command.data
    person = await crm.get_person(data.person_id)
    if person is None:
        missing = f"CRM person {data.person_id} does not exist (deleted?): there is no one to bill"
        raise CommandRefusedError(missing, "not_found")
    deal = await crm.get_deal(data.deal_id)
    if deal is None:
        raise CommandRefusedError(f"CRM deal {data.deal_id} does not exist (deleted?)", "not_found")
    if (reason := person_on_deal(deal, data.person_id)) is not None:
        raise CommandRefusedError(reason, "not_on_deal")
    return person, deal


async def _customer_for(
    qbo: QboGateway,
    crm: CrmGateway,
    command: CreateDocument,
    writes: Writes,
    name_retries: int,
    linked_person_of: LinkedPersonOf,
) -> _Billed:
    """Rule 6: the unlinked person's customer, found by email or created from the person."""
    data = command.data
    person, deal = await _person_and_deal(crm, command)
    company = person.company_id if person.company_id is not None else deal.company_id
    email = normalise(person.email)
    candidates = await qbo.customers_with_email(email) if email else []
    elsewhere: set[str] = set()
    for candidate in candidates:
        owner = await linked_person_of(command.tenant, candidate.Id)
        if owner is not None and owner != data.person_id:
            elsewhere.add(candidate.Id)
    found = customer_for_person(email, candidates, elsewhere)
    if found is not None:
        return _Billed("email", found.Id, found, person, company)
    fields = customer_fields_from_person(person, data.field_mapping)
    key = customer_key(command.tenant, data.realm_id, data.person_id)
    for _ in range(REPLACED_CUSTOMERS + 1):
        created = await qbo_commands.create_named_customer(
            qbo, key, data.person_id, fields, writes, name_retries
        )
        current = await qbo.get_customer(created.Id)  # a replay answers as it was created
        if current.Active:
            return _Billed("created", current.Id, current, person, company)
        key = derived_id(key, f"replaces:{current.Id}")
    reason = f"every customer created for CRM person {data.person_id} was made inactive in QBO"
    raise CommandRefusedError(reason, "customer_inactive")


# --- convert -----------------------------------------------------------------------------------


async def convert_estimate(qbo: QboGateway, command: ConvertQboEstimate, writes: Writes) -> Result:
    """Rule 6: the invoice copies the lines and links the estimate, which ends up Closed."""
    data = command.data
    estimate = await qbo.get_estimate(data.estimate_id)
    if (refusal := conversion_refusal(estimate)) is not None:
        code, reason = refusal
        raise CommandRefusedError(reason, code)
    earlier = invoice_of(estimate) if estimate.TxnStatus == "Closed" else None
    if earlier is not None:
        # Converted before (by an earlier run of this command, or in QBO): that invoice.
        return _converted(command, await qbo.get_invoice(earlier), estimate, already=True)
    writes.one()
    invoice = await qbo.create_invoice(
        estimate.CustomerRef.value,
        estimate_lines(estimate),
        request_id(command.id),
        from_estimate_id=estimate.Id,
        bill_email=estimate.BillEmail.Address if estimate.BillEmail else None,
    )
    estimate = await qbo.get_estimate(estimate.Id)
    if estimate.TxnStatus != "Closed":
        # QBO closes an estimate an invoice links to; should it not have, close it ourselves.
        # The requestid names the version closed, so a run after a stale token is a new write.
        writes.one()
        rid = request_id(command.id, f"close{estimate.SyncToken}")
        estimate = await qbo.update_estimate(
            estimate.Id, estimate.SyncToken, {"TxnStatus": "Closed"}, rid
        )
    return _converted(command, invoice, estimate, already=False)


def _converted(
    command: ConvertQboEstimate, invoice: QboInvoice, estimate: QboEstimate, *, already: bool
) -> Result:
    return ConvertedEstimate(
        request_id=command.data.request_id,
        requested_by=command.data.requested_by,
        document_type="invoice",
        document=as_json(invoice),
        estimate=as_json(estimate),
        customer_id=invoice.CustomerRef.value,
        already_converted=already,
    ).model_dump(mode="json")


# --- send --------------------------------------------------------------------------------------


async def send_document(qbo: QboGateway, command: SendQboDocument, writes: Writes) -> Result:
    data = command.data
    writes.one()
    document = await qbo.send(data.document_type, data.qbo_id, data.send_to, request_id(command.id))
    return SentDocument(
        request_id=data.request_id,
        requested_by=data.requested_by,
        document_type=data.document_type,
        document=as_json(document),
        send_to=data.send_to,
    ).model_dump(mode="json")
