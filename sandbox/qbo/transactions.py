"""Rules of QBO's sales documents: Invoice and Estimate (reference sections 3.2, 3.3, 7 and 8).

Builders receive cleaned writable fields (merged over the stored record for a sparse update)
and return the document as QBO stores it: references named, lines priced and numbered, the
subtotal line appended, totals computed. The store adds Id, SyncToken and MetaData.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sandbox.qbo import faults
from sandbox.qbo.changes import EntityName
from sandbox.qbo.entities import money, number, ref_value, to_decimal
from sandbox.qbo.faults import QboFault
from sandbox.qbo.names import check_email
from sandbox.qbo.realm import RealmState, Record

ESTIMATE_STATUSES = ("Pending", "Accepted", "Closed", "Rejected")
# Only these estimates can be turned into an invoice; links to others are ignored (reference 8).
_LINKABLE = ("Pending", "Accepted")
_PRICED = ("SalesItemLineDetail", "GroupLineDetail")
_LINE_TYPES = (*_PRICED, "DescriptionOnly", "DiscountLineDetail")


def build_sales_document(
    entity: EntityName,
    fields: dict[str, Any],
    existing: Record | None,
    realm: RealmState,
    today: date,
) -> Record:
    record = dict(fields)
    previous = existing or {}
    record["CustomerRef"] = _customer_ref(record.get("CustomerRef"), realm)
    lines = [
        dict(line)
        for line in record.get("Line", [])
        if line.get("DetailType") != "SubTotalLineDetail"  # recomputed below
    ]
    if not lines:
        raise faults.required_missing("Line")
    record["Line"], subtotal, discount = _priced_lines(lines, realm)
    tax = to_decimal(record.get("TxnTaxDetail", {}).get("TotalTax", 0), "TxnTaxDetail.TotalTax")
    total = subtotal - discount + tax
    record["TotalAmt"] = money(total)

    record.setdefault("DocNumber", previous.get("DocNumber") or realm.next_doc_number(entity))
    record.setdefault("TxnDate", previous.get("TxnDate") or today.isoformat())
    record.setdefault("EmailStatus", "NotSet")
    record.setdefault("PrintStatus", "NotSet")
    record.setdefault("CurrencyRef", {"value": "USD", "name": "United States Dollar"})
    if "Address" in record.get("BillEmail", {}):
        check_email(record["BillEmail"]["Address"], "BillEmail")

    if entity == "Invoice":
        record.setdefault("DueDate", record["TxnDate"])
        record["LinkedTxn"] = _invoice_links(record.get("LinkedTxn", []), previous, realm)
        record["Balance"] = _balance(total, record, previous)
    else:
        status = record.setdefault("TxnStatus", previous.get("TxnStatus", "Pending"))
        if status not in ESTIMATE_STATUSES:
            raise faults.invalid_request(f"TxnStatus '{status}' is not one of {ESTIMATE_STATUSES}")
        # Links to the invoices made from an estimate are QBO's, whatever the client sends back.
        record["LinkedTxn"] = _union(previous.get("LinkedTxn", []), record.get("LinkedTxn", []))
    if not record["LinkedTxn"]:
        del record["LinkedTxn"]
    return record


def new_estimate_links(invoice: Record, previous: Record | None) -> list[str]:
    """Estimates this write links the invoice to for the first time: they get closed."""
    before = {link["TxnId"] for link in (previous or {}).get("LinkedTxn", [])}
    return [
        link["TxnId"]
        for link in invoice.get("LinkedTxn", [])
        if link["TxnType"] == "Estimate" and link["TxnId"] not in before
    ]


def closed_by(estimate: Record, invoice_id: str) -> Record:
    link = {"TxnId": invoice_id, "TxnType": "Invoice"}
    return {
        **estimate,
        "TxnStatus": "Closed",
        "LinkedTxn": _union(estimate.get("LinkedTxn", []), [link]),
    }


def voided(invoice: Record) -> Record:
    """A void keeps the invoice but zeroes every amount (reference 3.2)."""
    lines = []
    for line in invoice["Line"]:
        line = {**line, "Amount": 0.0}
        if "SalesItemLineDetail" in line:
            line["SalesItemLineDetail"] = {**line["SalesItemLineDetail"], "Qty": 0}
        lines.append(line)
    record = {**invoice, "Line": lines, "TotalAmt": 0.0, "Balance": 0.0, "PrivateNote": "Voided"}
    if "TxnTaxDetail" in record:
        record["TxnTaxDetail"] = {**record["TxnTaxDetail"], "TotalTax": 0.0}
    return record


def sent(document: Record, send_to: str | None, when: str) -> Record:
    """The document after `/send` (reference 7): emailed now, to sendTo or its BillEmail."""
    address = send_to or document.get("BillEmail", {}).get("Address")
    if not address:
        raise faults.required_missing("BillEmail")
    check_email(address, "sendTo" if send_to else "BillEmail")
    record = {
        **document,
        "EmailStatus": "EmailSent",
        "DeliveryInfo": {"DeliveryType": "Email", "DeliveryTime": when},
    }
    if send_to:
        record["BillEmail"] = {"Address": send_to}
    return record


def _customer_ref(ref: Any, realm: RealmState) -> dict[str, str]:
    customer_id = ref_value(ref)
    if customer_id is None:
        raise faults.required_missing("CustomerRef")
    customer = realm.get("Customer", customer_id)
    if customer is None or not customer.get("Active", True):
        raise faults.not_found("Customer", customer_id)
    return {"value": customer_id, "name": customer["DisplayName"]}


def _priced_lines(
    lines: list[dict[str, Any]], realm: RealmState
) -> tuple[list[dict[str, Any]], Decimal, Decimal]:
    taken = [int(line["Id"]) for line in lines if str(line.get("Id", "")).isdigit()]
    next_id = max(taken, default=0) + 1
    body: list[dict[str, Any]] = []
    discounts: list[dict[str, Any]] = []
    for line in lines:
        kind = line.get("DetailType")
        if kind not in _LINE_TYPES:
            raise faults.invalid_request(f"Line.DetailType '{kind}' is not supported", "Line")
        if "Id" not in line:
            line["Id"], next_id = str(next_id), next_id + 1
        if kind == "SalesItemLineDetail":
            _price_sales_line(line, realm)
        (discounts if kind == "DiscountLineDetail" else body).append(line)
    subtotal = Decimal(0)
    for position, line in enumerate(body, start=1):
        line["LineNum"] = position
        line.setdefault("Amount", 0.0)
        if line["DetailType"] in _PRICED:
            subtotal += to_decimal(line["Amount"], "Line.Amount")
    discount = Decimal(0)
    for line in discounts:
        detail = line.get("DiscountLineDetail", {})
        if detail.get("PercentBased") and "DiscountPercent" in detail:
            percent = to_decimal(detail["DiscountPercent"], "DiscountPercent")
            line["Amount"] = money(subtotal * percent / 100)
        elif "Amount" not in line:
            raise faults.required_missing("Line.Amount")
        discount += to_decimal(line["Amount"], "Line.Amount")
    subtotal_line = {
        "Amount": money(subtotal),
        "DetailType": "SubTotalLineDetail",
        "SubTotalLineDetail": {},
    }
    return [*body, subtotal_line, *discounts], subtotal, discount


def _price_sales_line(line: dict[str, Any], realm: RealmState) -> None:
    detail = dict(line.get("SalesItemLineDetail", {}))
    item_id = ref_value(detail.get("ItemRef"))
    if item_id is not None:
        item = realm.get("Item", item_id)
        if item is None or not item.get("Active", True):
            raise faults.not_found("Item", item_id)
        detail["ItemRef"] = {"value": item_id, "name": item["Name"]}
    qty = to_decimal(detail["Qty"], "Qty") if "Qty" in detail else None
    price = to_decimal(detail["UnitPrice"], "UnitPrice") if "UnitPrice" in detail else None
    if "Amount" not in line:
        # QBO computes the amount from quantity and price when the client leaves it out.
        if price is None:
            raise faults.required_missing("Line.Amount")
        qty = Decimal(1) if qty is None else qty
        line["Amount"] = money(qty * price)
    else:
        amount = to_decimal(line["Amount"], "Line.Amount")
        if qty and price and abs(qty * price - amount) >= Decimal("0.005"):
            raise QboFault(
                400,
                "6070",
                "Amount is not equal to UnitPrice * Qty",
                f"Amount is not equal to UnitPrice * Qty. Supplied value:{amount}",
                element="Line.Amount",
            )
        line["Amount"] = money(amount)
    if qty is not None:
        detail["Qty"] = number(qty)
    if price is not None:
        detail["UnitPrice"] = number(price)
    line["SalesItemLineDetail"] = detail


def _invoice_links(
    links: list[dict[str, Any]], previous: Record, realm: RealmState
) -> list[dict[str, Any]]:
    kept = []
    already = {link["TxnId"] for link in previous.get("LinkedTxn", [])}
    for link in links:
        link = {**link, "TxnId": str(link.get("TxnId", ""))}
        if link.get("TxnType") == "Estimate":
            estimate = realm.get("Estimate", link["TxnId"])
            if estimate is None:
                raise faults.not_found("Estimate", link["TxnId"])
            if link["TxnId"] not in already and estimate.get("TxnStatus") not in _LINKABLE:
                continue  # QBO silently ignores links to closed or rejected estimates
        if "TxnLineId" in link:
            link["TxnLineId"] = str(link["TxnLineId"])
        kept.append(link)
    return kept


def _balance(total: Decimal, record: Record, previous: Record) -> float:
    """Balance = total - deposit - what was already paid (payments are not simulated; an
    invoice's paid part is whatever its stored balance says)."""
    deposit = to_decimal(record.get("Deposit", 0), "Deposit")
    paid = Decimal(0)
    if previous:
        old_total = to_decimal(previous.get("TotalAmt", 0), "TotalAmt")
        old_deposit = to_decimal(previous.get("Deposit", 0), "Deposit")
        old_balance = to_decimal(previous.get("Balance", 0), "Balance")
        paid = max(Decimal(0), old_total - old_deposit - old_balance)
    return money(max(Decimal(0), total - deposit - paid))


def _union(first: list[dict[str, Any]], second: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen = {(str(link["TxnId"]), link["TxnType"]) for link in first}
    extra = [{**link, "TxnId": str(link["TxnId"])} for link in second]
    return [*first, *(link for link in extra if (link["TxnId"], link["TxnType"]) not in seen)]
