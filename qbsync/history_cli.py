"""`qbsync history person|customer|company ID --tenant T [--as-of TIME]` (issue 7).

Reads the history projection (`QBSYNC_PROJECTIONS_URL`, else `<data dir>/projections.db`, the
one `qbsync api` keeps; `--db` names another, e.g. one built by `qbsync replay`). Prints one
timeline: every change with its source, each field before → after, and its cause; with
`--as-of`, the timeline up to that time and the record as it was then.

Exit codes: 0 found, 2 usage, 4 no history of that record in that tenant.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from qbsync.times import parse_utc

if TYPE_CHECKING:
    from projections.history_queries import FieldChangeView, RecordHistory, TimelineEntry

EXIT_NOT_FOUND = 4
Kind = Literal["person", "customer", "company"]


def parse_time(text: str, option: str = "--as-of") -> datetime:
    """RFC 3339 / ISO 8601; a time without a zone is UTC."""
    parsed = parse_utc(text)
    if parsed is None:
        raise typer.BadParameter(
            f"{text!r} is not a time (e.g. 2026-12-04T10:00:00Z)", param_hint=option
        )
    return parsed


def _value(value: str | None) -> str:
    return "∅" if value is None else repr(value)


def _changes(changes: list[FieldChangeView]) -> str:
    return "\n".join(f"{c.field}: {_value(c.before)} → {_value(c.after)}" for c in changes)


def _cause(entry: TimelineEntry) -> str:
    cause = entry.cause
    if cause is None:
        return f"echo of command {entry.echo_of}" if entry.echo_of else ""
    what = cause.summary or cause.type or cause.kind
    text = f"{cause.kind} {cause.id}: {what}"
    if cause.requested_by is not None:
        text += f" (asked by user {cause.requested_by})"
    if cause.changes:
        text += "\n" + _changes(cause.changes)
    return text


def render(found: RecordHistory) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    when = f" as of {found.as_of.isoformat()}" if found.as_of else ""
    table = Table(title=f"{found.kind} {found.record_id} in {found.tenant}{when}", show_lines=True)
    for column in ("time", "source", "what", "fields (before → after)", "cause"):
        table.add_column(column, overflow="fold")
    for entry in found.entries:
        source = entry.source if entry.source == entry.reported_by else f"{entry.source} (echo)"
        verdict = f"\n[{entry.verdict}]" if entry.verdict else ""
        table.add_row(
            entry.at.isoformat(timespec="seconds"),
            source,
            entry.summary + verdict,
            _changes(entry.changes),
            _cause(entry),
        )
    console.print(table)
    state = "deleted" if found.deleted else json.dumps(found.record, indent=1, sort_keys=True)
    console.print(f"record{when}: {state}")


def history_command(
    kind: Annotated[Kind, typer.Argument(help="person, company (CRM ids) or customer (QBO id)")],
    record_id: Annotated[str, typer.Argument(help="the record's id")],
    tenant: Annotated[str, typer.Option(help="The installation (tenant).")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Show the record as it was then (RFC 3339).")
    ] = None,
    db: Annotated[
        str | None, typer.Option(help="Projections database URL (default: the API's).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """One record's timeline across the CRM, QBO and the engine: who changed what, from what."""
    from adapters.http_api import projections_url
    from projections.db import ProjectionDb
    from projections.queries import ProjectionReader
    from qbsync.config import Settings

    when = parse_time(as_of) if as_of is not None else None
    if not record_id.isdigit():
        raise typer.BadParameter(f"{record_id!r} is not an id (digits)", param_hint="RECORD_ID")
    reader = ProjectionReader(ProjectionDb.open(db or projections_url(Settings())))
    found = reader.history(tenant, kind, record_id, when)
    if found is None:
        typer.echo(f"no history of {kind} {record_id} in tenant {tenant!r}", err=True)
        raise typer.Exit(EXIT_NOT_FOUND)
    if as_json:
        typer.echo(found.model_dump_json(indent=2))
    else:
        render(found)
