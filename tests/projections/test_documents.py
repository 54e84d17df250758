"""The documents projection on SQLite and PostgreSQL (SYNC-RULES 6): invoices and estimates from
QBO changes and the engine's document decisions, in whatever order they arrive; whose they are;
and what became of each request."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import inspect, text

from projections.db import ProjectionDb
from projections.document_queries import DocumentFilter
from projections.documents import document_status
from projections.projector import Projector
from projections.queries import ProjectionReader
from schemas.requests import Actor
from tests.projections.events import (
    Feed,
    document_created,
    dump,
    event,
    invoice_request_flow,
    qbo_document_changed,
)

TENANT, OTHER = "acme-co", "beta-co"
ADMIN = Actor(user_id=1, is_admin=True)
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CREATED = "qbsync.decision.document.created.v1"
SENT = "qbsync.decision.document.sent.v1"
INVOICE_DELETED = "qbsync.qbo.invoice.deleted.v1"
MADE = "qbsync.decision.link.made.v1"
ENDED = "qbsync.decision.link.ended.v1"
CRM_CHANGED = "qbsync.crm.person.changed.v1"


def reader(db: ProjectionDb) -> ProjectionReader:
    return ProjectionReader(db, clock=lambda: NOW)


def doc(db: ProjectionDb, document_type: str, qbo_id: str, tenant: str = TENANT):
    found = reader(db).document(tenant, document_type, qbo_id, ADMIN)
    assert found is not None, (document_type, qbo_id)
    return found


def invoice(qbo_id: str, token: str, op: str = "updated", **entity):
    return qbo_document_changed("invoice", qbo_id, token, op, **entity)


def estimate(qbo_id: str, token: str, op: str = "updated", **entity):
    return qbo_document_changed("estimate", qbo_id, token, op, **entity)


# --- created in the CRM, changed in QBO ----------------------------------------------------


def test_an_invoice_created_from_the_crm_is_on_its_deal_and_then_follows_qbo(feed, db):
    feed(document_created("130", deal_id=3301, requested_by=19))
    made = doc(db, "invoice", "130")
    assert (made.origin, made.deal_id, made.person_id, made.status) == ("crm", 3301, 4211, "open")
    assert (made.request_id, made.requested_by, made.doc_number) == ("req-invoice-130", 19, "1038")
    assert (made.total, made.balance, made.sync_token, made.emailed) == (
        Decimal("1500.0"),
        Decimal("1500.0"),
        "0",
        False,
    )
    assert [(line.item_id, line.item_name, line.quantity, line.amount) for line in made.lines] == [
        ("5", "Consulting", Decimal("10"), Decimal("1500.0"))
    ]

    feed(invoice("130", "2", op="emailed", Balance=500))
    changed = doc(db, "invoice", "130")
    assert (changed.origin, changed.deal_id, changed.request_id) == ("crm", 3301, "req-invoice-130")
    assert (changed.doc_number, changed.due_date, changed.sync_token) == ("1037", "2026-12-24", "2")
    assert changed.status == "partially_paid" and changed.balance == Decimal("500")
    assert changed.emailed and changed.email_status == "EmailSent"
    assert changed.delivered_at == datetime(2026, 11, 24, 21, 4, 5, tzinfo=UTC)
    # QBO's computed subtotal line is not a line of the document
    assert [line.detail_type for line in changed.lines] == ["SalesItemLineDetail"]
    assert [(t.txn_id, t.txn_type) for t in changed.linked_txns] == [("101", "Estimate")]
    assert changed.snapshot is not None and changed.snapshot["SyncToken"] == "2"
    page = reader(db).deal_documents(TENANT, 3301, ADMIN)
    assert [(d.document_type, d.qbo_id) for d in page.items] == [("invoice", "130")]


def test_a_qbo_change_arriving_before_its_document_created_is_kept_and_the_document_becomes_crm(
    feed, db
):
    feed(invoice("130", "1", op="created", DocNumber="1037"))
    assert doc(db, "invoice", "130").origin == "qbo"
    feed(document_created("130"))  # its snapshot (SyncToken 0) is older than QBO's
    found = doc(db, "invoice", "130")
    assert (found.origin, found.deal_id, found.request_id) == ("crm", 3301, "req-invoice-130")
    assert (found.doc_number, found.sync_token) == ("1037", "1")
    feed(invoice("130", "2"))
    assert doc(db, "invoice", "130").origin == "crm", "once crm, never back to qbo"


def test_an_older_sync_token_never_replaces_a_newer_and_at_the_same_token_qbo_wins(feed, db):
    feed(invoice("130", "3", DocNumber="v3", Balance=0))
    feed(invoice("130", "2", DocNumber="v2", Balance=1500))
    found = doc(db, "invoice", "130")
    assert (found.doc_number, found.sync_token, found.status) == ("v3", "3", "paid")
    decided = {**found.snapshot, "DocNumber": "from-decision"}
    feed(document_created("130", snapshot=decided))  # same token, a decision's copy
    assert doc(db, "invoice", "130").doc_number == "v3"
    feed(invoice("130", "3", DocNumber="v3-again"))  # QBO's own event at the same token
    assert doc(db, "invoice", "130").doc_number == "v3-again"


# --- status ---------------------------------------------------------------------------------


def test_an_invoice_is_open_partially_paid_or_paid_by_its_balance(feed, db):
    feed(
        invoice("1", "0", TotalAmt=1500, Balance=1500),
        invoice("2", "0", TotalAmt=1500, Balance="499.99"),
        invoice("3", "0", TotalAmt=1500, Balance=0),
        invoice("4", "0", TotalAmt=0, Balance=0),
    )
    statuses = [doc(db, "invoice", qbo_id).status for qbo_id in "1234"]
    assert statuses == ["open", "partially_paid", "paid", "open"]


def test_a_voided_invoice_keeps_its_row_with_zero_amounts_and_stays_voided(feed, db):
    feed(invoice("130", "2"))
    zeroed = {"TotalAmt": 0, "Balance": 0, "PrivateNote": "Voided"}
    feed(invoice("130", "3", op="voided", **zeroed))
    found = doc(db, "invoice", "130")
    assert (found.status, found.voided, found.total) == ("voided", True, Decimal("0"))
    feed(invoice("130", "4", op="updated", **zeroed | {"PrivateNote": "edited memo"}))
    assert doc(db, "invoice", "130").status == "voided"


def test_a_void_seen_only_by_a_cdc_sweep_is_recognised_by_qbos_memo_and_zero_total(feed, db):
    feed(invoice("131", "5", op="updated", TotalAmt=0, Balance=0, PrivateNote="Voided"))
    assert doc(db, "invoice", "131").status == "voided"
    feed(invoice("132", "5", op="updated", TotalAmt=0, Balance=0, PrivateNote="no charge"))
    assert doc(db, "invoice", "132").status == "open"


def test_a_deleted_document_is_marked_and_a_late_change_does_not_bring_it_back(feed, db):
    feed(invoice("131", "1"))
    deletion = event(INVOICE_DELETED)
    feed(deletion)
    found = doc(db, "invoice", "131")
    assert (found.status, found.deleted_at) == ("deleted", deletion.data.deleted_at)
    feed(invoice("131", "2"))
    assert doc(db, "invoice", "131").status == "deleted"
    feed(event(INVOICE_DELETED, id="del-999", data={"id": "999"}))  # never seen before
    assert doc(db, "invoice", "999").status == "deleted"
    assert reader(db).person_documents(TENANT, 4211, ADMIN).total == 0  # not linked yet anyway


def test_an_estimate_shows_its_txn_status(feed, db):
    feed(estimate("101", "1"), estimate("102", "1", TxnStatus="Rejected"), estimate("103", "0"))
    feed(estimate("103", "1", TxnStatus=None))
    assert [doc(db, "estimate", i).status for i in ("101", "102", "103")] == [
        "accepted",
        "rejected",
        "pending",
    ]
    assert doc(db, "estimate", "101").expiration_date == "2026-12-20"


def test_the_status_rule_on_its_own():
    base = {"deleted_at": None, "voided": False, "txn_status": None, "total": "10", "balance": "10"}
    assert document_status(base | {"document_type": "invoice"}) == "open"
    assert document_status(base | {"document_type": "invoice", "balance": None}) == "open"
    assert document_status(base | {"document_type": "invoice", "voided": True}) == "voided"
    assert document_status(base | {"document_type": "estimate"}) == "pending"
    gone = base | {"document_type": "estimate", "deleted_at": NOW}
    assert document_status(gone) == "deleted"


# --- emailed --------------------------------------------------------------------------------


def test_a_document_is_emailed_when_qbo_says_email_sent_or_the_engine_sent_it(feed, db):
    feed(invoice("130", "1", EmailStatus="NotSet", DeliveryInfo=None))
    assert not doc(db, "invoice", "130").emailed
    feed(invoice("130", "2", op="emailed"))
    assert doc(db, "invoice", "130").emailed

    feed(estimate("101", "1"))
    assert not doc(db, "estimate", "101").emailed
    sent = event(SENT)  # estimate 101 at SyncToken 2, EmailSent
    feed(sent)
    found = doc(db, "estimate", "101")
    assert found.emailed and found.sync_token == "2" and found.person_id == 4211
    assert found.delivered_at == sent.time  # the decision's snapshot has no DeliveryInfo
    # sent, even when a newer QBO version (not yet saying so) was seen first
    feed(estimate("102", "9", EmailStatus="NotSet"))
    feed(event(SENT, id="sent-102", data={"qbo_id": "102", "request_id": "req-send-102"}))
    assert doc(db, "estimate", "102").emailed


# --- conversion and attribution -------------------------------------------------------------


def test_a_converted_invoice_inherits_the_deal_and_person_of_its_estimate(feed, db):
    feed(document_created("101", "estimate", deal_id=3301, person_id=4211, company_id=880))
    feed(event(CREATED))  # golden: invoice 130 converted from 101, deal_id null
    converted = doc(db, "invoice", "130")
    assert (converted.deal_id, converted.person_id, converted.from_estimate_id) == (
        3301,
        4211,
        "101",
    )
    assert converted.origin == "crm" and converted.request_id == "req-9f03-convert"
    closed = doc(db, "estimate", "101")
    assert (closed.status, closed.sync_token, closed.request_id) == (
        "closed",
        "2",
        "req-estimate-101",
    )
    assert [(t.txn_id, t.txn_type) for t in closed.linked_txns] == [("130", "Invoice")]
    deal = reader(db).deal_documents(TENANT, 3301, ADMIN)
    assert sorted((d.document_type, d.qbo_id) for d in deal.items) == [
        ("estimate", "101"),
        ("invoice", "130"),
    ]
    only_invoices = reader(db).deal_documents(TENANT, 3301, ADMIN, DocumentFilter("invoice"))
    assert [d.qbo_id for d in only_invoices.items] == ["130"]


def test_a_second_conversion_names_the_invoice_made_before_without_taking_it_over(feed, db):
    feed(event(CREATED))
    feed(
        event(
            CREATED,
            id="dec-again",
            data={"request_id": "req-again", "already_converted": True, "input_id": "out-2"},
        )
    )
    assert doc(db, "invoice", "130").request_id == "req-9f03-convert"
    again = reader(db).request(TENANT, "req-again")
    assert again is not None
    assert [(d.action, d.qbo_id) for d in again.documents] == [("already_converted", "130")]


def test_a_qbo_document_belongs_to_the_person_linked_to_its_customer_and_their_company(feed, db):
    feed(invoice("130", "2"), estimate("101", "1"))  # customer 58, not linked yet
    assert reader(db).person_documents(TENANT, 4211, ADMIN).total == 0
    assert doc(db, "invoice", "130").person_id is None

    feed(event(MADE))  # person 4211 <-> customer 58; its CRM record names no company
    page = reader(db).person_documents(TENANT, 4211, ADMIN)
    assert sorted(d.qbo_id for d in page.items) == ["101", "130"]
    assert doc(db, "invoice", "130").company_id is None

    feed(event(CRM_CHANGED))  # the latest CRM record of 4211: company 88
    assert doc(db, "invoice", "130").company_id == 88
    assert reader(db).company_documents(TENANT, 88, ADMIN).total == 2

    with_company = {"id": 4211, "email": "john.smith@example.com", "company_id": 77}
    feed(event(MADE, id="made-again", data={"crm": with_company}))  # the link's record wins
    assert doc(db, "invoice", "130").company_id == 77
    assert reader(db).company_documents(TENANT, 88, ADMIN).total == 0
    assert reader(db).company_documents(TENANT, 77, ADMIN).total == 2


def test_a_crm_document_falls_back_to_its_person_and_company_when_the_link_is_gone(feed, db):
    feed(document_created("130", person_id=4211, company_id=880))
    assert (doc(db, "invoice", "130").person_id, doc(db, "invoice", "130").company_id) == (
        4211,
        880,
    )
    feed(event(MADE, data={"person_id": 5, "crm": {"id": 5, "company_id": 9}}))
    assert (doc(db, "invoice", "130").person_id, doc(db, "invoice", "130").company_id) == (5, 9)
    feed(event(ENDED, data={"person_id": 5, "customer_id": "58"}))
    assert doc(db, "invoice", "130").person_id == 4211
    assert reader(db).person_documents(TENANT, 5, ADMIN).total == 0


def test_deleted_documents_are_left_out_of_lists_unless_asked_for(feed, db):
    feed(event(MADE), invoice("130", "2"), invoice("131", "1"), event(INVOICE_DELETED))
    assert [d.qbo_id for d in reader(db).person_documents(TENANT, 4211, ADMIN).items] == ["130"]
    everything = DocumentFilter(include_deleted=True)
    listed = reader(db).person_documents(TENANT, 4211, ADMIN, everything).items
    assert sorted((d.qbo_id, d.status) for d in listed) == [("130", "open"), ("131", "deleted")]
    paged = reader(db).person_documents(
        TENANT, 4211, ADMIN, DocumentFilter(limit=1, offset=1, include_deleted=True)
    )
    assert (paged.total, len(paged.items)) == (2, 1)


def test_one_tenants_documents_never_show_in_anothers(feed, db):
    feed(invoice("130", "2"), event(MADE))
    feed(qbo_document_changed("invoice", "130", "7", tenant=OTHER, DocNumber="theirs"))
    assert doc(db, "invoice", "130").doc_number == "1037"
    assert doc(db, "invoice", "130", tenant=OTHER).doc_number == "theirs"
    assert reader(db).person_documents(OTHER, 4211, ADMIN).total == 0


# --- requests -------------------------------------------------------------------------------


def test_a_request_shows_its_verdict_commands_outcomes_and_the_document_it_created(feed, db):
    request, applied, command, _succeeded, _created = flow = invoice_request_flow()
    feed(request)
    pending = reader(db).request(TENANT, request.id)
    assert pending is not None and pending.verdict == "pending" and pending.commands == []
    assert (pending.request_type, pending.received_at) == (request.type, request.time)

    feed(*flow[1:3])
    issued = reader(db).request(TENANT, request.id)
    assert issued is not None and issued.verdict == "applied"
    assert issued.decided_at == applied.time
    assert [(c.command_id, c.status) for c in issued.commands] == [(command.id, "pending")]

    feed(*flow[3:])
    done = reader(db).request(TENANT, request.id)
    assert done is not None
    [ran] = done.commands
    assert (ran.command_type, ran.status, ran.attempts) == (command.type, "succeeded", 1)
    [made] = done.documents
    assert (made.action, made.document_type, made.qbo_id) == ("created", "invoice", "130")
    assert made.document is not None and made.document.deal_id == 3301


def test_a_command_named_only_by_its_request_id_is_found_and_a_failure_has_its_reason(feed, db):
    request = event("qbsync.request.estimate.create.v1", id="req-est")
    command = event(
        "qbsync.command.qbo.estimate.create.v1", id="cmd-est", data={"request_id": "req-est"}
    )
    failed = event("qbsync.outcome.failed.v1", data={"command_id": "cmd-est"})
    feed(request, command, failed)
    found = reader(db).request(TENANT, "req-est")
    assert found is not None and found.verdict == "pending"
    [ran] = found.commands
    assert (ran.status, ran.code, ran.retryable) == ("failed", "610", False)
    assert ran.reason is not None and "Item 5" in ran.reason


def test_a_denied_request_has_its_code_and_reason_and_an_unknown_one_is_none(feed, db):
    denied = event(
        "qbsync.decision.request.denied.v1",
        data={
            "input_id": "req-9f00-invoice",
            "input_type": "qbsync.request.invoice.create.v1",
            "reason": "user 19 is a basic user and basic users may not create invoices",
        },
    )
    feed(denied)
    found = reader(db).request(TENANT, "req-9f00-invoice")
    assert found is not None
    assert (found.verdict, found.code) == ("denied", "not_allowed")
    assert found.reason == "user 19 is a basic user and basic users may not create invoices"
    assert found.request_type == "qbsync.request.invoice.create.v1"
    assert reader(db).request(TENANT, "req-never-seen") is None
    assert reader(db).request(OTHER, "req-9f00-invoice") is None


def test_an_ignored_request_says_why(feed, db):
    ignored = event(
        "qbsync.decision.input.ignored.v1",
        data={
            "input_id": "req-x",
            "input_type": "qbsync.request.invoice.create.v1",
            "reason": "disabled",
            "detail": "the integration is disabled",
        },
    )
    feed(ignored)
    found = reader(db).request(TENANT, "req-x")
    assert found is not None
    assert (found.verdict, found.code, found.reason) == (
        "ignored",
        "disabled",
        "the integration is disabled",
    )


# --- replay and migration -------------------------------------------------------------------


def _document_history() -> list:
    return [
        estimate("101", "1"),
        document_created("101", "estimate", deal_id=3301),
        event(MADE),
        invoice("130", "0", op="created"),
        event(CREATED),
        invoice("130", "1", Balance=700),
        event(SENT),
        invoice("130", "0", op="created"),  # a late, older version
        *invoice_request_flow(),
        event(INVOICE_DELETED),
        event("qbsync.decision.installation.changed.v1", data={"change": "installed"}),
    ]


def test_replaying_the_same_events_into_empty_tables_gives_the_same_rows(feed, projector, db):
    assert all(feed(*_document_history()))
    before = dump(db)
    assert len(before["proj_documents"]) == 3 and len(before["proj_request_documents"]) == 4
    assert projector.apply_batch(feed.log) == [False] * len(feed.log)
    assert dump(db) == before
    db.reset()
    assert all(projector.apply_batch(feed.log))
    assert dump(db) == before


def test_the_same_events_delivered_again_at_new_offsets_change_nothing(feed, db):
    feed(*_document_history())
    before = dump(db)
    feed(*_document_history())
    after = dump(db)
    assert {k: v for k, v in after.items() if k != "proj_positions"} == {
        k: v for k, v in before.items() if k != "proj_positions"
    }


def test_a_database_made_before_a_column_existed_gets_it_when_opened(db):
    with db.engine.begin() as conn:
        conn.execute(text("DROP INDEX IF EXISTS proj_commands_correlation"))
        conn.execute(text('ALTER TABLE proj_commands DROP COLUMN "correlation_id"'))
    db.create_tables()
    with db.engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("proj_commands")}
        indexes = {i["name"] for i in inspect(conn).get_indexes("proj_commands")}
    assert "correlation_id" in columns and "proj_commands_correlation" in indexes
    feed = Feed(Projector(db))
    feed(*invoice_request_flow())
    assert reader(db).request(TENANT, "req-9f00-invoice") is not None
