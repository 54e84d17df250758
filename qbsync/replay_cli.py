"""`qbsync replay --projection NAME|all [--from-beginning | --since TIME] --to URL` (issue 7).

Rebuilds projections from the Kafka topics (QBSYNC_KAFKA_BOOTSTRAP) into SQLite or PostgreSQL:
reads each partition up to where it ended when the run started, then stops; shows a progress bar
with events/s on stderr and prints the figures (`--json`: one JSON object on stdout). By default
a run resumes a replay it made into the same database before (it applies only what is new), and
builds one from the beginning into a database that holds none; `--from-beginning` and `--since`
empty the replayed tables and rebuild them (projections/replay.py says how, and what it refuses).

Exit codes: 0 done, 1 failed (broker or database unreachable, a topic missing), 2 usage (an
unknown projection, a bad URL or time, a database that holds something else).
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from qbsync.follow import EXIT_FAILED, EXIT_USAGE, kafka_bootstrap
from qbsync.times import parse_utc

# Kafka, rich, SQLAlchemy and the projections load when the command runs: `qbsync --help` stays
# quick.
if TYPE_CHECKING:
    from rich.console import Console

    from projections.replay import ReplayResult, ReplayStats


def parse_since(text: str) -> datetime:
    """RFC 3339 / ISO 8601 (a date alone is its midnight); without a zone, UTC."""
    parsed = parse_utc(text)
    if parsed is None:
        raise typer.BadParameter(
            f"{text!r} is not a time (e.g. 2026-11-01 or 2026-11-01T10:00:00Z)",
            param_hint="--since",
        )
    return parsed


def projection_names(given: list[str] | None) -> list[str]:
    """`--projection` values: repeatable and comma-separated; none given is `all`. Checked here,
    before anything connects: a bad name is a usage error naming the valid ones."""
    from projections.projector import UnknownProjection, projections_named

    names = [name.strip() for value in given or ["all"] for name in value.split(",")]
    try:
        projections_named(names)
    except UnknownProjection as exc:
        raise typer.BadParameter(str(exc), param_hint="--projection") from exc
    return names


class _Progress:
    """A rich progress bar over the messages to read, with events/s (on stderr)."""

    def __init__(self, console: Console, enabled: bool) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>9,.0f} events/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not enabled,
        )
        self.task = self.bar.add_task("replaying", total=None, rate=0.0)

    def __call__(self, stats: ReplayStats) -> None:
        self.bar.update(self.task, total=stats.total, completed=stats.read, rate=stats.events_per_s)


def print_result(console: Console, result: ReplayResult) -> None:
    from rich.table import Table

    figures = result.as_json()
    table = Table(title=f"Replay of {', '.join(result.projections)} ({result.mode})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name in (
        "read",
        "applied",
        "skipped_before_since",
        "undecodable",
        "failed",
        "already_applied",
        "seconds",
        "events_per_s",
        "partitions",
    ):
        value = figures[name]
        shown = f"{value:,}" if isinstance(value, int) else str(value)
        table.add_row(name.replace("_", " "), shown)
    console.print(table)
    console.print(f"cluster {result.cluster}; positions kept as {result.consumer}", style="dim")


def replay_command(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            metavar="URL",
            help="The database to fill: sqlite:///PATH or postgresql://user@host/db?schema=S.",
        ),
    ],
    projection: Annotated[
        list[str] | None,
        typer.Option(
            "--projection",
            "-p",
            metavar="NAME",
            help="A projection (links, customers, imports, health, documents, ...) or all; "
            "repeatable or comma-separated. Default: all.",
        ),
    ] = None,
    from_beginning: Annotated[
        bool,
        typer.Option(
            "--from-beginning", help="Empty the replayed tables and rebuild from the first offset."
        ),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            metavar="TIME",
            help="Empty the replayed tables and rebuild from the first message published at or "
            "after this time (RFC 3339; without a zone, UTC).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    batch: Annotated[int, typer.Option(min=1, help="Events per database transaction.")] = 2000,
) -> None:
    """Rebuild projections from the Kafka topics into SQLite or PostgreSQL; print the figures."""
    from rich.console import Console
    from sqlalchemy.exc import SQLAlchemyError

    from projections.db import ProjectionDb, ProjectionUrlError
    from projections.replay import ReplayError, TargetRefused, replay
    from qbsync.config import Settings
    from qbsync.logs import configure_logging

    names = projection_names(projection)
    if from_beginning and since is not None:
        raise typer.BadParameter("give --from-beginning or --since, not both", param_hint="--since")
    start = parse_since(since) if since is not None else None
    bootstrap = kafka_bootstrap()
    configure_logging("WARNING", Settings().log_format)
    try:
        db = ProjectionDb.open(to)
    except ProjectionUrlError as exc:
        raise typer.BadParameter(str(exc), param_hint="--to") from exc
    except (SQLAlchemyError, OSError) as exc:
        typer.echo(f"cannot open the database: {exc.__class__.__name__}: {exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from exc
    progress = _Progress(Console(stderr=True), enabled=not as_json)
    try:
        with progress.bar:
            result = asyncio.run(
                replay(
                    bootstrap,
                    db,
                    names,
                    from_beginning=from_beginning,
                    since=start,
                    batch_max=batch,
                    on_progress=progress,
                )
            )
    except TargetRefused as exc:
        typer.echo(f"will not replay into that database: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from exc
    except ReplayError as exc:
        typer.echo(f"replay failed: {exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from exc
    except SQLAlchemyError as exc:
        typer.echo(f"replay failed: the database: {exc.__class__.__name__}: {exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from exc
    finally:
        db.close()
    if as_json:
        typer.echo(json.dumps(result.as_json(), indent=2))
    else:
        print_result(Console(), result)
