"""Request building that needs no server: batch chunks and ids, invoice lines, answer parsing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.qbo import answers, batch, documents
from adapters.qbo.errors import DuplicateNameError
from adapters.qbo.models import BatchOperation
from schemas.qbo import QboCustomer
from schemas.requests import DocumentLine


def test_operations_are_sent_thirty_per_batch():
    operations = [BatchOperation("query", query="SELECT * FROM Item")] * 65
    assert [len(chunk) for chunk in batch.chunks(operations)] == [30, 30, 5]


def test_each_chunk_gets_a_stable_requestid_within_qbos_36_characters():
    first = batch.chunk_request_id("3f1e9a4c-command-id-of-fifty-characters-0000000", 0)
    assert len(first) == 36
    assert first == batch.chunk_request_id("3f1e9a4c-command-id-of-fifty-characters-0000000", 0)
    assert first != batch.chunk_request_id("3f1e9a4c-command-id-of-fifty-characters-0000000", 1)


def test_batch_ids_default_to_positions_and_must_fit_ten_characters():
    ops = [BatchOperation("query", query="q"), BatchOperation("query", query="q", batch_id="mine")]
    assert batch.batch_ids(ops) == ["0", "mine"]
    with pytest.raises(ValueError, match="10 characters"):
        batch.batch_ids([BatchOperation("query", query="q", batch_id="eleven-char")])
    with pytest.raises(ValueError, match="unique"):
        batch.batch_ids([BatchOperation("query", query="q", batch_id="1")] * 2)


def test_batch_payload_uses_qbos_item_shapes():
    ops = [
        BatchOperation("create", "Customer", {"DisplayName": "A"}),
        BatchOperation("query", query="SELECT * FROM Item"),
    ]
    assert batch.batch_payload(ops, ["a", "b"]) == {
        "BatchItemRequest": [
            {"bId": "a", "operation": "create", "Customer": {"DisplayName": "A"}},
            {"bId": "b", "Query": "SELECT * FROM Item"},
        ]
    }


def test_batch_outcomes_come_back_in_request_order_with_typed_faults():
    meta = {"LastUpdatedTime": "2026-01-01T00:00:00-08:00"}
    body = {
        "BatchItemResponse": [
            {
                "bId": "b",
                "Fault": {
                    "type": "ValidationFault",
                    "Error": [{"Message": "Duplicate Name", "code": "6240"}],
                },
            },
            {"bId": "a", "Customer": {"Id": "5", "SyncToken": "0", "MetaData": meta}},
        ]
    }
    first, second, missing = answers.batch_outcomes(body, ["a", "b", "c"])
    assert isinstance(first.entity, QboCustomer) and first.ok
    assert isinstance(second.error, DuplicateNameError)
    assert missing.error is not None


def test_cdc_answers_split_changes_from_tombstones():
    meta = {"LastUpdatedTime": "2026-01-01T00:00:00-08:00"}
    body = {
        "CDCResponse": [
            {
                "QueryResponse": [
                    {
                        "Customer": [{"Id": "1", "SyncToken": "2", "MetaData": meta}],
                        "startPosition": 1,
                        "maxResults": 1,
                    },
                    {
                        "Invoice": [
                            {"Id": "9", "status": "Deleted", "domain": "QBO", "MetaData": meta}
                        ]
                    },
                ]
            }
        ],
        "time": "2026-01-02T00:00:00.123-08:00",
    }
    changes = answers.cdc_changes(body)
    assert [type(e).__name__ for e in changes.changed] == ["QboCustomer"]
    assert [(t.entity, t.id) for t in changes.deleted] == [("Invoice", "9")]
    assert changes.server_time is not None and changes.server_time.utcoffset() is not None
    assert not changes.truncated


def test_invoice_lines_carry_amount_quantity_price_and_the_estimate_link():
    line = DocumentLine(
        item_id="1", description="Work", quantity=Decimal("3"), unit_price=Decimal("33.335")
    )
    body = documents.sales_document("5", [line], bill_email="a@b.co", from_estimate_id="12")
    assert body["Line"][0] == {
        "Amount": 100.01,
        "DetailType": "SalesItemLineDetail",
        "Description": "Work",
        "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": 3, "UnitPrice": 33.335},
    }
    assert body["LinkedTxn"] == [{"TxnId": "12", "TxnType": "Estimate"}]
    assert body["BillEmail"] == {"Address": "a@b.co"}
