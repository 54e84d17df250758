"""Where each CDC sweep got to, per realm and entity, kept in SQLite across restarts."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime
from pathlib import Path


class SqliteWatermarks:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS cdc_watermark ("
            " realm_id TEXT NOT NULL, entity TEXT NOT NULL, changed_since TEXT NOT NULL,"
            " PRIMARY KEY (realm_id, entity))"
        )

    def get(self, realm_id: str, entity: str) -> datetime | None:
        with self._lock:
            row = self._db.execute(
                "SELECT changed_since FROM cdc_watermark WHERE realm_id = ? AND entity = ?",
                (realm_id, entity),
            ).fetchone()
        return datetime.fromisoformat(row[0]) if row else None

    def set(self, realm_id: str, entity: str, changed_since: datetime) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO cdc_watermark (realm_id, entity, changed_since) VALUES (?, ?, ?)"
                " ON CONFLICT (realm_id, entity)"
                " DO UPDATE SET changed_since = excluded.changed_since",
                (realm_id, entity, changed_since.isoformat()),
            )

    def close(self) -> None:
        self._db.close()
