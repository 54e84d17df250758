"""The QBO contract, run through two independent clients against the running sandbox.

Each test runs once through our adapter and once through python-quickbooks (conftest `driver`).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from tests.contract.qbo.drivers import ContractFault, QboDriver


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


async def test_create_then_read_returns_the_customer_at_sync_token_zero(driver: QboDriver):
    name = unique("Ada Lovelace")
    created = await driver.create_customer(name, email="ada@example.com")
    assert created["SyncToken"] == "0"
    read = await driver.read_customer(created["Id"])
    assert read["DisplayName"] == name
    assert read["PrimaryEmailAddr"]["Address"] == "ada@example.com"
    assert read["MetaData"]["CreateTime"]


async def test_a_sparse_update_changes_only_the_given_fields_and_bumps_the_sync_token(
    driver: QboDriver,
):
    created = await driver.create_customer(unique("Grace Hopper"), email="grace@example.com")
    updated = await driver.sparse_update_customer(
        created["Id"], created["SyncToken"], {"PrimaryPhone": {"FreeFormNumber": "555-1234"}}
    )
    assert updated["SyncToken"] == "1"
    assert updated["PrimaryPhone"]["FreeFormNumber"] == "555-1234"
    assert updated["PrimaryEmailAddr"]["Address"] == "grace@example.com"


async def test_an_update_with_a_stale_sync_token_fails_with_5010(driver: QboDriver):
    created = await driver.create_customer(unique("Alan Turing"))
    await driver.sparse_update_customer(created["Id"], "0", {"CompanyName": "Bletchley"})
    with pytest.raises(ContractFault) as caught:
        await driver.sparse_update_customer(created["Id"], "0", {"CompanyName": "Manchester"})
    assert caught.value.code == "5010"


async def test_a_duplicate_display_name_fails_with_6240(driver: QboDriver):
    name = unique("Katherine Johnson")
    await driver.create_customer(name)
    with pytest.raises(ContractFault) as caught:
        await driver.create_customer(name)
    assert caught.value.code == "6240"


async def test_a_query_pages_through_every_match_exactly_once(driver: QboDriver):
    prefix = f"Pager{uuid.uuid4().hex[:6]}"
    names = {f"{prefix} {i:02d}" for i in range(23)}
    for name in sorted(names):
        await driver.create_customer(name)
    found = await driver.query_all(
        f"SELECT * FROM Customer WHERE DisplayName LIKE '{prefix}%' ORDERBY DisplayName",
        page_size=10,
    )
    assert [c["DisplayName"] for c in found] == sorted(names)


async def test_change_data_capture_returns_what_changed_since_a_time(driver: QboDriver):
    before = datetime.now().astimezone() - timedelta(seconds=2)
    created = await driver.create_customer(unique("Hedy Lamarr"))
    await driver.sparse_update_customer(created["Id"], "0", {"CompanyName": "Inventions Inc"})
    changes = await driver.changes_since(["Customer"], before)
    mine = [c for c in changes["Customer"] if c["Id"] == created["Id"]]
    assert len(mine) == 1
    assert mine[0]["SyncToken"] == "1"
    assert mine[0]["CompanyName"] == "Inventions Inc"


async def test_batch_items_succeed_or_fail_independently(driver: QboDriver):
    taken = unique("Taken Name")
    await driver.create_customer(taken)
    first, second = unique("Batch One"), unique("Batch Two")
    results = await driver.batch_create_customers([first, taken, second])
    assert isinstance(results[0], dict) and results[0]["DisplayName"] == first
    assert isinstance(results[1], ContractFault) and results[1].code == "6240"
    assert isinstance(results[2], dict) and results[2]["DisplayName"] == second


async def test_sending_an_invoice_marks_it_emailed_to_the_given_address(driver: QboDriver):
    customer = await driver.create_customer(unique("Mary Jackson"), email="mary@example.com")
    item = await driver.create_item(unique("Consulting"), "150.00")
    invoice = await driver.create_invoice(customer["Id"], item["Id"], 2, "150.00")
    assert float(invoice["TotalAmt"]) == 300.0
    sent = await driver.send_invoice(invoice["Id"], "billing@example.com")
    assert sent["EmailStatus"] == "EmailSent"
    assert sent["BillEmail"]["Address"] == "billing@example.com"
    assert sent["DeliveryInfo"]["DeliveryType"] == "Email"
    assert int(sent["SyncToken"]) > int(invoice["SyncToken"])
