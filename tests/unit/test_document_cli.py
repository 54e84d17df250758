"""`qbsync invoice|estimate` without Kafka: `--line` parsing, the request each command builds from
its options (and the usage errors naming the bad option), how the engine's events for a request
become its answer, and how each answer is printed, as text and as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from qbsync import follow
from qbsync.cli import app
from qbsync.document_cli import (
    Answer,
    Follower,
    UsageProblem,
    convert_request,
    create_request,
    describe,
    parse_line,
    parse_lines,
    render,
    send_request,
)
from schemas.catalog import decode, encode
from schemas.requests import (
    Actor,
    DocumentLine,
    DocumentSendRequested,
    EstimateConvertRequested,
    EstimateCreateRequested,
    InvoiceCreateRequested,
)
from schemas.topics import DECISIONS_TOPIC, OUTCOMES_TOPIC
from tests.cli import answers

BASIC = Actor(user_id=8, is_admin=False)
ADMIN = Actor(user_id=7, is_admin=True)
LINE = DocumentLine(item_id="5", quantity=Decimal(10), unit_price=Decimal(150))


def invoice(**options) -> InvoiceCreateRequested:
    fields = {"deal_id": 9, "person_id": 42, "lines": (LINE,)} | options
    request = create_request("invoice", "acme-co", BASIC, **fields)
    assert isinstance(request, InvoiceCreateRequested)
    return request


def follow_events(request, *events) -> Answer | None:
    follower = Follower(request)
    for event in events:
        answer = follower(event)
        if answer is not None:
            return answer
    return None


# --- --line ------------------------------------------------------------------------------------


def test_a_line_is_item_quantity_price_and_an_optional_description_that_may_hold_colons():
    assert parse_line("5:2:150") == DocumentLine(
        item_id="5", quantity=Decimal(2), unit_price=Decimal(150)
    )
    line = parse_line(" 12 : 1.5 : 99.95 :Setup: on site, 9:00")
    assert (line.item_id, line.quantity, line.unit_price) == (
        "12",
        Decimal("1.5"),
        Decimal("99.95"),
    )
    assert line.description == "Setup: on site, 9:00"
    assert parse_line("5:1:0:").description is None  # an empty description is none
    assert parse_line("5:1:0").unit_price == 0  # free lines are allowed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5:x:10", '--line "5:x:10": quantity "x" is not a number'),
        ("5:0:10", '--line "5:0:10": quantity "0" must be more than 0'),
        ("5:-1:10", 'quantity "-1" must be more than 0'),
        ("5:NaN:10", 'quantity "NaN" is not a number'),
        ("5:1:ten", '--line "5:1:ten": unit price "ten" is not a number'),
        ("5:1:1,500", 'unit price "1,500" is not a number'),
        ("5:1:-2", 'unit price "-2" must not be negative'),
        ("5:1:Infinity", 'unit price "Infinity" is not a number'),
        ("abc:1:2", '--line "abc:1:2": item "abc" is not a QBO item id (digits)'),
        (":1:2", 'item "" is not a QBO item id'),
        ("5:1", '--line "5:1": expected ITEM:QTY:PRICE[:DESCRIPTION], got 2 part(s)'),
        ("5", "got 1 part(s)"),
    ],
)
def test_a_bad_line_is_refused_naming_the_bad_part(text, message):
    with pytest.raises(UsageProblem) as refused:
        parse_line(text)
    assert message in str(refused.value)


def test_a_line_the_request_model_refuses_is_refused_with_the_field_name():
    with pytest.raises(UsageProblem) as refused:
        parse_line("5:1:2:" + "x" * 4001)
    assert str(refused.value) == (
        f'--line "5:1:2:{"x" * 51}...": invalid description: '
        "String should have at most 4000 characters"
    )


def test_every_bad_line_is_named_at_once_and_at_least_one_is_needed():
    assert parse_lines(["5:1:2", "6:3:4"]) == (parse_line("5:1:2"), parse_line("6:3:4"))
    with pytest.raises(UsageProblem) as refused:
        parse_lines(["5:x:1", "5:1:2", "abc:1:1"])
    assert str(refused.value).splitlines() == [
        '--line "5:x:1": quantity "x" is not a number',
        '--line "abc:1:1": item "abc" is not a QBO item id (digits)',
    ]
    with pytest.raises(UsageProblem, match="at least one --line"):
        parse_lines([])


# --- the requests ------------------------------------------------------------------------------


def test_create_builds_an_invoice_or_estimate_request_for_the_deal_and_person():
    request = invoice(send_now=True, send_to="x@y.example", txn_date="2026-11-24")
    assert request.tenant == "acme-co" and request.source == follow.SOURCE
    assert request.subject == "crm/deal/9"
    assert uuid.UUID(request.id)  # a fresh id by default
    assert request.data.actor == BASIC
    assert (request.data.deal_id, request.data.person_id, request.data.lines) == (9, 42, (LINE,))
    assert (request.data.send_now, request.data.send_to) == (True, "x@y.example")
    assert request.data.txn_date == "2026-11-24"
    assert decode(encode(request)) == request  # a valid wire event

    estimate = create_request(
        "estimate", "acme-co", ADMIN, deal_id=9, person_id=42, lines=[LINE], request_id="r-1"
    )
    assert isinstance(estimate, EstimateCreateRequested)
    assert (estimate.id, estimate.data.send_now, estimate.data.send_to) == ("r-1", False, None)
    assert describe(estimate) == ("estimate", "create") and describe(request) == (
        "invoice",
        "create",
    )


def test_two_requests_get_two_ids_unless_the_id_is_given_again():
    assert invoice().id != invoice().id
    assert invoice(request_id="retry-1").id == invoice(request_id="retry-1").id == "retry-1"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"send_to": "x@y.example"}, "--send-to says where to send: add --send"),
        ({"send_now": True, "send_to": "bob"}, '--send-to "bob" is not an email address'),
        ({"txn_date": "2026-13-01"}, '--date "2026-13-01" is not a date (YYYY-MM-DD)'),
        ({"txn_date": "24/11/2026"}, '--date "24/11/2026" is not a date'),
        ({"request_id": ""}, "invalid --request-id (id): String should have at least 1"),
        ({"request_id": "x" * 201}, "invalid --request-id (id)"),
    ],
)
def test_options_that_cannot_make_a_request_are_refused_naming_the_option(options, message):
    with pytest.raises(UsageProblem) as refused:
        invoice(**options)
    assert message in str(refused.value)


def test_request_model_errors_name_the_option_and_the_field():
    with pytest.raises(UsageProblem) as refused:
        create_request("invoice", "acme co", BASIC, deal_id=9, person_id=42, lines=[LINE])
    assert "invalid --tenant (tenant): String should match pattern" in str(refused.value)
    with pytest.raises(UsageProblem) as refused:
        send_request("invoice", "acme-co", BASIC, qbo_id="INV-1")
    assert "invalid --id (data.qbo_id)" in str(refused.value)
    with pytest.raises(UsageProblem) as refused:
        convert_request("acme-co", BASIC, estimate_id="")
    assert "invalid --id (data.estimate_id)" in str(refused.value)


def test_send_and_convert_build_their_requests():
    send = send_request("estimate", "acme-co", BASIC, qbo_id="101", send_to="x@y.example")
    assert isinstance(send, DocumentSendRequested) and send.subject == "qbo/estimate/101"
    assert (send.data.document_type, send.data.qbo_id, send.data.send_to) == (
        "estimate",
        "101",
        "x@y.example",
    )
    assert describe(send) == ("estimate", "send")
    assert send_request("invoice", "acme-co", BASIC, qbo_id="130").data.send_to is None

    convert = convert_request("acme-co", ADMIN, estimate_id="101", request_id="r-2")
    assert isinstance(convert, EstimateConvertRequested) and convert.id == "r-2"
    assert (convert.data.estimate_id, convert.data.actor) == ("101", ADMIN)
    assert describe(convert) == ("estimate", "convert")
    for request in (send, convert):
        assert decode(encode(request)) == request


# --- following the engine's answer -------------------------------------------------------------


def test_a_created_invoice_is_the_answer_and_other_requests_events_are_not():
    request = invoice(send_now=True, send_to="x@y.example")
    other = invoice()
    answer = follow_events(
        request,
        answers.denied(other),
        answers.failed(other),
        answers.created(other),
        answers.applied(request),
        answers.created(request),
    )
    assert answer is not None
    assert (answer.status, answer.exit_code) == ("created", 0)
    assert answer.command_ids == (answers.command_id(request),)
    assert render(answer) == (
        "invoice 1038 (QBO id 130) for customer 58, person 42, deal 9: total 1,500.00; "
        "sent to x@y.example"
    )


def test_until_qbo_answers_the_request_is_not_answered():
    request = invoice()
    assert follow_events(request, answers.applied(request)) is None
    answer = Follower(request).timed_out(2)
    assert (answer.status, answer.exit_code) == ("timeout", follow.EXIT_TIMEOUT)
    text = render(answer)
    assert "no answer from the engine within 2 s" in text
    assert f"--request-id {request.id}" in text
    follower = Follower(request)
    follower(answers.applied(request))
    assert "no answer from QuickBooks within 2 s" in render(follower.timed_out(2))


def test_created_says_where_it_was_sent_how_the_customer_was_found_and_if_not_sent():
    request = invoice(send_now=True)
    by_email = follow_events(request, answers.created(request, customer_source="email"))
    assert by_email is not None
    first, second = render(by_email).splitlines()
    assert first.endswith("total 1,500.00; sent to billing@acme.example")  # the bill email
    assert second == "customer 58 was found by email and linked to this person"

    new = follow_events(request, answers.created(request, customer_source="created", sent=False))
    assert new is not None
    first, second = render(new).splitlines()
    assert first.endswith("total 1,500.00; not sent")
    assert second == "customer 58 was created in QuickBooks for this person"

    unsent = invoice()
    quiet = follow_events(unsent, answers.created(unsent))
    assert quiet is not None and render(quiet) == (
        "invoice 1038 (QBO id 130) for customer 58, person 42, deal 9: total 1,500.00"
    )


def test_an_estimate_is_created_the_same_way():
    request = create_request("estimate", "acme-co", BASIC, deal_id=9, person_id=42, lines=[LINE])
    answer = follow_events(request, answers.applied(request), answers.created(request))
    assert answer is not None and answer.status == "created"
    assert render(answer).startswith("estimate 1038 (QBO id 130) for customer 58, person 42")


def test_a_sent_document_is_the_answer_to_a_send():
    request = send_request("invoice", "acme-co", BASIC, qbo_id="130", send_to="x@y.example")
    answer = follow_events(request, answers.applied(request), answers.sent(request))
    assert answer is not None and (answer.status, answer.exit_code) == ("sent", 0)
    assert render(answer) == "invoice 1038 (QBO id 130) for customer 58 sent to x@y.example"
    to_bill = send_request("estimate", "acme-co", BASIC, qbo_id="101")
    answer = follow_events(to_bill, answers.sent(to_bill))
    assert answer is not None
    assert (
        render(answer) == "estimate 1038 (QBO id 101) for customer 58 sent to billing@acme.example"
    )


def test_a_conversion_names_the_estimate_the_invoice_and_the_estimate_status():
    request = convert_request("acme-co", ADMIN, estimate_id="101")
    answer = follow_events(request, answers.applied(request), answers.converted(request))
    assert answer is not None and (answer.status, answer.exit_code) == ("converted", 0)
    assert render(answer) == (
        "estimate 1001 converted to invoice 1039 (QBO id 131) for customer 58: "
        "total 1,500.00; estimate is Closed"
    )
    again = follow_events(request, answers.converted(request, already=True))
    assert again is not None and again.status == "converted"
    assert render(again) == (
        "estimate 1001 had already been converted to invoice 1039 (QBO id 131) for customer 58: "
        "total 1,500.00; estimate is Closed (that invoice; nothing new was created)"
    )


def test_a_denial_or_an_ignored_request_is_the_answer_with_its_reason():
    request = invoice()
    answer = follow_events(request, answers.denied(request))
    assert answer is not None and (answer.status, answer.exit_code) == ("denied", 3)
    assert render(answer) == f"invoice create denied (not_allowed): {answers.DENIAL}"

    ignored = follow_events(request, answers.ignored(request))
    assert ignored is not None and (ignored.status, ignored.exit_code) == ("ignored", 3)
    assert (
        render(ignored)
        == "invoice create not done (not_installed): tenant acme-co is not installed"
    )
    undetailed = answers.ignored(request).model_copy(
        update={"data": answers.ignored(request).data.model_copy(update={"detail": ""})}
    )
    answer = follow_events(request, undetailed)
    assert answer is not None and answer.reason == "the tenant has no installation"


def test_a_failed_command_is_the_answer_by_correlation_or_by_applied_command_id():
    request = invoice()
    answer = follow_events(request, answers.failed(request))  # correlated with the request
    assert answer is not None and (answer.status, answer.exit_code) == ("failed", 1)
    assert (answer.reason, answer.code) == (answers.QBO_FAILURE, "6000")
    assert render(answer) == f"invoice create failed (QBO error 6000): {answers.QBO_FAILURE}"

    uncorrelated = answers.failed(request, correlated=False)
    assert follow_events(request, uncorrelated) is None  # not known to be ours
    answer = follow_events(request, answers.applied(request), uncorrelated)
    assert answer is not None and answer.status == "failed"
    # outcomes are another topic: the failure may be read before the decision naming it
    answer = follow_events(request, uncorrelated, answers.applied(request))
    assert answer is not None and (answer.status, answer.reason) == ("failed", answers.QBO_FAILURE)


def test_no_wait_answers_requested_with_the_request_id():
    request = invoice()
    answer = Follower(request).requested()
    assert (answer.status, answer.exit_code) == ("requested", 0)
    assert render(answer) == f"invoice create requested: {request.id}"


def test_the_json_answer_is_one_object_with_the_document_and_the_decision():
    request = invoice(send_now=True, send_to="x@y.example")
    answer = follow_events(request, answers.applied(request), answers.created(request))
    assert answer is not None
    printed = json.loads(json.dumps(answer.as_json()))
    assert printed["request_id"] == request.id
    assert (printed["command"], printed["status"], printed["exit_code"]) == (
        "invoice create",
        "created",
        0,
    )
    assert printed["document"] == {
        "type": "invoice",
        "qbo_id": "130",
        "doc_number": "1038",
        "total": 1500.0,
        "customer_id": "58",
        "person_id": 42,
        "deal_id": 9,
        "customer_source": "link",
        "sent": True,
        "send_to": "x@y.example",
        "from_estimate_id": None,
        "estimate_number": None,
        "estimate_status": None,
        "already_converted": False,
    }
    assert printed["decision"]["snapshot"]["DocNumber"] == "1038"
    assert printed["command_ids"] == [answers.command_id(request)]

    denied = follow_events(request, answers.denied(request))
    assert denied is not None
    assert denied.as_json() | {"request_id": "r"} == {
        "request_id": "r",
        "command": "invoice create",
        "status": "denied",
        "exit_code": 3,
        "reason": answers.DENIAL,
        "code": "not_allowed",
        "command_ids": [],
        "document": None,
        "decision": None,
    }


def test_the_follow_topics_are_the_catalogs():
    assert (DECISIONS_TOPIC.name, OUTCOMES_TOPIC.name) == (follow.DECISIONS, follow.OUTCOMES)


# --- the command line, up to Kafka -------------------------------------------------------------

CREATE = ["invoice", "create", "--tenant", "acme-co", "--user-id", "8", "--deal", "9"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([*CREATE, "--person", "42", "--line", "5:x:10"], 'quantity "x" is not a number'),
        ([*CREATE, "--person", "42"], "Missing option '--line'"),
        ([*CREATE, "--person", "42", "--line", "5:1:1", "--send-to", "x@y"], "add --send"),
        (
            ["estimate", "convert", "--tenant", "acme-co", "--user-id", "8", "--id", "E1"],
            "invalid --id (data.estimate_id)",
        ),
        (
            ["invoice", "send", "--tenant", "acme co", "--user-id", "8", "--id", "130"],
            "invalid --tenant (tenant)",
        ),
    ],
)
def test_usage_errors_exit_2_naming_the_option_before_kafka_is_needed(args, message, monkeypatch):
    monkeypatch.delenv("QBSYNC_KAFKA_BOOTSTRAP", raising=False)
    result = CliRunner().invoke(app, args, terminal_width=200)
    assert result.exit_code == follow.EXIT_USAGE, result.output
    assert message in result.output


def test_without_a_bootstrap_the_command_exits_2(monkeypatch):
    monkeypatch.delenv("QBSYNC_KAFKA_BOOTSTRAP", raising=False)
    result = CliRunner().invoke(app, [*CREATE, "--person", "42", "--line", "5:1:1"])
    assert result.exit_code == follow.EXIT_USAGE
    assert "QBSYNC_KAFKA_BOOTSTRAP is not set" in result.output


def test_an_unreachable_kafka_exits_4_saying_so(monkeypatch):
    monkeypatch.setenv("QBSYNC_KAFKA_BOOTSTRAP", "127.0.0.1:1")  # nothing listens there
    args = [*CREATE, "--person", "42", "--line", "5:1:1", "--request-id", "r-9", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == follow.EXIT_TIMEOUT, result.output
    printed = json.loads(result.stdout)
    assert (printed["request_id"], printed["status"]) == ("r-9", "unreachable")
    assert printed["reason"].startswith("could not reach Kafka at 127.0.0.1:1: ")


def test_the_cli_loads_neither_kafka_nor_rich_nor_the_schemas_to_show_its_help():
    code = (
        "import sys, qbsync.cli; "
        "print(sorted(m for m in ('aiokafka', 'rich', 'schemas.requests') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"
