"""Change Data Capture and batch over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta

from sandbox.qbo.cdc import MAX_OBJECTS_PER_ENTITY
from tests.sandbox.qbo.conftest import LiveSandbox, Qbo, fault_code, sales_line


def _since(qbo: Qbo) -> str:
    return str(qbo.http.get("/_sandbox/clock").json()["now"])


def test_cdc_returns_changed_entities_and_deleted_tombstones(qbo: Qbo) -> None:
    since = _since(qbo)
    customer = qbo.customer("Changed Customer")
    item = qbo.item()
    body = {"CustomerRef": {"value": customer["Id"]}, "Line": [sales_line(item["Id"])]}
    kept, deleted = qbo.create("Invoice", body), qbo.create("Invoice", body)
    qbo.ok(qbo.post("invoice", {"Id": deleted["Id"], "SyncToken": "0"}, operation="delete"))

    response = qbo.ok(qbo.get("cdc", entities="Customer,Invoice", changedSince=since))
    [cdc] = response["CDCResponse"]
    by_entity = {
        next(iter(k for k in r if k in ("Customer", "Invoice"))): r for r in cdc["QueryResponse"]
    }
    assert [c["Id"] for c in by_entity["Customer"]["Customer"]] == [customer["Id"]]
    invoices = by_entity["Invoice"]["Invoice"]
    assert invoices[0] == kept
    tombstone = invoices[1]
    assert tombstone["Id"] == deleted["Id"] and tombstone["status"] == "Deleted"
    assert tombstone["domain"] == "QBO" and set(tombstone) == {"Id", "domain", "status", "MetaData"}
    assert set(tombstone["MetaData"]) == {"LastUpdatedTime"}
    assert by_entity["Invoice"]["startPosition"] == 1 and by_entity["Invoice"]["maxResults"] == 2


def test_cdc_with_no_changes_answers_one_empty_query_response(qbo: Qbo) -> None:
    response = qbo.ok(qbo.get("cdc", entities="Customer", changedSince=_since(qbo)))
    assert response["CDCResponse"] == [{"QueryResponse": [{}]}]


def test_cdc_refuses_a_changed_since_older_than_30_days(qbo: Qbo) -> None:
    now = datetime.fromisoformat(_since(qbo))
    old = (now - timedelta(days=31)).isoformat()
    response = qbo.get("cdc", entities="Customer", changedSince=old)
    assert response.status_code == 400
    assert response.json()["Fault"]["Error"][0]["element"] == "changedSince"
    recent = (now - timedelta(days=29)).date().isoformat()
    assert qbo.get("cdc", entities="Customer", changedSince=recent).status_code == 200


def test_cdc_needs_entities_and_refuses_an_unknown_one(qbo: Qbo) -> None:
    assert fault_code(qbo.get("cdc", changedSince=_since(qbo))) == "2020"
    assert fault_code(qbo.get("cdc", entities="Vendor", changedSince=_since(qbo))) == "2010"


def test_cdc_caps_each_entity_at_1000_objects_oldest_first(
    qbo: Qbo, qbo_sandbox: LiveSandbox
) -> None:
    since = _since(qbo)
    store = qbo_sandbox.parts.store
    for number in range(MAX_OBJECTS_PER_ENTITY + 5):
        store.create(qbo.realm_id, "Customer", {"DisplayName": f"Bulk {number}"})
    response = qbo.ok(qbo.get("cdc", entities="Customer", changedSince=since))
    customers = response["CDCResponse"][0]["QueryResponse"][0]["Customer"]
    assert len(customers) == MAX_OBJECTS_PER_ENTITY
    assert customers[0]["DisplayName"] == "Bulk 0"


def test_the_cdc_response_time_is_a_safe_next_watermark(qbo: Qbo) -> None:
    first = qbo.ok(qbo.get("cdc", entities="Customer", changedSince=_since(qbo)))
    # Same second as the CDC call: MetaData shows whole seconds, CDC must still see it.
    created = qbo.customer("Right After")
    second = qbo.ok(qbo.get("cdc", entities="Customer", changedSince=first["time"]))
    assert second["CDCResponse"][0]["QueryResponse"][0]["Customer"] == [created]


def test_batch_items_succeed_or_fail_each_on_its_own(qbo: Qbo) -> None:
    qbo.customer("Taken")
    old = qbo.customer("Old Name")
    body = {
        "BatchItemRequest": [
            {"bId": "b1", "operation": "create", "Customer": {"DisplayName": "Fresh"}},
            {"bId": "b2", "operation": "create", "Customer": {"DisplayName": "Taken"}},
            {
                "bId": "b3",
                "operation": "update",
                "Customer": {"Id": old["Id"], "SyncToken": "0", "sparse": True, "Notes": "n"},
            },
            {"bId": "b4", "operation": "update", "Customer": {"Id": old["Id"], "SyncToken": "0"}},
            {"bId": "b5", "Query": "SELECT COUNT(*) FROM Customer"},
        ]
    }
    response = qbo.ok(qbo.post("batch", body))
    items = {item["bId"]: item for item in response["BatchItemResponse"]}
    assert items["b1"]["Customer"]["DisplayName"] == "Fresh"
    assert items["b2"]["Fault"]["Error"][0]["code"] == "6240"
    assert items["b2"]["Fault"]["type"] == "ValidationFault"
    assert items["b3"]["Customer"]["Notes"] == "n"
    assert items["b4"]["Fault"]["Error"][0]["code"] == "5010"
    assert items["b5"]["QueryResponse"] == {"totalCount": 3}
    assert "time" in response


def test_batch_deletes_voids_and_queries(qbo: Qbo) -> None:
    customer = qbo.customer("Batch Buyer")
    item = qbo.item()
    body = {"CustomerRef": {"value": customer["Id"]}, "Line": [sales_line(item["Id"])]}
    one, two = qbo.create("Invoice", body), qbo.create("Invoice", body)
    batch = {
        "BatchItemRequest": [
            {"bId": "d", "operation": "delete", "Invoice": {"Id": one["Id"], "SyncToken": "0"}},
            {"bId": "v", "operation": "void", "Invoice": {"Id": two["Id"], "SyncToken": "0"}},
            {"bId": "q", "Query": "select * from Invoice"},
        ]
    }
    items = {i["bId"]: i for i in qbo.ok(qbo.post("batch", batch))["BatchItemResponse"]}
    assert items["d"]["Invoice"]["status"] == "Deleted"
    assert items["v"]["Invoice"]["TotalAmt"] == 0
    assert [i["Id"] for i in items["q"]["QueryResponse"]["Invoice"]] == [two["Id"]]


def test_a_batch_over_the_item_limit_or_empty_is_refused(qbo: Qbo) -> None:
    limit = qbo.sandbox.config.batch_max_items
    too_many = [
        {"bId": str(n), "operation": "create", "Customer": {"DisplayName": f"C{n}"}}
        for n in range(limit + 1)
    ]
    response = qbo.post("batch", {"BatchItemRequest": too_many})
    assert response.status_code == 400 and "Fault" in response.json()
    assert qbo.ok(qbo.query("SELECT COUNT(*) FROM Customer"))["QueryResponse"]["totalCount"] == 0
    assert qbo.post("batch", {"BatchItemRequest": []}).status_code == 400
