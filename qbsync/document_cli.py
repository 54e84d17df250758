"""`qbsync invoice create|send` and `qbsync estimate create|send|convert` (SYNC-RULES 6).

Each command publishes one request to `qbsync.requests.v1` (keyed by tenant) and, with `--wait`
(the default), follows the engine's answer about it (qbsync/follow.py): on `qbsync.decisions.v1`
a `RequestDenied`, an `InputIgnored`, or an `InputApplied` then, once QBO answered, a
`DocumentCreated` / `DocumentSent`; or, when the QBO call failed, a `CommandFailed` on
`qbsync.outcomes.v1` (correlated with the request, or one of the applied command ids).

The request id is printed first; `--request-id` sends a request again under an id already used,
which the engine dedupes, so a script may retry after a timeout without doing anything twice.

Exit codes: 0 done (or requested, with --no-wait), 1 the QBO call failed, 2 usage,
3 denied or ignored (the engine will not do it: the reason says why), 4 no answer within
--timeout, or Kafka could not be reached (retry with the same --request-id).
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from qbsync.follow import (
    DECISIONS,
    EXIT_DENIED,
    EXIT_FAILED,
    EXIT_TIMEOUT,
    OUTCOMES,
    SOURCE,
    TopicMissing,
    kafka_bootstrap,
    publish_and_follow,
)

# Kafka, rich and the schemas load when a command runs: `qbsync --help` stays quick.
if TYPE_CHECKING:
    from pydantic import ValidationError
    from rich.status import Status as RichStatus

    from schemas.decisions import DocumentCreated, DocumentSent
    from schemas.envelope import Envelope
    from schemas.outcomes import CommandFailed
    from schemas.requests import (
        Actor,
        DocumentLine,
        DocumentSendRequested,
        EstimateConvertRequested,
        EstimateCreateRequested,
        InvoiceCreateRequested,
    )

    DocumentRequest = (
        InvoiceCreateRequested
        | EstimateCreateRequested
        | DocumentSendRequested
        | EstimateConvertRequested
    )

Kind = Literal["invoice", "estimate"]
Action = Literal["create", "send", "convert"]
Status = Literal[
    "requested",
    "created",
    "sent",
    "converted",
    "denied",
    "ignored",
    "failed",
    "timeout",
    "unreachable",
]
LINE_FORMAT = "ITEM:QTY:PRICE[:DESCRIPTION]"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_KEPT_FAILURES = 10_000


class UsageProblem(ValueError):
    """Options that cannot make a request; the message names each bad option (exit 2)."""


# --- options to a request (pure) ---------------------------------------------------------------


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def parse_line(text: str) -> DocumentLine:
    """`ITEM:QTY:PRICE[:DESCRIPTION]` (the description may hold colons) as a document line."""
    from pydantic import ValidationError

    from schemas.requests import DocumentLine

    where = f'--line "{text if len(text) <= 60 else text[:57] + "..."}"'
    parts = text.split(":", 3)
    if len(parts) < 3:
        raise UsageProblem(f"{where}: expected {LINE_FORMAT}, got {len(parts)} part(s)")
    item, quantity_text, price_text = (part.strip() for part in parts[:3])
    description = parts[3] if len(parts) == 4 and parts[3].strip() else None
    if not item.isascii() or not item.isdigit():
        raise UsageProblem(f'{where}: item "{item}" is not a QBO item id (digits)')
    quantity = _number(quantity_text)
    if quantity is None:
        raise UsageProblem(f'{where}: quantity "{quantity_text}" is not a number')
    if quantity <= 0:
        raise UsageProblem(f'{where}: quantity "{quantity_text}" must be more than 0')
    price = _number(price_text)
    if price is None:
        raise UsageProblem(f'{where}: unit price "{price_text}" is not a number')
    if price < 0:
        raise UsageProblem(f'{where}: unit price "{price_text}" must not be negative')
    try:
        return DocumentLine(
            item_id=item, quantity=quantity, unit_price=price, description=description
        )
    except ValidationError as exc:
        raise UsageProblem(_field_messages(exc, prefix=f"{where}: ")) from exc


def parse_lines(texts: Iterable[str]) -> tuple[DocumentLine, ...]:
    """Every `--line`, or one UsageProblem naming each bad one."""
    lines, problems = [], []
    for text in texts:
        try:
            lines.append(parse_line(text))
        except UsageProblem as problem:
            problems.append(str(problem))
    if problems:
        raise UsageProblem("\n".join(problems))
    if not lines:
        raise UsageProblem(f"at least one --line {LINE_FORMAT} is needed")
    return tuple(lines)


OPTION_FOR_FIELD: Mapping[str, str] = {
    "id": "--request-id",
    "tenant": "--tenant",
    "data.actor.user_id": "--user-id",
    "data.deal_id": "--deal",
    "data.person_id": "--person",
    "data.lines": "--line",
    "data.send_to": "--send-to",
    "data.txn_date": "--date",
    "data.qbo_id": "--id",
    "data.estimate_id": "--id",
}


def _option_for(field_path: str) -> str | None:
    for path, option in OPTION_FOR_FIELD.items():
        if field_path == path or field_path.startswith((f"{path}.", f"{path}[")):
            return option
    return None


def _field_messages(exc: ValidationError, prefix: str = "") -> str:
    """One line per error: the option (when there is one), the field, pydantic's message."""
    from schemas.catalog import field_errors

    lines = []
    for error in field_errors(exc):
        option = _option_for(error.field)
        named = f"{option} ({error.field})" if option else error.field
        lines.append(f"{prefix}invalid {named}: {error.message}")
    return "\n".join(lines)


def _check_send_to(send_to: str | None) -> None:
    if send_to is not None and not _EMAIL.match(send_to):
        raise UsageProblem(f'--send-to "{send_to}" is not an email address')


def _check_date(txn_date: str | None) -> None:
    if txn_date is None:
        return
    try:
        if not _DATE.match(txn_date):
            raise ValueError(txn_date)
        date.fromisoformat(txn_date)
    except ValueError:
        raise UsageProblem(f'--date "{txn_date}" is not a date (YYYY-MM-DD)') from None


def _envelope(
    cls: type[DocumentRequest],
    tenant: str,
    subject: str,
    data: dict[str, Any],
    request_id: str | None,
) -> Any:
    from pydantic import ValidationError

    try:
        return cls.model_validate(
            {
                "id": str(uuid.uuid4()) if request_id is None else request_id,
                "source": SOURCE,
                "subject": subject,
                "time": datetime.now(UTC),
                "tenant": tenant,
                "data": data,
            }
        )
    except ValidationError as exc:
        raise UsageProblem(_field_messages(exc)) from exc


def create_request(
    kind: Kind,
    tenant: str,
    actor: Actor,
    *,
    deal_id: int,
    person_id: int,
    lines: Iterable[DocumentLine],
    send_now: bool = False,
    send_to: str | None = None,
    txn_date: str | None = None,
    request_id: str | None = None,
) -> InvoiceCreateRequested | EstimateCreateRequested:
    """An `InvoiceCreateRequested` or `EstimateCreateRequested` for one person of a deal."""
    from schemas.requests import EstimateCreateRequested, InvoiceCreateRequested

    if send_to is not None and not send_now:
        raise UsageProblem("--send-to says where to send: add --send to send it now")
    _check_send_to(send_to)
    _check_date(txn_date)
    cls = InvoiceCreateRequested if kind == "invoice" else EstimateCreateRequested
    data = {
        "actor": actor,
        "deal_id": deal_id,
        "person_id": person_id,
        "lines": tuple(lines),
        "send_now": send_now,
        "send_to": send_to,
        "txn_date": txn_date,
    }
    request: InvoiceCreateRequested | EstimateCreateRequested = _envelope(
        cls, tenant, f"crm/deal/{deal_id}", data, request_id
    )
    return request


def send_request(
    kind: Kind,
    tenant: str,
    actor: Actor,
    *,
    qbo_id: str,
    send_to: str | None = None,
    request_id: str | None = None,
) -> DocumentSendRequested:
    """A `DocumentSendRequested`: QBO mails the document (to `send_to`, else its bill email)."""
    from schemas.requests import DocumentSendRequested

    _check_send_to(send_to)
    data = {"actor": actor, "document_type": kind, "qbo_id": qbo_id, "send_to": send_to}
    request: DocumentSendRequested = _envelope(
        DocumentSendRequested, tenant, f"qbo/{kind}/{qbo_id}", data, request_id
    )
    return request


def convert_request(
    tenant: str, actor: Actor, *, estimate_id: str, request_id: str | None = None
) -> EstimateConvertRequested:
    """An `EstimateConvertRequested`: invoice the estimate, which QBO then closes."""
    from schemas.requests import EstimateConvertRequested

    data = {"actor": actor, "estimate_id": estimate_id}
    request: EstimateConvertRequested = _envelope(
        EstimateConvertRequested, tenant, f"qbo/estimate/{estimate_id}", data, request_id
    )
    return request


def describe(request: Envelope) -> tuple[Kind, Action]:
    """Which document and what is asked of it."""
    from schemas.requests import (
        DocumentSendRequested,
        EstimateConvertRequested,
        EstimateCreateRequested,
        InvoiceCreateRequested,
    )

    if isinstance(request, InvoiceCreateRequested):
        return "invoice", "create"
    if isinstance(request, EstimateCreateRequested):
        return "estimate", "create"
    if isinstance(request, DocumentSendRequested):
        return request.data.document_type, "send"
    if isinstance(request, EstimateConvertRequested):
        return "estimate", "convert"
    raise TypeError(f"{request.type} is not a document request")


# --- the answer (pure) -------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What became of one document request."""

    request_id: str
    kind: Kind
    action: Action
    status: Status
    reason: str | None = None
    code: str | None = None  # the denial code, the ignore reason, or QBO's error code
    decision: DocumentCreated | DocumentSent | None = None
    send_now: bool = False
    send_to: str | None = None
    command_ids: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        return {
            "failed": EXIT_FAILED,
            "denied": EXIT_DENIED,
            "ignored": EXIT_DENIED,
            "timeout": EXIT_TIMEOUT,
            "unreachable": EXIT_TIMEOUT,
        }.get(self.status, 0)

    def as_json(self) -> dict[str, object]:
        return {
            "request_id": self.request_id,
            "command": f"{self.kind} {self.action}",
            "status": self.status,
            "exit_code": self.exit_code,
            "reason": self.reason,
            "code": self.code,
            "command_ids": list(self.command_ids),
            "document": document_summary(self),
            "decision": self.decision.data.model_dump(mode="json") if self.decision else None,
        }


IGNORED_BECAUSE: Mapping[str, str] = {
    "not_installed": "the tenant has no installation",
    "disabled": "the integration is disabled for this tenant",
    "not_handled": "the engine does not handle this request",
    "duplicate": "a request with this id was handled before",
}


def _money(value: object) -> str | None:
    if value is None:
        return None
    try:
        return f"{Decimal(str(value)):,.2f}"
    except InvalidOperation:
        return str(value)


def _bill_email(snapshot: Mapping[str, Any]) -> str | None:
    bill = snapshot.get("BillEmail")
    address = bill.get("Address") if isinstance(bill, dict) else None
    return address if isinstance(address, str) and address else None


def _named(kind: str, snapshot: Mapping[str, Any], qbo_id: str) -> str:
    number = snapshot.get("DocNumber")
    return f"{kind} {number} (QBO id {qbo_id})" if number else f"{kind} (QBO id {qbo_id})"


def document_summary(answer: Answer) -> dict[str, object] | None:
    """The document an answer is about, in a few plain fields (for --json)."""
    from schemas.decisions import DocumentCreated

    if answer.decision is None:
        return None
    data, snapshot = answer.decision.data, answer.decision.data.snapshot
    summary: dict[str, object] = {
        "type": data.document_type,
        "qbo_id": data.qbo_id,
        "doc_number": snapshot.get("DocNumber"),
        "total": snapshot.get("TotalAmt"),  # as QBO wrote it
        "customer_id": data.customer_id,
        "person_id": data.person_id,
    }
    if isinstance(answer.decision, DocumentCreated):
        created = answer.decision.data
        estimate = created.estimate or {}
        summary |= {
            "deal_id": created.deal_id,
            "customer_source": created.customer_source,
            "sent": created.sent,
            "send_to": _sent_to(answer) if created.sent else None,
            "from_estimate_id": created.from_estimate_id,
            "estimate_number": estimate.get("DocNumber"),
            "estimate_status": estimate.get("TxnStatus"),
            "already_converted": created.already_converted,
        }
    else:
        summary |= {"sent": True, "send_to": _sent_to(answer)}
    return summary


def _sent_to(answer: Answer) -> str | None:
    """Where QBO mailed it: the decision says, else the request asked, else the bill email."""
    from schemas.decisions import DocumentSent

    decision = answer.decision
    if isinstance(decision, DocumentSent) and decision.data.send_to:
        return decision.data.send_to
    if answer.send_to:
        return answer.send_to
    return _bill_email(decision.data.snapshot) if decision is not None else None


def _created_text(answer: Answer, decision: DocumentCreated) -> str:
    data, snapshot = decision.data, decision.data.snapshot
    named = _named(data.document_type, snapshot, data.qbo_id)
    total = _money(snapshot.get("TotalAmt"))
    if data.from_estimate_id is not None or answer.action == "convert":
        estimate = data.estimate or {}
        number = estimate.get("DocNumber") or data.from_estimate_id
        verb = "had already been converted to" if data.already_converted else "converted to"
        text = f"estimate {number} " if number else "the estimate "
        text += f"{verb} {named} for customer {data.customer_id}"
        text += f": total {total}" if total else ""
        if estimate.get("TxnStatus"):
            text += f"; estimate is {estimate['TxnStatus']}"
        if data.already_converted:
            text += " (that invoice; nothing new was created)"
        return text
    parties = [f"customer {data.customer_id}"]
    parties += [f"person {data.person_id}"] if data.person_id is not None else []
    parties += [f"deal {data.deal_id}"] if data.deal_id is not None else []
    text = f"{named} for {', '.join(parties)}"
    text += f": total {total}" if total else ""
    if data.sent:
        to = _sent_to(answer)
        text += f"; sent to {to}" if to else "; sent"
    elif answer.send_now:
        text += "; not sent"
    if data.customer_source == "created":
        text += f"\ncustomer {data.customer_id} was created in QuickBooks for this person"
    elif data.customer_source == "email":
        text += f"\ncustomer {data.customer_id} was found by email and linked to this person"
    return text


def render(answer: Answer) -> str:
    """The answer for a person (the request id was printed before)."""
    from schemas.decisions import DocumentCreated, DocumentSent

    asked = f"{answer.kind} {answer.action}"
    decision = answer.decision
    if answer.status == "requested":
        return f"{asked} requested: {answer.request_id}"
    if isinstance(decision, DocumentCreated):
        return _created_text(answer, decision)
    if isinstance(decision, DocumentSent):
        data = decision.data
        to = _sent_to(answer)
        named = _named(data.document_type, data.snapshot, data.qbo_id)
        return f"{named} for customer {data.customer_id} sent" + (f" to {to}" if to else "")
    if answer.status == "denied":
        return f"{asked} denied ({answer.code}): {answer.reason}"
    if answer.status == "ignored":
        return f"{asked} not done ({answer.code}): {answer.reason}"
    if answer.status == "failed":
        code = f" (QBO error {answer.code})" if answer.code else ""
        return f"{asked} failed{code}: {answer.reason}"
    if answer.status == "unreachable":
        return (
            f"{asked}: {answer.reason}; it may not have been sent: run again with "
            f"--request-id {answer.request_id} (it will not be done twice)"
        )
    return (
        f"{asked}: {answer.reason}; the engine may still do it: run again with "
        f"--request-id {answer.request_id} to follow it (it will not be done twice)"
    )


class Follower:
    """Reads the engine's events for one request to its answer (a `judge` for follow.py)."""

    def __init__(
        self, request: Envelope, on_update: Callable[[Envelope], None] = lambda _event: None
    ) -> None:
        self.request = request
        self.kind, self.action = describe(request)
        self.on_update = on_update
        self.command_ids: tuple[str, ...] = ()
        # Outcomes are read from another topic than decisions, so a failure can be read before
        # the InputApplied naming its command: kept until then (failures are few; capped).
        self.failures: dict[str, CommandFailed] = {}

    def answer(self, status: Status, **fields: Any) -> Answer:
        data = self.request.data
        return Answer(
            request_id=self.request.id,
            kind=self.kind,
            action=self.action,
            status=status,
            send_now=bool(getattr(data, "send_now", False)),
            send_to=getattr(data, "send_to", None),
            command_ids=self.command_ids,
            **fields,
        )

    def __call__(self, event: Envelope) -> Answer | None:
        from schemas.decisions import (
            DocumentCreated,
            DocumentSent,
            InputApplied,
            InputIgnored,
            RequestDenied,
        )
        from schemas.outcomes import CommandFailed

        request_id = self.request.id
        if isinstance(event, RequestDenied) and event.data.input_id == request_id:
            self.on_update(event)
            return self.answer("denied", reason=event.data.reason, code=event.data.code)
        if isinstance(event, InputIgnored) and event.data.input_id == request_id:
            self.on_update(event)
            reason = event.data.detail or IGNORED_BECAUSE.get(event.data.reason, event.data.reason)
            return self.answer("ignored", reason=reason, code=event.data.reason)
        if isinstance(event, InputApplied) and event.data.input_id == request_id:
            self.command_ids = (*self.command_ids, *event.data.command_ids)
            self.on_update(event)
            for command_id in event.data.command_ids:
                if command_id in self.failures:
                    return self._failed(self.failures[command_id])
            return None
        if isinstance(event, DocumentCreated | DocumentSent):
            if event.data.request_id != request_id:
                return None
            self.on_update(event)
            if isinstance(event, DocumentSent):
                return self.answer("sent", decision=event)
            converted = event.data.from_estimate_id is not None or self.action == "convert"
            return self.answer("converted" if converted else "created", decision=event)
        if isinstance(event, CommandFailed):
            if event.correlationid == request_id or event.data.command_id in self.command_ids:
                return self._failed(event)
            if len(self.failures) < MAX_KEPT_FAILURES:
                self.failures[event.data.command_id] = event
        return None

    def _failed(self, event: CommandFailed) -> Answer:
        self.on_update(event)
        return self.answer("failed", reason=event.data.reason, code=event.data.code)

    def requested(self) -> Answer:
        return self.answer("requested")

    def timed_out(self, timeout_s: float) -> Answer:
        waited = "QuickBooks" if self.command_ids else "the engine"
        return self.answer("timeout", reason=f"no answer from {waited} within {timeout_s:g} s")


async def follow_document(
    bootstrap: str,
    request: Envelope,
    *,
    wait: bool = True,
    timeout_s: float = 120.0,
    on_update: Callable[[Envelope], None] = lambda _event: None,
) -> Answer:
    """Publish a document request; with `wait`, follow decisions and outcomes to its answer."""
    follower = Follower(request, on_update)
    answer = await publish_and_follow(
        bootstrap,
        request,
        follower if wait else None,
        topics=(DECISIONS, OUTCOMES),
        timeout_s=timeout_s,
    )
    if not wait:
        return follower.requested()
    return answer or follower.timed_out(timeout_s)


# --- the commands ------------------------------------------------------------------------------


class _Spinner:
    """What the command is waiting for, on stderr (stdout carries the result)."""

    def __init__(self, enabled: bool, asked: str) -> None:
        self.status: RichStatus | None = None
        if enabled:
            from rich.console import Console

            self.status = Console(stderr=True).status(f"{asked}: waiting for the engine")
        self.asked = asked

    def __enter__(self) -> _Spinner:
        if self.status is not None:
            self.status.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.status is not None:
            self.status.stop()

    def __call__(self, event: Envelope) -> None:
        from schemas.decisions import InputApplied

        if self.status is not None and isinstance(event, InputApplied):
            self.status.update(f"{self.asked}: accepted; waiting for QuickBooks")


class _BadOptions(typer.BadParameter):
    """A UsageProblem as typer shows it (exit 2); its message already names the options."""

    def format_message(self) -> str:
        return self.message


def _build(make: Callable[[], Envelope]) -> Envelope:
    """The request, or the usage error naming each bad option (exit 2)."""
    try:
        return make()
    except UsageProblem as problem:
        raise _BadOptions(str(problem)) from None


def _run(request: Envelope, *, wait: bool, timeout_s: float, as_json: bool) -> None:
    from aiokafka.errors import KafkaError

    bootstrap = kafka_bootstrap()
    typer.echo(f"request {request.id}", err=as_json)  # first: an operator can look it up
    kind, action = describe(request)
    spinner = _Spinner(wait and not as_json, f"{kind} {action}")
    try:
        with spinner:
            answer = asyncio.run(
                follow_document(
                    bootstrap, request, wait=wait, timeout_s=timeout_s, on_update=spinner
                )
            )
    except (KafkaError, OSError, TopicMissing) as exc:
        reason = f"could not reach Kafka at {bootstrap}: {str(exc) or type(exc).__name__}"
        answer = Follower(request).answer("unreachable", reason=reason)
    if as_json:
        typer.echo(json.dumps(answer.as_json(), indent=2))
    else:
        typer.echo(render(answer))
    raise typer.Exit(answer.exit_code)


def _actor(user_id: int, admin: bool) -> Actor:
    from schemas.requests import Actor

    return Actor(user_id=user_id, is_admin=admin)


TenantOption = Annotated[str, typer.Option(help="The installation (tenant).")]
UserIdOption = Annotated[int, typer.Option(help="CRM user id of the person asking.")]
AdminOption = Annotated[
    bool,
    typer.Option(
        "--admin/--basic",
        help="Whether that user is an admin. Default --basic: the installation's switches for "
        "basic users decide.",
    ),
]
RequestIdOption = Annotated[
    str | None,
    typer.Option(
        help="The id of the request; reuse an earlier one to retry it safely (the engine "
        "dedupes by it). Default: a fresh id.",
    ),
]
WaitOption = Annotated[
    bool, typer.Option("--wait/--no-wait", help="Follow the request to the engine's answer.")
]
TimeoutOption = Annotated[float, typer.Option(help="Seconds to wait for the answer.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")]
DealOption = Annotated[int, typer.Option("--deal", help="CRM deal id the document is for.")]
PersonOption = Annotated[
    int, typer.Option("--person", help="CRM person id (of the deal) the document is billed to.")
]
LineOption = Annotated[
    list[str],
    typer.Option(
        "--line",
        help=f"{LINE_FORMAT}: QBO item id, quantity, unit price, optional description "
        "(repeat for more lines).",
    ),
]
SendOption = Annotated[bool, typer.Option("--send", help="Mail it from QuickBooks once made.")]
SendToOption = Annotated[
    str | None, typer.Option("--send-to", help="Mail it to this address (default: bill email).")
]
DateOption = Annotated[
    str | None, typer.Option("--date", help="Transaction date, YYYY-MM-DD (default: today).")
]
QboIdOption = Annotated[str, typer.Option("--id", help="QBO id of the document.")]
DEFAULT_TIMEOUT_S = 120.0


def create_command(kind: Kind, doc: str) -> Callable[..., None]:
    """`qbsync invoice create` or `qbsync estimate create`."""

    def create(
        tenant: TenantOption,
        user_id: UserIdOption,
        deal: DealOption,
        person: PersonOption,
        line: LineOption,
        send: SendOption = False,
        send_to: SendToOption = None,
        txn_date: DateOption = None,
        admin: AdminOption = False,
        request_id: RequestIdOption = None,
        wait: WaitOption = True,
        timeout: TimeoutOption = DEFAULT_TIMEOUT_S,
        as_json: JsonOption = False,
    ) -> None:
        request = _build(
            lambda: create_request(
                kind,
                tenant,
                _actor(user_id, admin),
                deal_id=deal,
                person_id=person,
                lines=parse_lines(line),
                send_now=send,
                send_to=send_to,
                txn_date=txn_date,
                request_id=request_id,
            )
        )
        _run(request, wait=wait, timeout_s=timeout, as_json=as_json)

    create.__doc__ = doc
    return create


def send_command(kind: Kind, doc: str) -> Callable[..., None]:
    """`qbsync invoice send` or `qbsync estimate send`."""

    def send(
        tenant: TenantOption,
        user_id: UserIdOption,
        qbo_id: QboIdOption,
        send_to: SendToOption = None,
        admin: AdminOption = False,
        request_id: RequestIdOption = None,
        wait: WaitOption = True,
        timeout: TimeoutOption = DEFAULT_TIMEOUT_S,
        as_json: JsonOption = False,
    ) -> None:
        request = _build(
            lambda: send_request(
                kind,
                tenant,
                _actor(user_id, admin),
                qbo_id=qbo_id,
                send_to=send_to,
                request_id=request_id,
            )
        )
        _run(request, wait=wait, timeout_s=timeout, as_json=as_json)

    send.__doc__ = doc
    return send


def estimate_convert(
    tenant: TenantOption,
    user_id: UserIdOption,
    estimate_id: Annotated[str, typer.Option("--id", help="QBO id of the estimate.")],
    admin: AdminOption = False,
    request_id: RequestIdOption = None,
    wait: WaitOption = True,
    timeout: TimeoutOption = DEFAULT_TIMEOUT_S,
    as_json: JsonOption = False,
) -> None:
    """Invoice an estimate in QuickBooks: the invoice copies its lines, the estimate closes."""
    request = _build(
        lambda: convert_request(
            tenant, _actor(user_id, admin), estimate_id=estimate_id, request_id=request_id
        )
    )
    _run(request, wait=wait, timeout_s=timeout, as_json=as_json)


invoice_app = typer.Typer(
    no_args_is_help=True, help="Invoices in QuickBooks, made from CRM deals (SYNC-RULES 6)."
)
invoice_app.command("create")(
    create_command(
        "invoice",
        "Create an invoice in QuickBooks for a person of a CRM deal (mail it with --send).",
    )
)
invoice_app.command("send")(send_command("invoice", "Mail an invoice from QuickBooks."))

estimate_app = typer.Typer(
    no_args_is_help=True,
    help="Estimates (proposals) in QuickBooks, made from CRM deals (SYNC-RULES 6).",
)
estimate_app.command("create")(
    create_command(
        "estimate",
        "Create an estimate (proposal) in QuickBooks for a person of a CRM deal "
        "(mail it with --send).",
    )
)
estimate_app.command("send")(
    send_command("estimate", "Mail an estimate (proposal) from QuickBooks.")
)
estimate_app.command("convert")(estimate_convert)
