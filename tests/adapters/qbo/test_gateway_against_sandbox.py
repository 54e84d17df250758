"""The QboGateway over HTTP against the sandbox: typed entities, faults as typed errors, paging,
CDC, batch and the document life cycle."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from adapters.qbo.errors import DuplicateNameError, NotFoundError, StaleObjectError
from adapters.qbo.fields import read_path
from adapters.qbo.models import BatchOperation
from adapters.qbo.ports import QboGateway
from schemas.qbo import QboCustomer, QboEstimate, QboInvoice, QboItem
from schemas.requests import DocumentLine
from tests.adapters.qbo.conftest import OTHER_REALM, unique


def command_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
async def client(adapter):
    await adapter.connect_directly()
    gateway: QboGateway = adapter.client()  # the client is what the engine's port asks for
    return gateway


async def test_a_customer_is_created_read_and_updated_field_by_field(client):
    name = unique("Jane Doe")
    created = await client.create_customer(
        {
            "DisplayName": name,
            "PrimaryEmailAddr.Address": "jane@example.com",
            "PrimaryPhone.FreeFormNumber": "555-0100",
            "BillAddr.Line1": "1 Main St",
            "BillAddr.City": "Oslo",
            "CompanyName": "Doe Ltd",
        },
        command_id(),
    )
    assert isinstance(created, QboCustomer) and created.SyncToken == "0"

    updated = await client.update_customer(
        created.Id,
        created.SyncToken,
        {
            "BillAddr.City": "Bergen",
            "PrimaryPhone.FreeFormNumber": None,
            "CompanyName": None,
            "DisplayName": None,
        },
        command_id(),
    )

    read = await client.get_customer(created.Id)
    assert read == updated and read.SyncToken == "1"
    assert read_path(read, "BillAddr.City") == "Bergen"
    assert read_path(read, "BillAddr.Line1") == "1 Main St"  # sibling kept
    assert read_path(read, "PrimaryPhone.FreeFormNumber") is None  # cleared
    assert read_path(read, "CompanyName") is None  # cleared
    assert read.DisplayName == name  # a null DisplayName keeps the old one
    assert read_path(read, "PrimaryEmailAddr.Address") == "jane@example.com"


async def test_an_update_on_a_stale_sync_token_raises_stale_object_error(client):
    created = await client.create_customer({"DisplayName": unique("Stale")}, command_id())
    await client.update_customer(created.Id, "0", {"GivenName": "A"}, command_id())
    with pytest.raises(StaleObjectError) as caught:
        await client.update_customer(created.Id, "0", {"GivenName": "B"}, command_id())
    assert caught.value.code == "5010" and caught.value.intuit_tid


async def test_a_taken_display_name_raises_duplicate_name_error(client):
    name = unique("Twin")
    await client.create_customer({"DisplayName": name}, command_id())
    with pytest.raises(DuplicateNameError) as caught:
        await client.create_customer({"DisplayName": name}, command_id())
    assert caught.value.code == "6240"


async def test_a_missing_customer_raises_not_found(client):
    with pytest.raises(NotFoundError):
        await client.get_customer("999999999")


async def test_query_pages_through_more_than_a_thousand_customers(adapter, sandbox):
    sandbox.control("POST", f"/_sandbox/realms/{OTHER_REALM}/reset")
    sandbox.control("POST", f"/_sandbox/realms/{OTHER_REALM}/seed", params={"customers": 1205})
    await adapter.connect_directly(OTHER_REALM, username="accountant")
    client = adapter.client(OTHER_REALM)

    total = await client.count("Customer")
    rows = [row async for row in client.query("SELECT * FROM Customer ORDERBY Id")]

    assert total > 1000
    assert len(rows) == total
    assert len({row.Id for row in rows}) == total
    assert all(isinstance(row, QboCustomer) for row in rows)


async def test_query_refuses_a_select_that_pages_itself(client):
    with pytest.raises(ValueError, match="pages by itself"):
        [row async for row in client.query("SELECT * FROM Customer MAXRESULTS 10")]


async def test_cdc_returns_what_changed_since_a_moment(client):
    since = datetime.now(UTC) - timedelta(minutes=5)
    created = await client.create_customer({"DisplayName": unique("Cdc")}, command_id())
    changes = await client.cdc(["Customer"], since)
    assert created.Id in {entity.Id for entity in changes.changed}
    assert changes.server_time is not None


async def test_batch_sends_thirty_items_per_call_and_types_each_outcome(client, sandbox):
    names = [unique("Batch") for _ in range(34)]
    taken = unique("Taken")
    await client.create_customer({"DisplayName": taken}, command_id())
    ops = [BatchOperation("create", "Customer", {"DisplayName": n}) for n in [*names, taken]]
    ops.append(
        BatchOperation("query", query=f"SELECT * FROM Customer WHERE DisplayName = '{taken}'")
    )

    outcomes = await client.batch(ops, command_id())

    assert len(outcomes) == 36
    assert all(isinstance(o.entity, QboCustomer) for o in outcomes[:34])
    assert isinstance(outcomes[34].error, DuplicateNameError)
    assert [row.DisplayName for row in outcomes[35].query_results] == [taken]


async def test_documents_from_estimate_to_sent_invoice_then_void_and_delete(client):
    customer = await client.create_customer({"DisplayName": unique("Buyer")}, command_id())
    item_outcome = (
        await client.batch(
            [
                BatchOperation(
                    "create",
                    "Item",
                    {
                        "Name": unique("Consulting"),
                        "Type": "Service",
                        "UnitPrice": 150,
                        "IncomeAccountRef": {"value": "1"},
                    },
                )
            ],
            command_id(),
        )
    )[0]
    assert isinstance(item_outcome.entity, QboItem), item_outcome.error
    item = await client.get_item(item_outcome.entity.Id)
    lines = [DocumentLine(item_id=item.Id, quantity=Decimal(2), unit_price=Decimal("150"))]

    estimate = await client.create_estimate(customer.Id, lines, command_id(), bill_email="b@x.co")
    invoice = await client.create_invoice(
        customer.Id, lines, command_id(), from_estimate_id=estimate.Id, bill_email="b@x.co"
    )
    assert isinstance(estimate, QboEstimate) and isinstance(invoice, QboInvoice)
    assert invoice.TotalAmt == Decimal(300)
    assert (await client.get_estimate(estimate.Id)).TxnStatus == "Closed"

    sent = await client.send("invoice", invoice.Id, "pay@x.co", command_id())
    assert sent.EmailStatus == "EmailSent" and sent.BillEmail is not None
    assert sent.BillEmail.Address == "pay@x.co"

    voided = await client.void_invoice(invoice.Id, sent.SyncToken, command_id())
    assert voided.TotalAmt == 0
    deleted = await client.delete_document("estimate", estimate.Id, "1", command_id())
    assert deleted.id == estimate.Id
    with pytest.raises(NotFoundError):
        await client.get_estimate(estimate.Id)
