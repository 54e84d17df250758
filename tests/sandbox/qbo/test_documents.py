"""Invoices and estimates over HTTP: amounts, numbering, references, delete, void, send, links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.sandbox.qbo.conftest import Qbo, fault_code, sales_line


def _invoice(qbo: Qbo, **fields: Any) -> dict[str, Any]:
    customer = qbo.customer("Amy's Bird Sanctuary")
    item = qbo.item()
    body = {"CustomerRef": {"value": customer["Id"]}, "Line": [sales_line(item["Id"], 2, 50)]}
    return qbo.create("Invoice", {**body, **fields})


def test_line_amounts_subtotal_total_and_balance_are_computed(qbo: Qbo) -> None:
    customer = qbo.customer("Bill's Windsurf Shop")
    item = qbo.item("Rock Fountain", 275)
    line = sales_line(item["Id"], 3, 275)
    flat = {"DetailType": "SalesItemLineDetail", "Amount": 10.0, "SalesItemLineDetail": {}}
    invoice = qbo.create(
        "Invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line, flat]}
    )
    first, second, subtotal = invoice["Line"]
    assert first["Amount"] == 825.0 and first["Id"] == "1" and first["LineNum"] == 1
    assert first["SalesItemLineDetail"]["ItemRef"] == {"value": item["Id"], "name": "Rock Fountain"}
    assert second["Amount"] == 10.0 and second["LineNum"] == 2
    assert subtotal == {
        "Amount": 835.0,
        "DetailType": "SubTotalLineDetail",
        "SubTotalLineDetail": {},
    }
    assert invoice["TotalAmt"] == 835.0 and invoice["Balance"] == 835.0
    assert invoice["CustomerRef"] == {"value": customer["Id"], "name": "Bill's Windsurf Shop"}


def test_invoice_gets_a_doc_number_todays_date_and_unsent_statuses(qbo: Qbo) -> None:
    first = _invoice(qbo)
    second = qbo.create("Invoice", {"CustomerRef": first["CustomerRef"], "Line": first["Line"][:1]})
    assert int(second["DocNumber"]) == int(first["DocNumber"]) + 1
    created = datetime.fromisoformat(first["MetaData"]["CreateTime"])
    assert first["TxnDate"] == created.date().isoformat()
    assert first["EmailStatus"] == "NotSet" and first["PrintStatus"] == "NotSet"
    custom = qbo.create(
        "Invoice",
        {"CustomerRef": first["CustomerRef"], "Line": first["Line"][:1], "DocNumber": "A-7"},
    )
    assert custom["DocNumber"] == "A-7"


def test_invoice_without_customer_ref_or_lines_is_refused_with_2020(qbo: Qbo) -> None:
    customer = qbo.customer("Cool Cars")
    no_lines = qbo.post("invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": []})
    assert no_lines.status_code == 400 and fault_code(no_lines) == "2020"
    assert no_lines.json()["Fault"]["Error"][0]["element"] == "Line"
    no_customer = qbo.post("invoice", {"Line": [sales_line("1")]})
    assert fault_code(no_customer) == "2020"
    assert no_customer.json()["Fault"]["Error"][0]["element"] == "CustomerRef"


def test_invoice_for_an_inactive_or_unknown_customer_is_refused_with_610(qbo: Qbo) -> None:
    customer = qbo.customer("Gone Fishing")
    item = qbo.item()
    qbo.ok(
        qbo.post(
            "customer",
            {"Id": customer["Id"], "SyncToken": "0", "sparse": True, "Active": False},
        )
    )
    for customer_id in (customer["Id"], "4242"):
        body = {"CustomerRef": {"value": customer_id}, "Line": [sales_line(item["Id"])]}
        response = qbo.post("invoice", body)
        assert response.status_code == 400 and fault_code(response) == "610"


def test_invoice_with_an_unknown_item_is_refused_with_610(qbo: Qbo) -> None:
    customer = qbo.customer("Diego Rodriguez")
    body = {"CustomerRef": {"value": customer["Id"]}, "Line": [sales_line("777")]}
    assert fault_code(qbo.post("invoice", body)) == "610"


def test_a_line_amount_that_is_not_qty_times_unit_price_is_refused(qbo: Qbo) -> None:
    customer = qbo.customer("Dylan Sollfrank")
    item = qbo.item()
    line = {**sales_line(item["Id"], 2, 50), "Amount": 99.0}
    response = qbo.post("invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line]})
    assert fault_code(response) == "6070"


def test_a_deleted_invoice_answers_deleted_and_is_then_gone(qbo: Qbo) -> None:
    invoice = _invoice(qbo)
    version = {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}
    deleted = qbo.ok(qbo.post("invoice", version, operation="delete"))
    assert deleted["Invoice"] == {"Id": invoice["Id"], "status": "Deleted", "domain": "QBO"}
    assert fault_code(qbo.get(f"invoice/{invoice['Id']}")) == "610"
    assert fault_code(qbo.post("invoice", version, operation="delete")) == "610"


def test_deleting_with_a_stale_sync_token_is_refused_with_5010(qbo: Qbo) -> None:
    invoice = _invoice(qbo)
    qbo.ok(qbo.post(f"invoice/{invoice['Id']}/send", sendTo="a@b.com"))
    stale = {"Id": invoice["Id"], "SyncToken": "0"}
    assert fault_code(qbo.post("invoice", stale, operation="delete")) == "5010"


def test_a_voided_invoice_keeps_its_lines_with_every_amount_zero(qbo: Qbo) -> None:
    invoice = _invoice(qbo, PrivateNote="")
    version = {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}
    voided = qbo.ok(qbo.post("invoice", version, operation="void"))["Invoice"]
    assert voided["TotalAmt"] == 0 and voided["Balance"] == 0
    assert [line["Amount"] for line in voided["Line"]] == [0, 0]
    assert voided["PrivateNote"] == "Voided"
    assert voided["SyncToken"] == "1"
    assert fault_code(qbo.post("invoice", version, operation="void")) == "5010"


def test_sending_an_invoice_marks_it_emailed_and_bumps_its_sync_token(qbo: Qbo) -> None:
    invoice = _invoice(qbo, BillEmail={"Address": "birds@example.com"})
    sent = qbo.ok(qbo.post(f"invoice/{invoice['Id']}/send"))["Invoice"]
    assert sent["EmailStatus"] == "EmailSent"
    assert sent["DeliveryInfo"]["DeliveryType"] == "Email"
    assert datetime.fromisoformat(sent["DeliveryInfo"]["DeliveryTime"]).tzinfo is not None
    assert sent["BillEmail"] == {"Address": "birds@example.com"}
    assert sent["SyncToken"] == "1"


def test_send_to_overwrites_the_bill_email(qbo: Qbo) -> None:
    invoice = _invoice(qbo, BillEmail={"Address": "old@example.com"})
    sent = qbo.ok(qbo.post(f"invoice/{invoice['Id']}/send", sendTo="new@example.com"))
    assert sent["Invoice"]["BillEmail"] == {"Address": "new@example.com"}


def test_sending_without_any_address_is_a_fault(qbo: Qbo) -> None:
    invoice = _invoice(qbo)
    response = qbo.post(f"invoice/{invoice['Id']}/send")
    assert response.status_code == 400 and fault_code(response) == "2020"
    assert qbo.ok(qbo.get(f"invoice/{invoice['Id']}"))["Invoice"]["SyncToken"] == "0"


def test_an_estimate_is_pending_can_be_sent_and_deleted_but_not_voided(qbo: Qbo) -> None:
    customer = qbo.customer("Geeta Kalapatapu")
    item = qbo.item()
    estimate = qbo.create(
        "Estimate", {"CustomerRef": {"value": customer["Id"]}, "Line": [sales_line(item["Id"])]}
    )
    assert estimate["TxnStatus"] == "Pending" and "Balance" not in estimate
    sent = qbo.ok(qbo.post(f"estimate/{estimate['Id']}/send", sendTo="g@example.com"))
    assert sent["Estimate"]["EmailStatus"] == "EmailSent"
    version = {"Id": estimate["Id"], "SyncToken": "1"}
    assert fault_code(qbo.post("estimate", version, operation="void")) == "500"
    assert qbo.ok(qbo.post("estimate", version, operation="delete"))["Estimate"]["status"] == (
        "Deleted"
    )


def test_an_invoice_linked_to_an_estimate_closes_it_and_the_estimate_links_back(qbo: Qbo) -> None:
    customer = qbo.customer("Jeff's Jalopies")
    item = qbo.item()
    ref = {"value": customer["Id"]}
    estimate = qbo.create("Estimate", {"CustomerRef": ref, "Line": [sales_line(item["Id"])]})
    invoice = qbo.create(
        "Invoice",
        {
            "CustomerRef": ref,
            "Line": [sales_line(item["Id"])],
            "LinkedTxn": [{"TxnId": estimate["Id"], "TxnType": "Estimate"}],
        },
    )
    assert invoice["LinkedTxn"] == [{"TxnId": estimate["Id"], "TxnType": "Estimate"}]
    closed = qbo.ok(qbo.get(f"estimate/{estimate['Id']}"))["Estimate"]
    assert closed["TxnStatus"] == "Closed"
    assert closed["LinkedTxn"] == [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]
    assert closed["SyncToken"] == "1"


def test_a_link_to_a_rejected_estimate_is_silently_ignored(qbo: Qbo) -> None:
    customer = qbo.customer("John Melton")
    item = qbo.item()
    ref = {"value": customer["Id"]}
    estimate = qbo.create(
        "Estimate", {"CustomerRef": ref, "Line": [sales_line(item["Id"])], "TxnStatus": "Rejected"}
    )
    link = [{"TxnId": estimate["Id"], "TxnType": "Estimate"}]
    invoice = qbo.create(
        "Invoice", {"CustomerRef": ref, "Line": [sales_line(item["Id"])], "LinkedTxn": link}
    )
    assert "LinkedTxn" not in invoice
    assert qbo.ok(qbo.get(f"estimate/{estimate['Id']}"))["Estimate"]["TxnStatus"] == "Rejected"


def test_a_sparse_update_with_lines_replaces_them_and_recomputes_totals(qbo: Qbo) -> None:
    invoice = _invoice(qbo)
    item_id = invoice["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"]
    body = {
        "Id": invoice["Id"],
        "SyncToken": "0",
        "sparse": True,
        "Line": [sales_line(item_id, 1, 30), sales_line(item_id, 1, 20)],
    }
    updated = qbo.ok(qbo.post("invoice", body))["Invoice"]
    assert [line["Amount"] for line in updated["Line"]] == [30, 20, 50]
    assert updated["TotalAmt"] == 50 and updated["Balance"] == 50
    assert updated["DocNumber"] == invoice["DocNumber"]


def test_a_partly_paid_invoice_keeps_its_paid_part_when_updated(qbo: Qbo) -> None:
    invoice = _invoice(qbo)  # 100.00
    paid = qbo.http.post(
        f"/_sandbox/realms/{qbo.realm_id}/invoices/{invoice['Id']}/payment", params={"amount": 40}
    )
    assert paid.json()["Invoice"]["Balance"] == 60
    item_id = invoice["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"]
    body = {"Id": invoice["Id"], "SyncToken": "1", "sparse": True}
    updated = qbo.ok(qbo.post("invoice", {**body, "Line": [sales_line(item_id, 3, 50)]}))
    assert updated["Invoice"]["TotalAmt"] == 150 and updated["Invoice"]["Balance"] == 110
