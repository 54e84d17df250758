"""`qbsync import`: ask for an import (SYNC-RULES 4) and follow it to its summary.

The request goes to `qbsync.requests.v1` as an `ImportRequested` (keyed by tenant); the engine
decides whether the actor may import and runs the job. With `--wait` (the default) the command
follows `qbsync.decisions.v1` from the moment before it published (no consumer group: it reads,
it never commits) for the decisions about its request id: started, progress, finished, failed,
or denied (qbsync/follow.py publishes and follows, for this and the document commands).
Exit codes: 0 finished (or requested, with --no-wait), 1 failed, 3 denied, 4 no answer within
--timeout.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from qbsync.follow import (
    EXIT_DENIED,
    EXIT_FAILED,
    EXIT_TIMEOUT,
    SOURCE,
    kafka_bootstrap,
    publish_and_follow,
)

# Kafka, rich and the schemas load when the command runs: `qbsync --help` stays quick.
if TYPE_CHECKING:
    from rich.console import Console

    from schemas.envelope import Envelope
    from schemas.imports import ImportSummary
    from schemas.requests import Actor, ImportRequested

Status = Literal["requested", "finished", "failed", "denied", "timeout"]


@dataclass(frozen=True)
class Followed:
    request_id: str
    status: Status
    dry_run: bool
    summary: ImportSummary | None = None
    reason: str | None = None

    @property
    def exit_code(self) -> int:
        return {"failed": EXIT_FAILED, "denied": EXIT_DENIED, "timeout": EXIT_TIMEOUT}.get(
            self.status, 0
        )

    def as_json(self) -> dict[str, object]:
        return {
            "request_id": self.request_id,
            "status": self.status,
            "dry_run": self.dry_run,
            "summary": self.summary.model_dump(mode="json") if self.summary else None,
            "reason": self.reason,
        }


def import_request(tenant: str, actor: Actor, *, dry_run: bool) -> ImportRequested:
    from schemas.requests import ImportRequested, ImportRequestedData

    request_id = str(uuid.uuid4())
    return ImportRequested(
        id=request_id,
        source=SOURCE,
        subject=f"import/{request_id}",
        time=datetime.now(UTC),
        tenant=tenant,
        data=ImportRequestedData(actor=actor, dry_run=dry_run),
    )


def about(event: Envelope, request_id: str) -> bool:
    """Is this decision about our request?"""
    from schemas.decisions import ImportDecisionData, RequestDenied

    if isinstance(event, RequestDenied):
        return event.data.input_id == request_id
    return isinstance(event.data, ImportDecisionData) and event.data.request_id == request_id


async def request_import(
    bootstrap: str,
    request: ImportRequested,
    *,
    wait: bool = True,
    timeout_s: float = 3600.0,
    on_update: Callable[[Envelope], None] = lambda _event: None,
) -> Followed:
    """Publish the request; with `wait`, follow its decisions until it ends (or times out)."""
    from schemas.decisions import ImportFailed, ImportFinished, RequestDenied

    request_id, dry_run = request.id, request.data.dry_run

    def judge(event: Envelope) -> Followed | None:
        if not about(event, request_id):
            return None
        on_update(event)
        if isinstance(event, ImportFinished):
            return Followed(request_id, "finished", dry_run, event.data.summary)
        if isinstance(event, ImportFailed):
            return Followed(request_id, "failed", dry_run, reason=event.data.reason)
        if isinstance(event, RequestDenied):
            return Followed(request_id, "denied", dry_run, reason=event.data.reason)
        return None

    result = await publish_and_follow(
        bootstrap, request, judge if wait else None, timeout_s=timeout_s
    )
    if not wait:
        return Followed(request_id, "requested", dry_run)
    return result or Followed(
        request_id, "timeout", dry_run, reason=f"no summary within {timeout_s:g} s"
    )


# --- the command ----------------------------------------------------------------------------


class _Progress:
    """A rich progress bar fed by the run's decisions (on stderr: stdout carries the result)."""

    def __init__(self, console: Console, enabled: bool) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not enabled,
        )
        self.task = self.bar.add_task("import requested", total=None)

    def __call__(self, event: Envelope) -> None:
        from schemas.decisions import ImportFinished, ImportProgressed, ImportStarted

        if isinstance(event, ImportStarted):
            self.bar.update(self.task, description="reading QuickBooks and the CRM")
        elif isinstance(event, ImportProgressed):
            done = event.data.counts.get("processed", 0)
            self.bar.update(
                self.task, description="linking", total=event.data.total, completed=done
            )
        elif isinstance(event, ImportFinished):
            total = self.bar.tasks[0].total or 0
            self.bar.update(self.task, description="finished", completed=total)


def print_result(console: Console, result: Followed) -> None:
    from rich.table import Table

    from streams.importing.summary import summary_lists, summary_rows

    if result.status == "requested":
        console.print(f"import requested: {result.request_id}")
        return
    if result.summary is None:
        console.print(f"import {result.status}: {result.reason}", style="bold red")
        return
    title = "Dry run (nothing written)" if result.dry_run else "QuickBooks import"
    table = Table(title=f"{title} {result.request_id}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for label, value in summary_rows(result.summary):
        table.add_row(label, value)
    console.print(table)
    for name, lines in summary_lists(result.summary):
        console.print(f"\n[bold]{name}[/bold]")
        for line in lines:
            console.print(f"  {line}", markup=False, highlight=False)


def import_command(
    tenant: Annotated[str, typer.Option(help="The installation (tenant) to import into.")],
    user_id: Annotated[int, typer.Option(help="CRM user id of the person asking.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Compute everything, write nothing (4.9).")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Follow the import to its summary.")
    ] = True,
    admin: Annotated[
        bool, typer.Option("--admin/--not-admin", help="Whether that user is an admin.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the summary.")] = 3600.0,
) -> None:
    """Import QuickBooks customers into the CRM (SYNC-RULES 4), and print the summary."""
    from rich.console import Console

    from schemas.requests import Actor

    bootstrap = kafka_bootstrap()
    request = import_request(tenant, Actor(user_id=user_id, is_admin=admin), dry_run=dry_run)
    progress = _Progress(Console(stderr=True), enabled=wait and not as_json)
    with progress.bar:
        result = asyncio.run(
            request_import(
                bootstrap,
                request,
                wait=wait,
                timeout_s=timeout,
                on_update=progress,
            )
        )
    if as_json:
        typer.echo(json.dumps(result.as_json(), indent=2))
    else:
        print_result(Console(), result)
    raise typer.Exit(result.exit_code)
