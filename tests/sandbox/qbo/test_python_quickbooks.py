"""The independent `python-quickbooks` library against the live sandbox: if it cannot tell the
difference from QBO for these calls, neither can other clients."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from intuitlib.client import AuthClient
from quickbooks import QuickBooks
from quickbooks.batch import batch_create
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item

from tests.sandbox.qbo.conftest import REDIRECT_URI, Qbo


@pytest.fixture
def qb(qbo: Qbo, monkeypatch: pytest.MonkeyPatch) -> Iterator[QuickBooks]:
    # requests-oauthlib refuses plain http unless told this is a local test.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    sandbox = qbo.sandbox
    auth_client = AuthClient(
        sandbox.config.client_id,
        sandbox.config.client_secret,
        REDIRECT_URI,
        # intuitlib takes any other value than sandbox/production as the discovery URL.
        environment=f"{sandbox.base_url}/.well-known/openid_configuration",
        access_token=sandbox.access_token,
        refresh_token=sandbox.refresh_token,
        realm_id=sandbox.realm_id,
    )
    client = QuickBooks(
        auth_client=auth_client,
        refresh_token=sandbox.refresh_token,
        company_id=sandbox.realm_id,
        minorversion=75,
    )
    client.api_url_v3 = f"{sandbox.base_url}/v3"
    yield client


def test_python_quickbooks_creates_reads_updates_and_queries_customers(qb: QuickBooks) -> None:
    customer = Customer()
    customer.DisplayName = "Sandbox Smoke"
    customer.GivenName = "Sandy"
    customer.PrimaryEmailAddr = None
    saved = customer.save(qb=qb)
    assert saved.Id and saved.SyncToken == "0"

    read = Customer.get(saved.Id, qb=qb)
    assert read.DisplayName == "Sandbox Smoke" and read.GivenName == "Sandy"

    read.CompanyName = "Smoke & Mirrors"
    updated = read.save(qb=qb)  # a full update of everything read, as the library does it
    assert updated.SyncToken == "1" and updated.CompanyName == "Smoke & Mirrors"

    found = Customer.filter(DisplayName="Sandbox Smoke", qb=qb)
    assert [c.Id for c in found] == [saved.Id]
    assert Customer.count(qb=qb) == 1
    assert [c.Id for c in Customer.all(qb=qb)] == [saved.Id]

    read.Notes = "stale"
    with pytest.raises(QuickbooksException) as stale:  # 5010 is above its validation range
        read.save(qb=qb)  # read still carries SyncToken 0
    assert stale.value.error_code == 5010

    duplicate = Customer()
    duplicate.DisplayName = "sandbox smoke"
    with pytest.raises(QuickbooksException) as clash:
        duplicate.save(qb=qb)
    assert clash.value.error_code == 6240


def test_python_quickbooks_invoices_batch_and_cdc(qb: QuickBooks, qbo: Qbo) -> None:
    # The library formats changedSince without an offset: QBO reads it as company time.
    since = qbo.sandbox.parts.clock.now()
    customer = Customer()
    customer.DisplayName = "Invoice Buyer"
    customer = customer.save(qb=qb)
    item = Item()
    item.Name = "Consulting"
    item.Type = "Service"
    item.UnitPrice = 150
    item = item.save(qb=qb)
    assert [i.Name for i in Item.all(qb=qb)] == ["Consulting"]

    line = SalesItemLine()
    line.Amount = 300
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = item.to_ref()
    line.SalesItemLineDetail.Qty = 2
    line.SalesItemLineDetail.UnitPrice = 150
    invoice = Invoice()
    invoice.CustomerRef = customer.to_ref()
    invoice.Line = [line]
    invoice = invoice.save(qb=qb)
    assert invoice.TotalAmt == 300 and invoice.Balance == 300
    invoice.PrivateNote = "Thanks for your business"
    invoice = invoice.save(qb=qb)  # full update echoing the subtotal line and read-only totals
    assert invoice.SyncToken == "1" and len(invoice.Line) == 2 and invoice.TotalAmt == 300

    invoice.send(qb=qb, send_to="buyer@example.com")
    sent = Invoice.get(invoice.Id, qb=qb)
    assert sent.EmailStatus == "EmailSent" and sent.BillEmail.Address == "buyer@example.com"
    sent.void(qb=qb)
    assert Invoice.get(invoice.Id, qb=qb).TotalAmt == 0

    first, second = Customer(), Customer()
    first.DisplayName, second.DisplayName = "Batch One", "Invoice Buyer"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = batch_create([first, second], qb=qb)
    assert [c.DisplayName for c in result.successes] == ["Batch One"]
    assert result.faults[0].Error[0].code == "6240"

    cdc = change_data_capture([Customer, Invoice], since, qb=qb)
    assert {c.DisplayName for c in cdc.Customer} >= {"Invoice Buyer", "Batch One"}
    assert [i.Id for i in cdc.Invoice] == [invoice.Id]
