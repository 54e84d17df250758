"""`qbsync export`: a tenant's event history as flat tables that DuckDB and pandas read as they
are (issue 7; docs/export.md documents the tables column by column).

The topics are read once, every partition from the beginning up to the end offsets taken when
the command starts (no consumer group: it reads, it never commits); the tenant's messages are
those keyed by its id. `--since` keeps the events whose `time` is at or after it (the earlier
ones are still read, so field changes are compared with what the record was before).
Exit codes: 0 written, 1 failed (broker, topics, disk), 2 usage.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qbsync.follow import EXIT_FAILED, kafka_bootstrap
from qbsync.times import parse_utc

# Kafka, pyarrow and the schemas load when the command runs: `qbsync --help` stays quick.
if TYPE_CHECKING:
    from rich.console import Console

    from projections.export import ExportFormat, ExportSummary


class Format(StrEnum):
    """The same values as projections.export.ExportFormat (a test keeps them equal)."""

    parquet = "parquet"
    csv = "csv"
    sqlite = "sqlite"


_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")  # schemas.common.TENANT_PATTERN


def parse_since(text: str) -> datetime:
    """An ISO 8601 date or date-time; without an offset it is UTC."""
    moment = parse_utc(text)
    if moment is None:
        raise typer.BadParameter(
            f"{text!r} is not an ISO 8601 date or time, e.g. 2026-11-01 or 2026-11-01T09:00:00Z",
            param_hint="'--since'",
        )
    return moment


def default_out(tenant: str, now: datetime) -> Path:
    return Path(f"qbsync-export-{tenant}-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}")


def check_out(out: Path, names: tuple[str, ...]) -> None:
    """`--out` is a directory, new or without the files the export writes."""
    if out.exists() and not out.is_dir():
        raise typer.BadParameter(f"{out} exists and is not a directory", param_hint="'--out'")
    there = [name for name in names if (out / name).exists()]
    if there:
        raise typer.BadParameter(
            f"{out} already holds {', '.join(there)}: choose another directory or remove them",
            param_hint="'--out'",
        )


def print_summary(console: Console, summary: ExportSummary) -> None:
    console.print(
        f"exported {summary.events} events and {summary.field_changes} field changes "
        f"of tenant {summary.tenant} to {summary.directory}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    for path in summary.files:
        console.print(f"  {path}", markup=False, highlight=False, soft_wrap=True)
    skipped = summary.read.undecodable + summary.read.other_tenant
    if skipped:
        console.print(f"skipped {skipped} messages with the tenant's key that are not its events")
    if summary.before_since:
        console.print(f"left out {summary.before_since} events before --since")
    if summary.read.missing_topics:
        console.print(f"topics not on the cluster: {', '.join(summary.read.missing_topics)}")


def export_command(
    fmt: Annotated[
        Format, typer.Option("--format", help="parquet, csv (one file per table) or sqlite.")
    ],
    tenant: Annotated[str, typer.Option(help="The installation (tenant) to export.")],
    since: Annotated[
        str | None,
        typer.Option(help="Only events whose time is at or after this ISO 8601 date/time (UTC)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Directory to write to (default: ./qbsync-export-TENANT-UTCTIME/)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Write a tenant's event history as two tables, `events` (one row per event) and
    `field_changes` (one row per field change), for DuckDB, pandas or SQLite (docs/export.md)."""
    from rich.console import Console

    from projections.export import ExportFormat, file_names

    if not _TENANT.match(tenant):
        raise typer.BadParameter(f"{tenant!r} is not a tenant id", param_hint="'--tenant'")
    start = parse_since(since) if since is not None else None
    export_format = ExportFormat(fmt.value)
    directory = out if out is not None else default_out(tenant, datetime.now(UTC))
    check_out(directory, file_names(export_format))
    bootstrap = kafka_bootstrap()
    errors = Console(stderr=True)
    try:
        summary = _run(bootstrap, tenant, export_format, directory, start, errors, not as_json)
    except Exception as exc:
        errors.print(f"export failed: {_reason(exc, bootstrap)}", style="bold red", markup=False)
        raise typer.Exit(EXIT_FAILED) from None
    if as_json:
        typer.echo(json.dumps(summary.as_json(), indent=2))
    else:
        print_summary(Console(), summary)


def _run(
    bootstrap: str,
    tenant: str,
    fmt: ExportFormat,
    directory: Path,
    since: datetime | None,
    console: Console,
    show_progress: bool,
) -> ExportSummary:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from projections.export import ReadStats, export_history

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not show_progress,
        transient=True,
    )
    task = bar.add_task("reading the topics", total=None)

    def planned(stats: ReadStats) -> None:
        bar.update(task, description=f"scanning {stats.partitions} partitions", total=stats.to_scan)

    def progressed(stats: ReadStats) -> None:
        bar.update(
            task,
            total=stats.to_scan,
            completed=stats.scanned,
            description=f"{stats.events} events of {tenant}",
        )

    with bar:
        return asyncio.run(
            export_history(
                bootstrap,
                tenant,
                fmt,
                directory,
                since=since,
                on_plan=planned,
                on_progress=progressed,
            )
        )


def _reason(exc: Exception, bootstrap: str) -> str:
    from aiokafka.errors import KafkaConnectionError

    if isinstance(exc, KafkaConnectionError):
        return f"cannot reach the Kafka broker at {bootstrap} (QBSYNC_KAFKA_BOOTSTRAP): {exc}"
    return str(exc) or repr(exc)
