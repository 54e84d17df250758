"""Where each sweep or poll got to, per scope (a QBO realm, a tenant) and entity, in SQLite.

Singer's rule applies to every user: move a watermark only after every event it covers has been
published and acknowledged.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

_TABLE = re.compile(r"^[a-z_]+$")


class _Sqlite:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()


class SqliteWatermarks(_Sqlite):
    def __init__(self, path: Path, table: str = "cdc_watermark") -> None:
        super().__init__(path)
        if not _TABLE.match(table):
            raise ValueError(f"bad table name {table!r}")
        self._table = table
        self._db.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (scope TEXT NOT NULL, entity TEXT NOT NULL,"
            " changed_since TEXT NOT NULL, PRIMARY KEY (scope, entity))"
        )

    def get(self, scope: str, entity: str) -> datetime | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT changed_since FROM {self._table} WHERE scope = ? AND entity = ?",  # noqa: S608 - checked name
                (scope, entity),
            ).fetchone()
        return datetime.fromisoformat(row[0]) if row else None

    def set(self, scope: str, entity: str, changed_since: datetime) -> None:
        with self._lock:
            self._db.execute(
                f"INSERT INTO {self._table} (scope, entity, changed_since) VALUES (?, ?, ?)"  # noqa: S608
                " ON CONFLICT (scope, entity) DO UPDATE SET changed_since = excluded.changed_since",
                (scope, entity, changed_since.isoformat()),
            )


class SqliteKnownIds(_Sqlite):
    """The ids a full sweep last saw, so the next sweep can tell which records were hard-deleted."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS known_ids (scope TEXT NOT NULL, entity TEXT NOT NULL,"
            " id INTEGER NOT NULL, PRIMARY KEY (scope, entity, id))"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS swept (scope TEXT NOT NULL, entity TEXT NOT NULL,"
            " PRIMARY KEY (scope, entity))"
        )

    def ids(self, scope: str, entity: str) -> set[int]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM known_ids WHERE scope = ? AND entity = ?", (scope, entity)
            ).fetchall()
        return {row[0] for row in rows}

    def was_swept(self, scope: str, entity: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM swept WHERE scope = ? AND entity = ?", (scope, entity)
            ).fetchone()
        return row is not None

    def add(self, scope: str, entity: str, ids: Iterable[int]) -> None:
        with self._lock:
            self._db.executemany(
                "INSERT OR IGNORE INTO known_ids (scope, entity, id) VALUES (?, ?, ?)",
                [(scope, entity, i) for i in ids],
            )

    def replace(self, scope: str, entity: str, ids: Iterable[int]) -> None:
        """After a full sweep: exactly these ids exist now."""
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute(
                "DELETE FROM known_ids WHERE scope = ? AND entity = ?", (scope, entity)
            )
            self._db.executemany(
                "INSERT INTO known_ids (scope, entity, id) VALUES (?, ?, ?)",
                [(scope, entity, i) for i in ids],
            )
            self._db.execute(
                "INSERT OR IGNORE INTO swept (scope, entity) VALUES (?, ?)", (scope, entity)
            )
            self._db.execute("COMMIT")
