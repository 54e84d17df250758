"""Document commands (SYNC-RULES 6 and 7) run by the CommandRunner against the real QBO and CRM
sandboxes over HTTP: find or create the person's customer, create, send, convert; each safe to
run twice."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from adapters.crm.client import CrmClient
from adapters.executor import CommandRunner
from adapters.executor.document_commands import convert_estimate
from adapters.executor.outcomes import Writes, request_id
from adapters.qbo.client import QboClient, quoted
from adapters.qbo.models import BatchOperation
from schemas.crm import CrmDeal, CrmPerson
from schemas.outcomes import CommandFailed, CommandSucceeded
from schemas.qbo import QboCustomer, QboEstimate, QboInvoice, QboItem
from schemas.requests import DocumentLine
from schemas.settings import DEFAULT_FIELD_MAPPING
from tests.adapters.executor import builders
from tests.adapters.executor.builders import NOW, TENANT, new_id
from tests.adapters.executor.conftest import runner_for
from tests.adapters.qbo.conftest import REALM, Adapter, unique

MAPPING = [pair.model_dump() for pair in DEFAULT_FIELD_MAPPING]


def succeeded(outcome: Any) -> dict[str, Any]:
    assert isinstance(outcome, CommandSucceeded), outcome
    return outcome.data.result


def failed(outcome: Any) -> CommandFailed:
    assert isinstance(outcome, CommandFailed), outcome
    return outcome


# -- arranging both worlds --------------------------------------------------------------------


async def an_item(qbo: QboClient, price: int = 100) -> QboItem:
    body = {
        "Name": unique("Consulting"),
        "Type": "Service",
        "UnitPrice": price,
        "IncomeAccountRef": {"value": "1"},
    }
    [outcome] = await qbo.batch([BatchOperation("create", "Item", body)], new_id())
    assert isinstance(outcome.entity, QboItem)
    return outcome.entity


def lines_of(item: QboItem, quantity: str = "2", price: str = "100") -> list[dict[str, Any]]:
    return [{"item_id": item.Id, "quantity": quantity, "unit_price": price}]


async def a_person(crm: CrmClient, *, email: bool = True, company_id: int | None = None):
    name = unique("Dana")
    first, last = name.split()
    fields: dict[str, str | None] = {"first_name": first, "last_name": last}
    if email:
        fields["email"] = f"{last}@example.com"
    return await crm.create_person(fields, company_id=company_id)


async def a_deal(crm: CrmClient, *people: CrmPerson) -> CrmDeal:
    attrs = {"name": unique("Deal"), "person_ids": [p.id for p in people]}
    return await crm._write(CrmDeal, "POST", "deals", "deal", attrs)


def invoice_for(person: CrmPerson, deal: CrmDeal, item: QboItem, **data: Any):
    document = {
        "customer_id": None,
        "person_id": person.id,
        "deal_id": deal.id,
        "lines": lines_of(item),
        "field_mapping": MAPPING,
        **data,
    }
    return builders.create_invoice(REALM, document)


async def customers_with(qbo: QboClient, where: str) -> list[QboCustomer]:
    rows = [row async for row in qbo.query(f"SELECT * FROM Customer WHERE {where}")]
    return [row for row in rows if isinstance(row, QboCustomer)]


async def invoices_of(qbo: QboClient, customer_id: str) -> int:
    return await qbo.count("Invoice", f"CustomerRef = '{customer_id}'")


def qbo_requests(qbo_adapter: Adapter) -> int:
    stats = qbo_adapter.sandbox.control("GET", f"/_sandbox/realms/{REALM}/stats")
    return sum(n for kind, n in stats["requests"].items() if kind != "replayed")


def linked_to(owner_of: dict[str, int]):
    async def linked_person_of(tenant: str, customer_id: str) -> int | None:
        assert tenant == TENANT
        return owner_of.get(customer_id)

    return linked_person_of


# -- create for a linked person ---------------------------------------------------------------


async def test_a_document_for_a_linked_customer_is_one_qbo_call_and_never_reads_the_crm(
    qbo_adapter, qbo
):
    def no_crm(tenant: str) -> CrmClient:
        raise AssertionError("the CRM must not be read for a linked person")

    runner = CommandRunner(lambda t, r: qbo_adapter.client(r, t), no_crm, lambda: NOW)
    customer = await qbo.create_customer({"DisplayName": unique("Linked")}, new_id())
    item = await an_item(qbo)
    document = {
        "customer_id": customer.Id,
        "person_id": 4211,
        "deal_id": 3301,
        "lines": lines_of(item),
        "bill_email": "bill@example.com",
    }
    calls = qbo_requests(qbo_adapter)

    outcome = await runner.run(builders.create_estimate(REALM, document))

    result = succeeded(outcome)
    assert qbo_requests(qbo_adapter) - calls == 1 and outcome.data.attempts == 1
    estimate = QboEstimate.model_validate(result["document"])
    assert estimate.CustomerRef.value == customer.Id and estimate.TotalAmt == Decimal(200)
    assert estimate.BillEmail.Address == "bill@example.com"
    assert result["document_type"] == "estimate"
    assert (result["customer_source"], result["customer"], result["person"]) == ("link", None, None)
    assert (result["person_id"], result["deal_id"], result["sent"]) == (4211, 3301, False)
    assert (result["request_id"], result["requested_by"]) == ("req-1", 7)


# -- create for an unlinked person: find by email, or create ----------------------------------


async def test_an_unlinked_person_is_billed_to_the_lowest_customer_with_their_email(
    runner, qbo, crm
):
    company = await crm.create_company(unique("Acme"))
    person = await a_person(crm, company_id=company.id)
    deal = await a_deal(crm, person)
    email = person.email.upper()  # QBO holds it in another case: still the same address
    first = await qbo.create_customer(
        {"DisplayName": unique("A"), "PrimaryEmailAddr.Address": email}, new_id()
    )
    await qbo.create_customer(
        {"DisplayName": unique("B"), "PrimaryEmailAddr.Address": email}, new_id()
    )
    item = await an_item(qbo)

    result = succeeded(await runner.run(invoice_for(person, deal, item)))

    assert result["customer_source"] == "email"
    assert result["customer"]["Id"] == first.Id
    assert QboInvoice.model_validate(result["document"]).CustomerRef.value == first.Id
    assert result["document"]["BillEmail"]["Address"] == email  # the customer's, by default
    assert result["person"]["id"] == person.id and result["company_id"] == company.id
    assert result["realm_id"] == REALM


async def test_a_customer_linked_to_another_person_is_passed_over(qbo_adapter, qbo, crm):
    person = await a_person(crm)
    deal = await a_deal(crm, person)
    email = person.email
    taken = await qbo.create_customer(
        {"DisplayName": unique("Taken"), "PrimaryEmailAddr.Address": email}, new_id()
    )
    free = await qbo.create_customer(
        {"DisplayName": unique("Free"), "PrimaryEmailAddr.Address": email}, new_id()
    )
    runner = runner_for(qbo_adapter, crm).with_link_lookup(linked_to({taken.Id: 999}))

    result = succeeded(await runner.run(invoice_for(person, deal, await an_item(qbo))))

    assert (result["customer_source"], result["customer"]["Id"]) == ("email", free.Id)


async def test_a_customer_is_created_from_the_person_and_a_taken_name_gets_the_crm_suffix(
    runner, qbo, crm
):
    person = await a_person(crm)
    deal = await a_deal(crm, person)
    name = f"{person.first_name} {person.last_name}"
    await qbo.create_customer({"DisplayName": name}, new_id())  # someone else, same name
    outcome = await runner.run(invoice_for(person, deal, await an_item(qbo)))

    result = succeeded(outcome)
    customer = QboCustomer.model_validate(result["customer"])
    assert result["customer_source"] == "created"
    assert customer.DisplayName == f"{name} (CRM {person.id})"
    assert (customer.GivenName, customer.FamilyName) == (person.first_name, person.last_name)
    assert customer.PrimaryEmailAddr.Address == person.email
    assert result["document"]["CustomerRef"]["value"] == customer.Id
    assert outcome.data.attempts == 3  # the clash, the suffixed name, the invoice


async def test_the_same_command_run_twice_makes_one_invoice_and_one_customer(runner, qbo, crm):
    person = await a_person(crm)
    deal = await a_deal(crm, person)
    command = invoice_for(person, deal, await an_item(qbo))

    first = succeeded(await runner.run(command))
    again = succeeded(await runner.run(command))  # redelivered after a crash, say

    assert first["customer_source"] == "created"
    assert again["customer_source"] == "email"  # the first run's customer, found this time
    assert again["document"]["Id"] == first["document"]["Id"]
    assert again["customer"]["Id"] == first["customer"]["Id"]
    assert len(await customers_with(qbo, f"PrimaryEmailAddr = {quoted(person.email)}")) == 1
    assert await invoices_of(qbo, first["customer"]["Id"]) == 1


async def test_two_commands_for_the_same_person_without_email_create_one_customer(runner, qbo, crm):
    person = await a_person(crm, email=False)
    deal = await a_deal(crm, person)
    item = await an_item(qbo)

    invoice = succeeded(await runner.run(invoice_for(person, deal, item)))
    estimate_command = builders.create_estimate(
        REALM,
        {
            "person_id": person.id,
            "deal_id": deal.id,
            "lines": lines_of(item),
            "field_mapping": MAPPING,
        },
    )
    estimate = succeeded(await runner.run(estimate_command))

    assert invoice["customer_source"] == estimate["customer_source"] == "created"
    assert invoice["customer"]["Id"] == estimate["customer"]["Id"]
    name = f"{person.first_name} {person.last_name}"
    assert len(await customers_with(qbo, f"DisplayName = {quoted(name)}")) == 1


async def test_a_person_whose_created_customer_was_made_inactive_gets_a_new_one(runner, qbo, crm):
    person = await a_person(crm, email=False)
    deal = await a_deal(crm, person)
    item = await an_item(qbo)
    first = succeeded(await runner.run(invoice_for(person, deal, item)))
    old = QboCustomer.model_validate(first["customer"])
    await qbo.update_customer(old.Id, old.SyncToken, {"Active": "false"}, new_id())  # in QBO

    # QBO replays the first creation (same person, same requestid): an inactive customer.
    again = succeeded(await runner.run(invoice_for(person, deal, item)))

    assert again["customer_source"] == "created" and again["customer"]["Id"] != old.Id
    assert again["customer"]["Active"] is True
    assert again["document"]["CustomerRef"]["value"] == again["customer"]["Id"]


async def test_send_now_sends_the_new_document_to_the_address_asked_for(runner, qbo, crm):
    person = await a_person(crm)
    deal = await a_deal(crm, person)
    command = invoice_for(person, deal, await an_item(qbo), send_now=True, send_to="ap@example.com")

    outcome = await runner.run(command)

    result = succeeded(outcome)
    assert result["sent"] is True and result["send_error"] is None
    assert result["document"]["EmailStatus"] == "EmailSent"
    assert result["document"]["BillEmail"]["Address"] == "ap@example.com"
    assert outcome.data.attempts == 3  # the customer, the invoice, the send


async def test_a_send_qbo_refuses_leaves_the_document_reported_as_not_sent(runner, qbo, crm):
    person = await a_person(crm, email=False)  # no address anywhere: QBO cannot send
    deal = await a_deal(crm, person)
    result = succeeded(
        await runner.run(invoice_for(person, deal, await an_item(qbo), send_now=True))
    )
    assert result["sent"] is False and "BillEmail" in result["send_error"]
    assert await invoices_of(qbo, result["customer"]["Id"]) == 1


async def test_a_person_not_on_the_deal_fails_naming_both_before_anything_reaches_qbo(
    runner, qbo_adapter, qbo, crm
):
    person, other = await a_person(crm), await a_person(crm)
    deal = await a_deal(crm, other)
    command = invoice_for(person, deal, await an_item(qbo))
    calls = qbo_requests(qbo_adapter)

    outcome = failed(await runner.run(command))

    assert (outcome.data.code, outcome.data.retryable) == ("not_on_deal", False)
    assert f"person {person.id}" in outcome.data.reason and f"deal {deal.id}" in outcome.data.reason
    assert qbo_requests(qbo_adapter) == calls


async def test_a_person_missing_from_the_crm_fails_for_good(runner, qbo, crm):
    deal = await a_deal(crm, await a_person(crm))
    ghost = CrmPerson(id=987654321)
    outcome = failed(await runner.run(invoice_for(ghost, deal, await an_item(qbo))))
    assert (outcome.data.code, outcome.data.retryable) == ("not_found", False)
    assert "987654321" in outcome.data.reason


# -- send -------------------------------------------------------------------------------------


async def test_a_send_reports_the_sent_document_and_its_kind(runner, qbo):
    customer = await qbo.create_customer({"DisplayName": unique("Send")}, new_id())
    invoice = await qbo.create_invoice(
        customer.Id, [DocumentLine(**lines_of(await an_item(qbo))[0])], new_id()
    )
    result = succeeded(
        await runner.run(builders.send_document(REALM, "invoice", invoice.Id, "p@example.com"))
    )
    assert result["document_type"] == "invoice" and result["send_to"] == "p@example.com"
    assert result["document"]["Id"] == invoice.Id
    assert result["document"]["EmailStatus"] == "EmailSent"


# -- convert ----------------------------------------------------------------------------------


async def an_estimate(qbo: QboClient, **options: Any) -> QboEstimate:
    customer = await qbo.create_customer({"DisplayName": unique("Est")}, new_id())
    one, two = await an_item(qbo), await an_item(qbo)
    lines = [
        DocumentLine(
            item_id=one.Id, description="Design", quantity=Decimal(3), unit_price=Decimal("120.50")
        ),
        DocumentLine(item_id=two.Id, quantity=Decimal(1), unit_price=Decimal(80)),
    ]
    return await qbo.create_estimate(customer.Id, lines, new_id(), **options)


def copied(document: QboInvoice | QboEstimate) -> list[tuple[str, str | None, Decimal, Decimal]]:
    return [
        (
            line.SalesItemLineDetail.ItemRef.value,
            line.Description,
            line.SalesItemLineDetail.Qty,
            line.SalesItemLineDetail.UnitPrice,
        )
        for line in document.Line
        if line.DetailType == "SalesItemLineDetail"
    ]


async def test_convert_copies_the_lines_links_the_estimate_and_closes_it(runner, qbo):
    estimate = await an_estimate(qbo, bill_email="buyer@example.com")

    result = succeeded(await runner.run(builders.convert_estimate(REALM, estimate.Id)))

    invoice = QboInvoice.model_validate(result["document"])
    assert copied(invoice) == copied(estimate)
    assert invoice.TotalAmt == estimate.TotalAmt == Decimal("441.50")
    assert [(t.TxnId, t.TxnType) for t in invoice.LinkedTxn] == [(estimate.Id, "Estimate")]
    assert invoice.CustomerRef.value == estimate.CustomerRef.value == result["customer_id"]
    assert invoice.BillEmail.Address == "buyer@example.com"
    after = await qbo.get_estimate(estimate.Id)
    assert after.TxnStatus == "Closed" == result["estimate"]["TxnStatus"]
    assert result["already_converted"] is False and result["document_type"] == "invoice"


async def test_convert_run_twice_makes_one_invoice(runner, qbo):
    estimate = await an_estimate(qbo)
    command = builders.convert_estimate(REALM, estimate.Id)

    first = succeeded(await runner.run(command))
    again = succeeded(await runner.run(command))

    assert again["document"]["Id"] == first["document"]["Id"]
    assert again["already_converted"] is True
    assert await invoices_of(qbo, estimate.CustomerRef.value) == 1


async def test_converting_a_rejected_estimate_fails_with_a_clear_reason(runner, qbo):
    estimate = await an_estimate(qbo)
    estimate = await qbo.update_estimate(
        estimate.Id, estimate.SyncToken, {"TxnStatus": "Rejected"}, new_id()
    )
    assert estimate.TxnStatus == "Rejected"

    outcome = failed(await runner.run(builders.convert_estimate(REALM, estimate.Id)))

    assert (outcome.data.code, outcome.data.retryable) == ("estimate_rejected", False)
    assert f"estimate {estimate.Id} was rejected" in outcome.data.reason
    assert await invoices_of(qbo, estimate.CustomerRef.value) == 0


class QboThatLeavesEstimatesOpen:
    """A gateway whose invoices do not close the estimates they link to (the sandbox's do)."""

    def __init__(self, estimate: QboEstimate, invoice: QboInvoice) -> None:
        self.estimate, self.invoice = estimate, invoice
        self.updates: list[tuple[str, str, dict[str, Any], str]] = []
        self.created_with: list[str] = []

    async def get_estimate(self, estimate_id: str) -> QboEstimate:
        return self.estimate

    async def create_invoice(self, customer_id: str, lines: Any, rid: str, **options: Any):
        assert options["from_estimate_id"] == self.estimate.Id
        self.created_with.append(rid)
        return self.invoice

    async def update_estimate(self, estimate_id, sync_token, fields, rid) -> QboEstimate:
        self.updates.append((estimate_id, sync_token, dict(fields), rid))
        return self.estimate.model_copy(update={"TxnStatus": "Closed", "SyncToken": "2"})


@pytest.mark.parametrize("status", ["Pending", "Accepted"])
async def test_convert_closes_the_estimate_itself_when_qbo_left_it_open(status):
    meta = {"LastUpdatedTime": NOW.isoformat()}
    line = {
        "DetailType": "SalesItemLineDetail",
        "Amount": 50,
        "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": 1, "UnitPrice": 50},
    }
    estimate = QboEstimate.model_validate(
        {
            "Id": "7",
            "SyncToken": "1",
            "MetaData": meta,
            "CustomerRef": {"value": "58"},
            "Line": [line],
            "TxnStatus": status,
        }
    )
    invoice = QboInvoice.model_validate(
        {"Id": "9", "SyncToken": "0", "MetaData": meta, "CustomerRef": {"value": "58"}}
    )
    qbo = QboThatLeavesEstimatesOpen(estimate, invoice)
    command = builders.convert_estimate(REALM, "7")
    writes = Writes()

    result = await convert_estimate(qbo, command, writes)  # type: ignore[arg-type]

    [(estimate_id, token, fields, rid)] = qbo.updates
    assert (estimate_id, token, fields) == ("7", "1", {"TxnStatus": "Closed"})
    # Its own requestid, naming the version it closes: never the invoice's (QBO would replay it).
    assert qbo.created_with == [request_id(command.id)]
    assert rid == request_id(command.id, "close1") != qbo.created_with[0]
    assert result["estimate"]["TxnStatus"] == "Closed" and writes.count == 2
