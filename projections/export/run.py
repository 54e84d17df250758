"""One export: read the tenant's events off the topics, turn them into rows, write them in
batches (memory holds one batch of rows, plus the last snapshot of each record).

`since` keeps the rows of events whose `time` is at or after it; every earlier event is still
read, so the first field change exported for a record is compared with what the record was.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from projections.export.reader import ALL_TOPICS, ReadStats, read_tenant
from projections.export.rows import EventRow, FieldChangeRow, FieldChanges, event_row
from projections.export.writers import ExportFormat, open_writer


@dataclass(frozen=True)
class ExportSummary:
    tenant: str
    format: ExportFormat
    directory: Path
    files: list[Path]
    events: int
    field_changes: int
    since: datetime | None
    before_since: int
    read: ReadStats
    seconds: float = field(default=0.0)

    def as_json(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "format": self.format.value,
            "directory": str(self.directory),
            "files": [str(path) for path in self.files],
            "events": self.events,
            "field_changes": self.field_changes,
            "since": self.since.isoformat() if self.since else None,
            "events_before_since": self.before_since,
            "messages_scanned": self.read.scanned,
            "skipped_undecodable": self.read.undecodable,
            "skipped_other_tenant": self.read.other_tenant,
            "missing_topics": self.read.missing_topics,
            "seconds": round(self.seconds, 3),
        }


async def export_history(
    bootstrap: str,
    tenant: str,
    fmt: ExportFormat,
    directory: Path,
    *,
    since: datetime | None = None,
    topics: Sequence[str] = ALL_TOPICS,
    flush_rows: int = 10_000,
    on_plan: Callable[[ReadStats], None] = lambda _stats: None,
    on_progress: Callable[[ReadStats], None] = lambda _stats: None,
    **reader_options: Any,
) -> ExportSummary:
    """Write the tenant's `events` and `field_changes` tables to `directory` in `fmt`.

    Raises what the reader raises (TopicsMissing, ReadStalled, Kafka errors); nothing is left
    then (the directory is removed too if this export made it)."""
    started = time.monotonic()
    stats = ReadStats()
    history = FieldChanges()
    events: list[EventRow] = []
    changes: list[FieldChangeRow] = []
    counts = {"events": 0, "changes": 0, "before_since": 0}
    writer = open_writer(fmt, directory)

    def flush() -> None:
        writer.write(events, changes)
        counts["events"] += len(events)
        counts["changes"] += len(changes)
        events.clear()
        changes.clear()

    try:
        batches = read_tenant(
            bootstrap, tenant, stats, topics=topics, on_plan=on_plan, **reader_options
        )
        async for reads in batches:
            for read in reads:
                rows = list(history.rows_of(read.event))  # every event: keeps the snapshots
                if since is not None and read.event.time < since:
                    counts["before_since"] += 1
                    continue
                events.append(event_row(read.event, read.where))
                changes.extend(rows)
            if len(events) + len(changes) >= flush_rows:
                flush()
            on_progress(stats)
        flush()
        files = writer.commit()
    except BaseException:
        writer.abort()
        raise
    return ExportSummary(
        tenant=tenant,
        format=fmt,
        directory=directory,
        files=files,
        events=counts["events"],
        field_changes=counts["changes"],
        since=since,
        before_since=counts["before_since"],
        read=stats,
        seconds=time.monotonic() - started,
    )
