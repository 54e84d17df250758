"""Invoice and estimate bodies from our document lines (reference sections 3.2, 3.3 and 8)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from schemas.requests import DocumentLine

CENT = Decimal("0.01")


def _number(value: Decimal) -> float | int:
    # QBO takes JSON numbers; integral quantities stay integers so they read back unchanged.
    return int(value) if value == value.to_integral_value() else float(value)


def sales_line(line: DocumentLine) -> dict[str, Any]:
    # QBO validates Amount = Qty * UnitPrice, so we send the product rounded to the cent.
    amount = (line.quantity * line.unit_price).quantize(CENT, rounding=ROUND_HALF_UP)
    body: dict[str, Any] = {
        "Amount": _number(amount),
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {
            "ItemRef": {"value": line.item_id},
            "Qty": _number(line.quantity),
            "UnitPrice": _number(line.unit_price),
        },
    }
    if line.description:
        body["Description"] = line.description
    return body


def sales_document(
    customer_id: str,
    lines: Sequence[DocumentLine],
    *,
    bill_email: str | None = None,
    txn_date: str | None = None,
    from_estimate_id: str | None = None,
) -> dict[str, Any]:
    if not lines:
        raise ValueError("a QBO sales document needs at least one line")
    body: dict[str, Any] = {
        "CustomerRef": {"value": customer_id},
        "Line": [sales_line(line) for line in lines],
    }
    if bill_email:
        body["BillEmail"] = {"Address": bill_email}
    if txn_date:
        body["TxnDate"] = txn_date
    if from_estimate_id:
        # The link is what closes the estimate in QBO; QBO does not copy its lines (reference 8).
        body["LinkedTxn"] = [{"TxnId": from_estimate_id, "TxnType": "Estimate"}]
    return body
