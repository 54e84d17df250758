"""Invoices and proposals from the CRM (SYNC-RULES 6): the rules, without I/O.

The executor runs them (adapters/executor/document_commands.py) and the decider reads what it
reports through the result models below, so both sides share one typed contract.

Decisions where the rules are silent:
- "Find one by email" is the import's rule (4.3): active customers whose PrimaryEmailAddr equals
  the person's email, trimmed and case-insensitively; several → the lowest QBO id. A customer
  linked to another person is passed over (a link joins one person to one customer, rule 1). A
  person without an email finds none, and a customer is created.
- A new customer is the person's mapped values (settings' field mapping, CRM → QBO). It always
  has a DisplayName: the mapped one, else the person's full name, else `CRM person <id>`, made
  acceptable to QBO (engine/names.py). Clashes get the suffix of rule 6 when it is written.
- A conversion copies the item lines (SalesItemLineDetail: item, description, quantity, unit
  price). Lines our document lines cannot express (description-only, discount, group, a line
  without an item) are not copied; an estimate with no item line cannot be converted. A
  missing quantity is 1 and a missing unit price is the line's amount per unit; a line with no
  positive quantity or with a negative price (a discount in disguise) is not copied either.
- A Rejected estimate is not converted; neither is a Closed one without an invoice (closed by
  hand in QBO: QBO would ignore the link). A Closed one with an invoice was converted already:
  that invoice is the answer, which is also what makes a conversion safe to run twice.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from decimal import Decimal
from typing import Any, Literal

from pydantic import ConfigDict, Field

from engine.fields import crm_value, match_key, qbo_value
from engine.names import clean_display_name
from schemas.commands import FieldValues
from schemas.common import FrozenModel
from schemas.crm import CrmDeal, CrmPerson
from schemas.decisions import DocumentType
from schemas.qbo import QboCustomer, QboEstimate
from schemas.requests import DocumentLine
from schemas.settings import FieldPair

CustomerSource = Literal["link", "email", "created"]
EMAIL = "PrimaryEmailAddr.Address"


# --- the executor's results, as the decider reads them ---------------------------------------


class DocumentResult(FrozenModel):
    """What every document command reports (`CommandSucceeded.data.result`)."""

    # A newer executor may report more than this decider reads.
    model_config = ConfigDict(frozen=True, extra="ignore")

    request_id: str = Field(min_length=1)
    requested_by: int
    document_type: DocumentType
    document: dict[str, Any] = Field(description="the QBO invoice or estimate, as QBO answered")


class CreatedDocument(DocumentResult):
    realm_id: str
    customer_source: CustomerSource
    customer: dict[str, Any] | None = Field(
        description="the customer found or created; null for a linked one (not read)"
    )
    person_id: int
    deal_id: int
    person: dict[str, Any] | None = Field(description="the CRM person, when it was read")
    company_id: int | None = None
    sent: bool = False
    send_error: str | None = Field(
        default=None, description="why QBO refused to send it (the document exists all the same)"
    )


class ConvertedEstimate(DocumentResult):
    estimate: dict[str, Any] = Field(description="the estimate after the conversion")
    customer_id: str
    already_converted: bool


class SentDocument(DocumentResult):
    send_to: str | None = None


# --- finding or creating the person's customer -----------------------------------------------


def person_on_deal(deal: CrmDeal, person_id: int) -> str | None:
    """Why the person cannot be billed on this deal, or None when they are one of its people."""
    if person_id in deal.person_ids or person_id == deal.primary_contact_id:
        return None
    return f"CRM person {person_id} is not one of the people of deal {deal.id}"


def customer_for_person(
    email: str | None, candidates: Iterable[QboCustomer], linked_elsewhere: Collection[str]
) -> QboCustomer | None:
    """Rule 6, "find one by email": the customer to link, or None (create one).

    `candidates`: QBO customers found for the email (the query's own matching is not trusted:
    equality is confirmed here); `linked_elsewhere`: ids of customers linked to another person.
    """
    wanted = match_key(email)
    if wanted is None:
        return None
    matching = [
        customer
        for customer in candidates
        if customer.Active
        and customer.Id not in linked_elsewhere
        and match_key(qbo_value(customer, EMAIL)) == wanted
    ]
    return min(matching, key=lambda customer: int(customer.Id), default=None)


def customer_fields_from_person(
    person: CrmPerson, field_mapping: Iterable[FieldPair]
) -> FieldValues:
    """The QBO fields of a customer created for `person`: every non-empty mapped value, and a
    DisplayName QBO accepts (module docstring)."""
    fields: FieldValues = {
        pair.qbo: value for pair in field_mapping if (value := crm_value(person, pair.crm))
    }
    name = fields.get("DisplayName") or crm_value(person, "full_name")
    fields["DisplayName"] = clean_display_name(name, person.id)
    return fields


# --- converting an estimate ------------------------------------------------------------------


def invoice_of(estimate: QboEstimate) -> str | None:
    """The invoice an estimate was converted into (its LinkedTxn), if any."""
    invoices = [link.TxnId for link in estimate.LinkedTxn if link.TxnType == "Invoice"]
    return invoices[0] if invoices else None


def conversion_refusal(estimate: QboEstimate) -> tuple[str, str] | None:
    """(code, reason) when this estimate cannot be invoiced; None when it can, or already was."""
    if estimate.TxnStatus == "Closed":
        if invoice_of(estimate) is not None:
            return None
        return "estimate_closed", (
            f"estimate {estimate.Id} was closed in QBO without an invoice, and QBO does not "
            "link an invoice to a closed estimate: reopen it in QBO first"
        )
    if estimate.TxnStatus == "Rejected":
        return "estimate_rejected", (
            f"estimate {estimate.Id} was rejected in QBO and a rejected estimate cannot be "
            "invoiced: set it back to Pending or Accepted in QBO first"
        )
    if not estimate_lines(estimate):
        return "nothing_to_invoice", f"estimate {estimate.Id} has no item line to invoice"
    return None


def estimate_lines(estimate: QboEstimate) -> tuple[DocumentLine, ...]:
    """The lines an invoice copies from the estimate (module docstring)."""
    lines: list[DocumentLine] = []
    for line in estimate.Line:
        detail = line.SalesItemLineDetail
        if line.DetailType != "SalesItemLineDetail" or detail is None or detail.ItemRef is None:
            continue
        quantity = detail.Qty if detail.Qty is not None else Decimal(1)
        if quantity <= 0:
            continue
        price = detail.UnitPrice
        if price is None:
            price = (line.Amount or Decimal(0)) / quantity
        if price < 0:
            continue
        lines.append(
            DocumentLine(
                item_id=detail.ItemRef.value,
                description=line.Description,
                quantity=quantity,
                unit_price=price,
            )
        )
    return tuple(lines)
