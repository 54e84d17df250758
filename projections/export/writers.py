"""Writers of the two tables: Parquet (pyarrow, an explicit schema), CSV (RFC 4180, UTF-8, one
file per table) and SQLite (one file, two tables, indexed).

Each writer takes rows in batches and never holds more than one. Files are written under a
`.partial` name and renamed when the export is complete, so a file with the final name is always
a whole export; `abort` removes the partial files.
"""

from __future__ import annotations

import contextlib
import csv
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from projections.export.rows import TABLES, Column, EventRow, FieldChangeRow

PARTIAL = ".partial"


class ExportFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"
    sqlite = "sqlite"


SQLITE_FILE = "history.sqlite"


def file_names(fmt: ExportFormat) -> tuple[str, ...]:
    """The files an export writes in its directory."""
    if fmt is ExportFormat.sqlite:
        return (SQLITE_FILE,)
    return tuple(f"{table}.{fmt.value}" for table in TABLES)


class Writer(Protocol):
    def write(self, events: Sequence[EventRow], changes: Sequence[FieldChangeRow]) -> None: ...

    def commit(self) -> list[Path]:
        """Finish the files and give them their final names."""
        ...

    def abort(self) -> None:
        """Close and remove what was written."""
        ...


def open_writer(fmt: ExportFormat, directory: Path) -> Writer:
    """A writer of both tables into `directory` (made if missing, and removed again by `abort`
    then)."""
    made = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    kind: dict[ExportFormat, Callable[[Path], Writer]] = {
        ExportFormat.parquet: ParquetWriter,
        ExportFormat.csv: CsvWriter,
        ExportFormat.sqlite: SqliteWriter,
    }
    try:
        writer = kind[fmt](directory)
    except BaseException:
        _remove_made(directory, made)
        raise
    return _InDirectory(writer, directory, made)


def _remove_made(directory: Path, made: bool) -> None:
    if made:
        with contextlib.suppress(OSError):  # only when empty
            directory.rmdir()


class _InDirectory:
    def __init__(self, writer: Writer, directory: Path, made: bool) -> None:
        self._writer, self._directory, self._made = writer, directory, made

    def write(self, events: Sequence[EventRow], changes: Sequence[FieldChangeRow]) -> None:
        self._writer.write(events, changes)

    def commit(self) -> list[Path]:
        return self._writer.commit()

    def abort(self) -> None:
        self._writer.abort()
        _remove_made(self._directory, self._made)


Rows = Sequence[EventRow] | Sequence[FieldChangeRow]


def _values(row: EventRow | FieldChangeRow, cols: tuple[Column, ...]) -> list[Any]:
    return [getattr(row, column.name) for column in cols]


def _tables(events: Sequence[EventRow], changes: Sequence[FieldChangeRow]) -> tuple[Rows, Rows]:
    return events, changes


def _finish(partials: Sequence[Path]) -> list[Path]:
    done = []
    for partial in partials:
        final = partial.with_name(partial.name.removesuffix(PARTIAL))
        partial.replace(final)
        done.append(final)
    return done


def _remove(paths: Sequence[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


# --- Parquet ---------------------------------------------------------------------------------

_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}


def arrow_schema(cols: tuple[Column, ...]) -> pa.Schema:
    """The Parquet schema of a table; each field's meaning is in its `description` metadata."""
    return pa.schema(
        [
            pa.field(
                c.name,
                _ARROW_TYPES[c.type],
                nullable=c.nullable,
                metadata={"description": c.meaning},
            )
            for c in cols
        ]
    )


class ParquetWriter:
    def __init__(self, directory: Path) -> None:
        self._paths = [directory / f"{table}.parquet{PARTIAL}" for table in TABLES]
        self._schemas = [arrow_schema(cols) for cols in TABLES.values()]
        self._writers = [
            pq.ParquetWriter(path, schema, compression="zstd")
            for path, schema in zip(self._paths, self._schemas, strict=True)
        ]

    def write(self, events: Sequence[EventRow], changes: Sequence[FieldChangeRow]) -> None:
        for writer, schema, rows in zip(
            self._writers, self._schemas, _tables(events, changes), strict=True
        ):
            if rows:
                names = schema.names
                table = pa.Table.from_pydict(
                    {name: [getattr(row, name) for row in rows] for name in names}, schema=schema
                )
                writer.write_table(table)

    def commit(self) -> list[Path]:
        for writer in self._writers:
            writer.close()
        return _finish(self._paths)

    def abort(self) -> None:
        for writer in self._writers:
            writer.close()
        _remove(self._paths)


# --- CSV -------------------------------------------------------------------------------------


def csv_text(value: Any) -> str:
    """A value as CSV text: null is the empty field, a timestamp is RFC 3339 in UTC."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(value)


class CsvWriter:
    def __init__(self, directory: Path) -> None:
        self._paths = [directory / f"{table}.csv{PARTIAL}" for table in TABLES]
        self._files: list[IO[str]] = [
            path.open("w", encoding="utf-8", newline="") for path in self._paths
        ]
        self._writers = [csv.writer(f, lineterminator="\r\n") for f in self._files]
        for writer, cols in zip(self._writers, TABLES.values(), strict=True):
            writer.writerow([c.name for c in cols])

    def write(self, events: Sequence[EventRow], changes: Sequence[FieldChangeRow]) -> None:
        for writer, cols, rows in zip(
            self._writers, TABLES.values(), _tables(events, changes), strict=True
        ):
            writer.writerows([csv_text(v) for v in _values(row, cols)] for row in rows)

    def commit(self) -> list[Path]:
        for f in self._files:
            f.close()
        return _finish(self._paths)

    def abort(self) -> None:
        for f in self._files:
            f.close()
        _remove(self._paths)


# --- SQLite ----------------------------------------------------------------------------------

_SQLITE_TYPES = {"string": "TEXT", "int32": "INTEGER", "int64": "INTEGER", "timestamp": "TEXT"}
SQLITE_INDEXES = (
    "CREATE INDEX events_event_id ON events (event_id)",
    "CREATE INDEX events_time ON events (time)",
    "CREATE INDEX field_changes_event_id ON field_changes (event_id)",
    "CREATE INDEX field_changes_record ON field_changes (record_kind, record_id, time)",
)


def sqlite_ddl(table: str, cols: tuple[Column, ...]) -> str:
    body = ", ".join(
        f'"{c.name}" {_SQLITE_TYPES[c.type]}{"" if c.nullable else " NOT NULL"}' for c in cols
    )
    return f"CREATE TABLE {table} ({body})"


def _sqlite_value(value: Any) -> Any:
    return csv_text(value) if isinstance(value, datetime) else value


class SqliteWriter:
    """Timestamps are TEXT, RFC 3339 in UTC with microseconds (`2026-11-24T21:02:11.000000Z`):
    they sort as text and SQLite's date functions read them."""

    def __init__(self, directory: Path) -> None:
        self._path = directory / f"{SQLITE_FILE}{PARTIAL}"
        self._path.unlink(missing_ok=True)
        self._conn = sqlite3.connect(self._path)
        # A partial file is thrown away if anything fails: no journal needed.
        self._conn.execute("PRAGMA journal_mode = OFF")
        self._conn.execute("PRAGMA synchronous = OFF")
        self._inserts = []
        for table, cols in TABLES.items():
            self._conn.execute(sqlite_ddl(table, cols))
            marks = ", ".join("?" for _ in cols)
            self._inserts.append(f"INSERT INTO {table} VALUES ({marks})")  # noqa: S608 - fixed names

    def write(self, events: Sequence[EventRow], changes: Sequence[FieldChangeRow]) -> None:
        with self._conn:
            for insert, cols, rows in zip(
                self._inserts, TABLES.values(), _tables(events, changes), strict=True
            ):
                self._conn.executemany(
                    insert, ([_sqlite_value(v) for v in _values(row, cols)] for row in rows)
                )

    def commit(self) -> list[Path]:
        with self._conn:
            for statement in SQLITE_INDEXES:
                self._conn.execute(statement)
        self._conn.close()
        return _finish([self._path])

    def abort(self) -> None:
        self._conn.close()
        _remove([self._path])
