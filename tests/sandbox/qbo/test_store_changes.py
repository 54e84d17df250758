"""The store in process: every mutation is reported to the change listener (webhooks), and the
entities it returns are accepted by our typed QBO models."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.qbo.changes import EntityChange
from sandbox.qbo.clock import SandboxClock
from sandbox.qbo.faults import QboFault
from sandbox.qbo.store import QboStore
from schemas.qbo import QboCustomer, QboEstimate, QboInvoice, QboItem

REALM = "4620816365031"


@pytest.fixture
def changes() -> list[EntityChange]:
    return []


@pytest.fixture
def store(changes: list[EntityChange]) -> QboStore:
    store = QboStore(SandboxClock(), on_change=changes.append)
    store.add_realm(REALM, "Test Company")
    return store


def _line(item_id: str) -> dict[str, Any]:
    return {
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": item_id}, "Qty": 1, "UnitPrice": 10},
    }


def _ops(changes: list[EntityChange]) -> list[tuple[str, str, str]]:
    return [(c.entity, c.entity_id, c.operation) for c in changes]


def test_every_mutation_is_reported_with_qbos_operation_name(
    store: QboStore, changes: list[EntityChange]
) -> None:
    customer = store.create(REALM, "Customer", {"DisplayName": "Watched"})
    item = store.create(REALM, "Item", {"Name": "Services"})
    ref = {"value": customer["Id"]}
    estimate = store.create(REALM, "Estimate", {"CustomerRef": ref, "Line": [_line(item["Id"])]})
    link = [{"TxnId": estimate["Id"], "TxnType": "Estimate"}]
    invoice = store.create(
        REALM, "Invoice", {"CustomerRef": ref, "Line": [_line(item["Id"])], "LinkedTxn": link}
    )
    store.send(REALM, "Invoice", invoice["Id"], "a@example.com")
    store.void(REALM, "Invoice", {"Id": invoice["Id"], "SyncToken": "1"})
    store.delete(REALM, "Invoice", {"Id": invoice["Id"], "SyncToken": "2"})
    store.update(
        REALM, "Customer", {"Id": customer["Id"], "SyncToken": "0", "sparse": True, "Notes": "x"}
    )
    store.update(
        REALM, "Customer", {"Id": customer["Id"], "SyncToken": "1", "sparse": True, "Active": False}
    )
    c, i, e, inv = customer["Id"], item["Id"], estimate["Id"], invoice["Id"]
    assert _ops(changes) == [
        ("Customer", c, "Create"),
        ("Item", i, "Create"),
        ("Estimate", e, "Create"),
        ("Invoice", inv, "Create"),
        ("Estimate", e, "Update"),  # closed by the invoice
        ("Invoice", inv, "Emailed"),
        ("Invoice", inv, "Void"),
        ("Invoice", inv, "Delete"),
        ("Customer", c, "Update"),
        ("Customer", c, "Delete"),  # made inactive: QBO's "delete" of a name-list record
    ]
    assert all(change.realm_id == REALM for change in changes)
    assert changes[0].last_updated.tzinfo is not None


def test_a_merge_moves_documents_and_reports_merge_with_the_deleted_id(
    store: QboStore, changes: list[EntityChange]
) -> None:
    loser = store.create(REALM, "Customer", {"DisplayName": "Jon Smith"})
    winner = store.create(REALM, "Customer", {"DisplayName": "John Smith"})
    item = store.create(REALM, "Item", {"Name": "Services"})
    body = {"CustomerRef": {"value": loser["Id"]}, "Line": [_line(item["Id"])]}
    invoice = store.create(REALM, "Invoice", body)
    changes.clear()
    store.merge_customers(REALM, loser["Id"], winner["Id"])
    moved = store.read(REALM, "Invoice", invoice["Id"])
    assert moved["CustomerRef"] == {"value": winner["Id"], "name": "John Smith"}
    with pytest.raises(QboFault):
        store.read(REALM, "Customer", loser["Id"])
    assert changes[-1].operation == "Merge"
    assert (changes[-1].entity_id, changes[-1].deleted_id) == (winner["Id"], loser["Id"])
    # The merged-away name is free again.
    store.create(REALM, "Customer", {"DisplayName": "Jon Smith"})


def test_a_failed_write_reports_nothing(store: QboStore, changes: list[EntityChange]) -> None:
    store.create(REALM, "Customer", {"DisplayName": "Only"})
    with pytest.raises(QboFault):
        store.create(REALM, "Customer", {"DisplayName": "only"})
    assert len(changes) == 1


def test_a_failing_listener_does_not_fail_the_write() -> None:
    def broken(_: EntityChange) -> None:
        raise RuntimeError("webhook queue is down")

    store = QboStore(SandboxClock(), on_change=broken)
    store.add_realm(REALM, "Test Company")
    created = store.create(REALM, "Customer", {"DisplayName": "Still Saved"})
    assert store.read(REALM, "Customer", created["Id"]) == created


def test_entities_are_accepted_by_our_typed_qbo_models(store: QboStore) -> None:
    customer = store.create(
        REALM,
        "Customer",
        {
            "DisplayName": "Typed",
            "PrimaryEmailAddr": {"Address": "t@example.com"},
            "BillAddr": {"Line1": "1 Main"},
        },
    )
    item = store.create(REALM, "Item", {"Name": "Services", "UnitPrice": 12.5})
    ref = {"value": customer["Id"]}
    invoice = store.create(REALM, "Invoice", {"CustomerRef": ref, "Line": [_line(item["Id"])]})
    estimate = store.create(REALM, "Estimate", {"CustomerRef": ref, "Line": [_line(item["Id"])]})
    sent = store.send(REALM, "Invoice", invoice["Id"], "t@example.com")
    assert QboCustomer.model_validate(customer).DisplayName == "Typed"
    assert QboItem.model_validate(item).Name == "Services"
    assert QboInvoice.model_validate(sent).DeliveryInfo is not None
    assert QboEstimate.model_validate(estimate).TxnStatus == "Pending"
