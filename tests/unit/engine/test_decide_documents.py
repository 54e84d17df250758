"""decide() on invoices and proposals from the CRM: SYNC-RULES 2.6, 3, 6 and 7, over the pure core.

Requests become one command each, after the permission, enabled and connected gates; the
executor's outcomes become `DocumentCreated` / `DocumentSent`, and a `LinkMade` when a customer
was found by email or created for a person without a link.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.decide import Decision, LinkKey, decide, link_key
from engine.ids import derived_id
from engine.link_state import LinkState, fold_link
from engine.state import TenantState
from schemas.commands import (
    ConvertQboEstimate,
    CreateQboEstimate,
    CreateQboInvoice,
    SendQboDocument,
)
from schemas.decisions import (
    DocumentCreated,
    DocumentSent,
    InputApplied,
    LinkMade,
    RequestDenied,
)
from schemas.envelope import Envelope, type_of
from schemas.outcomes import CommandFailed, CommandSucceeded
from schemas.qbo import QboEstimateChanged, QboEstimateDeleted, QboInvoiceChanged, QboInvoiceDeleted
from schemas.requests import (
    DocumentSendRequested,
    EstimateConvertRequested,
    EstimateCreateRequested,
    InvoiceCreateRequested,
)
from schemas.settings import FieldPair, IntegrationSettings, Permissions

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
REALM = "9130357"
SETTINGS = IntegrationSettings(
    field_mapping=(FieldPair(crm="email", qbo="PrimaryEmailAddr.Address"),)
)
LINES = [{"item_id": "5", "description": "Consulting", "quantity": "10", "unit_price": "150.00"}]
JOHN = {"id": 4211, "full_name": "John Smith", "email": "john@example.com", "company_id": 880}
JOHN_QBO = {
    "Id": "58",
    "SyncToken": "3",
    "DisplayName": "John Smith",
    "PrimaryEmailAddr": {"Address": "john@example.com"},
    "MetaData": {"LastUpdatedTime": NOW.isoformat()},
}


def a_link(status: str = "active", *, realm_id: str = REALM, customer_id: str = "58") -> LinkState:
    return LinkState(
        tenant="acme-co",
        person_id=4211,
        customer_id=customer_id,
        realm_id=realm_id,
        via="import",
        status=status,  # type: ignore[arg-type]
        crm=JOHN,
        qbo=JOHN_QBO,
        qbo_sync_token="3",
        last_input_id="import-1",
        updated_at=NOW,
    )


def tenant(link: LinkState | None = None, *, enabled: bool = True, realm: str | None = REALM):
    return TenantState(
        installed=True, enabled=enabled, settings=SETTINGS, realm_id=realm, link=link
    )


def envelope(cls: type[Envelope], data: dict[str, Any], event_id: str = "req-1") -> Envelope:
    return cls.model_validate(
        {"id": event_id, "source": "/test", "time": NOW, "tenant": "acme-co", "data": data}
    )


def request(cls: type[Envelope], *, admin: bool = True, **data: Any) -> Envelope:
    return envelope(cls, {"actor": {"user_id": 7, "is_admin": admin}, **data})


def invoice_request(**data: Any) -> Envelope:
    return request(InvoiceCreateRequested, deal_id=3301, person_id=4211, lines=LINES, **data)


def estimate_request(**data: Any) -> Envelope:
    return request(EstimateCreateRequested, deal_id=3301, person_id=4211, lines=LINES, **data)


def send_request() -> Envelope:
    return request(DocumentSendRequested, document_type="estimate", qbo_id="101", send_to="a@b.co")


def convert_request() -> Envelope:
    return request(EstimateConvertRequested, estimate_id="101")


def run(state: TenantState, event: Envelope) -> Decision:
    return decide(state, event, state.settings, NOW)


def the(decision: Decision, cls: type[Envelope]) -> Any:
    [found] = [e for e in (*decision.events, *decision.commands) if isinstance(e, cls)]
    return found


def none_of(decision: Decision, cls: type[Envelope]) -> bool:
    return not [e for e in (*decision.events, *decision.commands) if isinstance(e, cls)]


# --- requests → commands ---------------------------------------------------------------------


def test_rule_6_an_invoice_request_is_a_create_invoice_command_for_the_linked_customer():
    decision = run(tenant(a_link()), invoice_request(txn_date="2026-11-24", send_now=True))

    command = the(decision, CreateQboInvoice)
    assert command.id == derived_id("req-1", "create-document")
    assert command.subject == "crm/deal/3301"
    data = command.data
    assert (data.realm_id, data.customer_id, data.person_id, data.deal_id) == (
        REALM,
        "58",
        4211,
        3301,
    )
    assert [line.model_dump(mode="json") for line in data.lines] == LINES
    assert (data.request_id, data.requested_by) == ("req-1", 7)
    assert data.bill_email == "john@example.com"  # the linked person's
    assert (data.send_now, data.send_to, data.txn_date) == (True, None, "2026-11-24")
    assert data.field_mapping == SETTINGS.field_mapping
    assert data.from_estimate_id is None
    assert the(decision, InputApplied).data.command_ids == (command.id,)


def test_rule_6_an_estimate_request_is_a_create_estimate_command():
    decision = run(tenant(a_link()), estimate_request())
    command = the(decision, CreateQboEstimate)
    assert (command.data.customer_id, command.data.deal_id) == ("58", 3301)
    assert none_of(decision, CreateQboInvoice)


def test_rule_6_the_address_asked_for_is_the_bill_email():
    command = the(run(tenant(a_link()), invoice_request(send_to="ap@x.co")), CreateQboInvoice)
    assert (command.data.bill_email, command.data.send_to) == ("ap@x.co", "ap@x.co")


@pytest.mark.parametrize(
    "link",
    [None, a_link("inactive"), a_link("ended"), a_link(realm_id="555")],
    ids=["no link", "inactive link", "ended link", "link in another realm"],
)
def test_rule_6_without_an_active_link_the_executor_finds_or_creates_the_customer(link):
    command = the(run(tenant(link), invoice_request()), CreateQboInvoice)
    assert command.data.customer_id is None and command.data.person_id == 4211
    assert command.data.bill_email is None  # the found or created customer's own, later


def test_rule_6_a_send_request_is_a_send_command():
    decision = run(tenant(), send_request())
    command = the(decision, SendQboDocument)
    assert command.subject == "qbo/estimate/101"
    data = command.data
    assert (data.document_type, data.qbo_id, data.send_to) == ("estimate", "101", "a@b.co")
    assert (data.realm_id, data.request_id, data.requested_by) == (REALM, "req-1", 7)
    assert the(decision, InputApplied).data.command_ids == (command.id,)


def test_rule_6_a_convert_request_is_a_convert_command():
    decision = run(tenant(), convert_request())
    command = the(decision, ConvertQboEstimate)
    assert command.subject == "qbo/estimate/101"
    assert (command.data.estimate_id, command.data.realm_id, command.data.requested_by) == (
        "101",
        REALM,
        7,
    )


REQUESTS = [invoice_request, estimate_request, send_request, convert_request]
KINDS = ["invoice", "estimate", "send", "convert"]


@pytest.mark.parametrize("make", REQUESTS, ids=KINDS)
def test_rule_2_6_while_disabled_a_request_is_denied_and_nothing_reaches_qbo(make):
    decision = run(tenant(a_link(), enabled=False), make())
    assert decision.commands == ()
    [denied] = decision.events
    assert isinstance(denied, RequestDenied)
    assert denied.data.code == "disabled" and denied.data.actor_user_id == 7
    assert "disabled" in denied.data.reason


@pytest.mark.parametrize("make", REQUESTS, ids=KINDS)
def test_a_request_of_a_tenant_not_connected_to_qbo_is_denied(make):
    decision = run(tenant(a_link(), realm=None), make())
    assert decision.commands == ()
    [denied] = decision.events
    assert isinstance(denied, RequestDenied) and denied.data.code == "not_connected"


def test_rule_6_the_permission_check_comes_first():
    basic = request(InvoiceCreateRequested, admin=False, deal_id=1, person_id=4211, lines=LINES)
    [denied] = run(tenant(enabled=False, realm=None), basic).events
    assert denied.data.code == "not_allowed"
    allowed = IntegrationSettings(permissions=Permissions(basic_can_create_invoices=True))
    state = TenantState(installed=True, enabled=True, settings=allowed, realm_id=REALM)
    assert decide(state, basic, allowed, NOW).commands != ()


@pytest.mark.parametrize("make", REQUESTS, ids=KINDS)
def test_rule_7_the_same_request_twice_decides_the_same_ids(make):
    assert run(tenant(a_link()), make()) == run(tenant(a_link()), make())


def test_the_shell_loads_the_link_of_the_person_a_document_is_for():
    assert link_key(invoice_request()) == LinkKey(person_id=4211)
    assert link_key(estimate_request()) == LinkKey(person_id=4211)


# --- outcomes → documents and links ----------------------------------------------------------


def outcome(command_type: type[Envelope], result: dict[str, Any], event_id: str = "out-1"):
    data = {
        "command_id": "cmd-1",
        "command_type": type_of(command_type),
        "attempts": 1,
        "result": result,
    }
    return envelope(CommandSucceeded, data, event_id)


INVOICE = {"Id": "130", "SyncToken": "0", "CustomerRef": {"value": "58"}, "TotalAmt": 1500}


def created(source: str, **changes: Any) -> dict[str, Any]:
    linked = source == "link"
    return {
        "request_id": "req-1",
        "requested_by": 7,
        "document_type": "invoice",
        "document": INVOICE,
        "realm_id": REALM,
        "customer_source": source,
        "customer": None if linked else JOHN_QBO,
        "person_id": 4211,
        "deal_id": 3301,
        "person": None if linked else JOHN,
        "company_id": None if linked else 880,
        "sent": False,
        **changes,
    }


@pytest.mark.parametrize("source", ["email", "created"])
def test_rule_6_a_document_for_an_unlinked_person_makes_the_link(source):
    decision = run(tenant(None), outcome(CreateQboInvoice, created(source)))

    document = the(decision, DocumentCreated)
    assert document.subject == "qbo/invoice/130"
    assert document.data.customer_source == source
    made = the(decision, LinkMade)
    assert made.id == derived_id("out-1", "link-made")
    assert (made.data.person_id, made.data.customer_id, made.data.realm_id) == (4211, "58", REALM)
    assert (made.data.via, made.data.crm, made.data.qbo) == ("document", JOHN, JOHN_QBO)
    assert made.data.qbo_sync_token == "3"
    link = fold_link(None, made)  # the store folds it into a live link
    assert (link.status, link.customer_id, link.via) == ("active", "58", "document")
    assert the(decision, InputApplied).data.command_ids == ()


def test_rule_6_document_created_records_the_request_the_deal_and_the_document():
    data = the(
        run(tenant(None), outcome(CreateQboInvoice, created("created"))), DocumentCreated
    ).data
    assert (data.input_id, data.command_id, data.request_id, data.requested_by) == (
        "out-1",
        "cmd-1",
        "req-1",
        7,
    )
    assert (data.document_type, data.qbo_id, data.customer_id) == ("invoice", "130", "58")
    assert (data.person_id, data.deal_id, data.company_id, data.sent) == (4211, 3301, 880, False)
    assert data.snapshot == INVOICE and data.from_estimate_id is None


def test_rule_6_a_document_for_a_linked_customer_makes_no_new_link():
    decision = run(tenant(a_link()), outcome(CreateQboEstimate, created("link", sent=True)))
    document = the(decision, DocumentCreated)
    assert (document.data.customer_source, document.data.sent) == ("link", True)
    assert document.data.company_id == 880  # the linked person's, as the link knows them
    assert none_of(decision, LinkMade)


def test_rule_6_only_a_customer_found_or_created_for_the_person_is_linked():
    # Billed to the customer the command named, whose link has ended since: not re-linked here.
    result = created("link", customer=JOHN_QBO, person=JOHN)
    decision = run(tenant(a_link("ended")), outcome(CreateQboInvoice, result))
    assert none_of(decision, LinkMade)


@pytest.mark.parametrize(
    "status", ["active", "inactive"], ids=["linked meanwhile", "inactive link"]
)
def test_rule_1_a_person_with_a_live_link_is_not_linked_a_second_time(status):
    # The command named no customer (decided before the link, or the link is inactive); the store
    # would refuse a second LinkMade over a live link, so none is decided.
    decision = run(tenant(a_link(status)), outcome(CreateQboInvoice, created("email")))
    assert none_of(decision, LinkMade)
    assert the(decision, DocumentCreated).data.person_id == 4211


def test_rule_6_a_person_whose_link_ended_is_linked_again():
    decision = run(tenant(a_link("ended")), outcome(CreateQboInvoice, created("created")))
    assert the(decision, LinkMade).data.customer_id == "58"


ESTIMATE = {"Id": "101", "SyncToken": "2", "CustomerRef": {"value": "58"}, "TxnStatus": "Closed"}
CONVERTED = {
    "request_id": "req-3",
    "requested_by": 7,
    "document_type": "invoice",
    "document": {**INVOICE, "LinkedTxn": [{"TxnId": "101", "TxnType": "Estimate"}]},
    "estimate": ESTIMATE,
    "customer_id": "58",
    "already_converted": False,
}


@pytest.mark.parametrize(
    ("link", "person"),
    [(a_link(), 4211), (None, None), (a_link(customer_id="77"), None)],
    ids=["linked", "not linked", "a link to another customer"],
)
def test_rule_6_a_conversion_is_a_document_created_from_the_estimate(link, person):
    decision = run(tenant(link), outcome(ConvertQboEstimate, CONVERTED))
    data = the(decision, DocumentCreated).data
    assert (data.qbo_id, data.from_estimate_id, data.estimate) == ("130", "101", ESTIMATE)
    assert (data.deal_id, data.customer_source, data.already_converted) == (None, "link", False)
    assert (data.person_id, data.request_id) == (person, "req-3")
    assert none_of(decision, LinkMade)


def test_an_estimate_invoiced_before_is_reported_as_such():
    result = {**CONVERTED, "already_converted": True}
    assert the(
        run(tenant(), outcome(ConvertQboEstimate, result)), DocumentCreated
    ).data.already_converted


def test_rule_6_a_send_is_a_document_sent():
    sent = {
        "request_id": "req-2",
        "requested_by": 7,
        "document_type": "estimate",
        "document": {**ESTIMATE, "EmailStatus": "EmailSent"},
        "send_to": "a@b.co",
    }
    decision = run(tenant(a_link()), outcome(SendQboDocument, sent))
    document = the(decision, DocumentSent)
    assert document.subject == "qbo/estimate/101"
    assert (document.data.qbo_id, document.data.send_to, document.data.person_id) == (
        "101",
        "a@b.co",
        4211,
    )
    assert document.data.snapshot["EmailStatus"] == "EmailSent"


@pytest.mark.parametrize(
    ("kind", "result", "key"),
    [
        (CreateQboInvoice, created("created"), LinkKey(person_id=4211)),
        (ConvertQboEstimate, CONVERTED, LinkKey(customer_id="58")),
        (SendQboDocument, {"document": ESTIMATE}, LinkKey(customer_id="58")),
    ],
    ids=["create: the person", "convert: the customer", "send: the customer"],
)
def test_the_shell_loads_the_link_each_document_outcome_is_about(kind, result, key):
    assert link_key(outcome(kind, result)) == key


@pytest.mark.parametrize("kind", [CreateQboInvoice, ConvertQboEstimate, SendQboDocument])
def test_rule_7_a_failed_document_command_is_accounted_for_with_nothing_to_decide(kind):
    data = {
        "command_id": "cmd-1",
        "command_type": type_of(kind),
        "attempts": 1,
        "reason": "CommandRefusedError: estimate 101 was rejected",
        "code": "estimate_rejected",
        "retryable": False,
    }
    decision = run(tenant(a_link()), envelope(CommandFailed, data, "out-9"))
    assert decision.commands == ()
    [applied] = decision.events
    assert isinstance(applied, InputApplied) and applied.data.input_id == "out-9"


def test_rule_7_the_same_outcome_twice_decides_the_same_ids():
    first = run(tenant(None), outcome(CreateQboInvoice, created("created")))
    again = run(tenant(None), outcome(CreateQboInvoice, created("created")))
    assert first == again
    assert [e.id for e in first.events] == [
        derived_id("out-1", "document-created"),
        derived_id("out-1", "link-made"),
        derived_id("out-1", "decision"),
    ]


# --- documents changed in QBO ----------------------------------------------------------------

DELETED = {"realm_id": REALM, "id": "130", "deleted_at": NOW.isoformat()}
QBO_DOCUMENT_INPUTS = [
    (QboInvoiceChanged, {"realm_id": REALM, "op": "updated", "entity": {**INVOICE, "MetaData": JOHN_QBO["MetaData"]}}),
    (QboInvoiceDeleted, DELETED),
    (QboEstimateChanged, {"realm_id": REALM, "op": "emailed", "entity": {**ESTIMATE, "MetaData": JOHN_QBO["MetaData"]}}),
    (QboEstimateDeleted, DELETED),
]  # fmt: skip


@pytest.mark.parametrize(
    ("cls", "data"), QBO_DOCUMENT_INPUTS, ids=lambda v: getattr(v, "__name__", "")
)
def test_rule_6_documents_changed_in_qbo_are_applied_for_the_crm_to_show_with_no_command(cls, data):
    decision = run(tenant(), envelope(cls, data, "qbo-1"))
    assert decision.commands == ()
    [applied] = decision.events
    assert isinstance(applied, InputApplied) and applied.data.input_id == "qbo-1"
