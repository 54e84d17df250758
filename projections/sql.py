"""INSERT ... ON CONFLICT for both backends (SQLite and PostgreSQL spell it the same way)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def _insert(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_new(conn: Connection, table: Table, row: Mapping[str, Any]) -> bool:
    """Insert `row` unless its primary key is there already; True if it was inserted."""
    key = list(table.primary_key.columns)
    stmt = (
        _insert(conn, table)
        .values(**row)
        .on_conflict_do_nothing(index_elements=[column.name for column in key])
        .returning(key[0])  # rowcount is not reliable for INSERT on every driver; RETURNING is
    )
    return conn.execute(stmt).first() is not None


def upsert(
    conn: Connection,
    table: Table,
    row: Mapping[str, Any],
    update: Sequence[str] | None = None,
    where: Any = None,
) -> None:
    """Insert `row`, or update the columns named in `update` (default: all but the key) of the
    row with its key, when `where(table, excluded)` holds (default: always)."""
    keys = [column.name for column in table.primary_key.columns]
    stmt = _insert(conn, table).values(**row)
    names = update if update is not None else [name for name in row if name not in keys]
    set_ = {name: stmt.excluded[name] for name in names}
    condition: ColumnElement[bool] | None = where(stmt.excluded) if where is not None else None
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=set_, where=condition))
