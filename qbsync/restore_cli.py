"""`qbsync restore` (admin, issue 7): bring records back to their values at a time T.

    qbsync restore --tenant T --user-id N --admin --to TIME
                   (--person ID | --customer ID | --qbo-change EVENT_ID | --import REQUEST_ID)
                   [--field F]... [--only-cleared] [--dry-run] [--restore-id ID]
                   [--db URL] [--wait/--no-wait] [--json]

`--only-cleared` puts back only what was emptied since T (what a QBO overwrite cleared), keeping
the rest of the later changes (a new name, say); `--field` names fields. The plan (who, which
field, now → restored) is read from the history projection (`--db`, else
the API's projections database) and printed first; `--dry-run` stops there. Otherwise one
request per person goes to `qbsync.requests.v1` and, with `--wait`, each request's verdict is
shown: the engine checks the permission, the direction and echoes as for any change
(engine/restore.py). `--restore-id` sends a restore again under an id already used (a retry:
the engine takes each request once).

Exit codes: 0 done (or planned, with --dry-run), 2 usage, 3 denied or nothing to restore,
4 no verdict within --timeout or Kafka unreachable.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from qbsync.follow import EXIT_DENIED, EXIT_TIMEOUT, SOURCE
from qbsync.history_cli import parse_time

if TYPE_CHECKING:
    from projections.restore_plan import RestorePlan, Scope
    from schemas.envelope import Envelope
    from schemas.requests import RestoreRequested


def _scope(
    person: int | None, customer: str | None, qbo_change: str | None, import_id: str | None
) -> tuple[Scope, str]:
    given = [
        ("record", f"person/{person}") if person is not None else None,
        ("record", f"customer/{customer}") if customer is not None else None,
        ("qbo_change", qbo_change) if qbo_change is not None else None,
        ("import", import_id) if import_id is not None else None,
    ]
    chosen = [scope for scope in given if scope is not None]
    if len(chosen) != 1:
        raise typer.BadParameter(
            "give exactly one of --person, --customer, --qbo-change, --import",
            param_hint="scope",
        )
    scope, scope_id = chosen[0]
    return scope, scope_id  # type: ignore[return-value]


def render_plan(plan: RestorePlan) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if plan.problem:
        console.print(plan.problem)
        return
    table = Table(title=f"restore {plan.scope} {plan.scope_id} to {plan.as_of.isoformat()}")
    for column in ("person", "customer", "field", "now", "restored"):
        table.add_column(column)
    for person in plan.people:
        if person.skipped or not person.changes:
            why = person.skipped or "already holds those values"
            table.add_row(str(person.person_id), person.customer_id or "", why, "", "")
        for change in person.changes if not person.skipped else []:
            table.add_row(
                str(person.person_id),
                person.customer_id or "",
                change.field,
                "∅" if change.now is None else change.now,
                "∅" if change.restored is None else change.restored,
            )
    console.print(table)


def _send(
    bootstrap: str, requests: list[RestoreRequested], timeout_s: float | None
) -> dict[str, str]:
    """Publish the requests and, unless `timeout_s` is None (--no-wait), collect the engine's
    verdict on each (request id → verdict)."""
    from qbsync.follow import publish_and_follow
    from schemas.decisions import InputApplied, InputIgnored, RequestDenied

    wanted = {request.id for request in requests}
    verdicts: dict[str, str] = {}

    def judge(event: Envelope) -> bool | None:
        if isinstance(event, InputApplied) and event.data.input_id in wanted:
            verdicts[event.data.input_id] = f"applied ({len(event.data.command_ids)} command(s))"
        elif isinstance(event, InputIgnored) and event.data.input_id in wanted:
            verdicts[event.data.input_id] = f"ignored: {event.data.detail or event.data.reason}"
        elif isinstance(event, RequestDenied) and event.data.input_id in wanted:
            verdicts[event.data.input_id] = f"denied: {event.data.reason}"
        return True if wanted <= verdicts.keys() else None

    asyncio.run(
        publish_and_follow(
            bootstrap,
            requests,
            judge if timeout_s is not None else None,
            timeout_s=timeout_s or 0,
        )
    )
    return verdicts


def restore_command(
    tenant: Annotated[str, typer.Option(help="The installation (tenant).")],
    user_id: Annotated[int, typer.Option(help="CRM user id of the admin asking.")],
    to: Annotated[str, typer.Option("--to", help="Restore the values of this time (RFC 3339).")],
    admin: Annotated[bool, typer.Option("--admin", help="The user is a CRM admin.")] = False,
    person: Annotated[int | None, typer.Option(help="One CRM person.")] = None,
    customer: Annotated[str | None, typer.Option(help="One QBO customer's person.")] = None,
    qbo_change: Annotated[
        str | None, typer.Option(help="Every person one QBO change event touched.")
    ] = None,
    import_id: Annotated[
        str | None, typer.Option("--import", help="Every person one import touched.")
    ] = None,
    field: Annotated[
        list[str] | None, typer.Option("--field", help="Only this CRM field (repeatable).")
    ] = None,
    only_cleared: Annotated[
        bool,
        typer.Option("--only-cleared", help="Only fields empty now that held a value then."),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan; write nothing.")
    ] = False,
    restore_id: Annotated[
        str | None, typer.Option(help="Send a restore again under this id (a safe retry).")
    ] = None,
    db: Annotated[
        str | None, typer.Option(help="Projections database URL (default: the API's).")
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait for the engine's verdicts.")
    ] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the verdicts.")] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Bring records back to their values at a time (admin): plan, then ordinary commands."""
    from adapters.http_api import projections_url
    from engine.restore import FieldFilter
    from projections.db import ProjectionDb
    from projections.restore_plan import plan_restore, requests_for
    from qbsync.config import Settings
    from qbsync.follow import kafka_bootstrap
    from schemas.requests import Actor

    as_of = parse_time(to, "--to")
    scope, scope_id = _scope(person, customer, qbo_change, import_id)
    database = ProjectionDb.open(db or projections_url(Settings()))
    with database.reading() as conn:
        only = FieldFilter(frozenset(field) if field else None, only_cleared)
        plan = plan_restore(conn, tenant, scope, scope_id, as_of, only)
    result: dict[str, object] = {"plan": plan.as_json(), "dry_run": dry_run}
    if not as_json:
        render_plan(plan)
    requests = requests_for(
        plan,
        Actor(user_id=user_id, is_admin=admin),
        restore_id or str(uuid.uuid4()),
        SOURCE,
        datetime.now(UTC),
    )
    code = 0 if requests else EXIT_DENIED
    verdicts: dict[str, str] = {}
    if not dry_run and requests:
        result["restore_id"] = requests[0].data.restore_id
        result["request_ids"] = {r.data.person_id: r.id for r in requests}
        verdicts = _send(kafka_bootstrap(), requests, timeout if wait else None)
        if wait:
            result["verdicts"] = {r.data.person_id: verdicts.get(r.id) for r in requests}
            if len(verdicts) < len(requests):
                code = EXIT_TIMEOUT
            elif any(not v.startswith("applied") for v in verdicts.values()):
                code = EXIT_DENIED
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))
    else:
        for request in requests if wait and not dry_run else []:
            verdict = verdicts.get(request.id) or "no verdict yet"
            typer.echo(f"person {request.data.person_id}: {verdict}")
        if dry_run:
            typer.echo("dry run: nothing was sent")
    if code:
        raise typer.Exit(code)
