"""Where projections live: SQLite (`sqlite:///PATH`, the default) or PostgreSQL.

- `sqlite:///relative/path.db` or `sqlite:////absolute/path.db`: parent directories are created;
  WAL mode, so the query API reads while the runner writes; writes take the lock up front
  (BEGIN IMMEDIATE), so two writers wait for each other instead of failing on a lock upgrade.
- `postgresql://user[:password]@host[:port]/db[?schema=S&connect_timeout=N]` (also `postgres://`
  and `postgresql+psycopg://`): psycopg 3; the schema is created if missing and is the
  connection's search_path.

Tables are created on open (`metadata.create_all`, idempotent; serialised by an advisory lock on
PostgreSQL so two processes opening a new schema do not race). A nullable column or an index
added to a table since its database was made is added in place; older rows have it empty until a
rebuild from the topics (reset, then replay) fills it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text

from projections.tables import metadata

_SQLITE = "sqlite:///"
_POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
_SCHEMA = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_WRITE = "qbsync_write"


class ProjectionUrlError(ValueError):
    """The projections URL is not one we understand."""


class ProjectionDb:
    """An SQLAlchemy engine over the projection tables, with read and write transactions."""

    def __init__(self, engine: Engine, schema: str | None = None) -> None:
        self.engine = engine
        self.schema = schema

    @classmethod
    def open(cls, url: str) -> ProjectionDb:
        db = cls(*_engine_for(url))
        db.create_tables()
        return db

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def create_tables(self) -> None:
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                lock = "SELECT pg_advisory_xact_lock(hashtext(:name))"
                conn.execute(text(lock), {"name": f"qbsync-projections:{self.schema}"})
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
            metadata.create_all(conn)
            _add_new_columns(conn)

    def reset(self) -> None:
        """Drop and recreate every projection table (and so every position): for a rebuild."""
        with self.engine.begin() as conn:
            metadata.drop_all(conn)
        self.create_tables()

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def close(self) -> None:
        self.engine.dispose()


def _add_new_columns(conn: Connection) -> None:
    inspector = inspect(conn)
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        missing = [c for c in table.columns if c.name not in present and c.nullable]
        for column in missing:
            kind = column.type.compile(dialect=conn.dialect)
            add = f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'
            conn.execute(text(add))
        for index in table.indexes:
            index.create(conn, checkfirst=True)


def _engine_for(url: str) -> tuple[Engine, str | None]:
    if url.startswith(_SQLITE):
        return _sqlite_engine(url), None
    parts = urlsplit(url)
    if parts.scheme not in _POSTGRES_SCHEMES:
        raise ProjectionUrlError(f"{url!r}: expected sqlite:///PATH or postgresql://...")
    if not (parts.hostname and parts.path.strip("/")):
        raise ProjectionUrlError(f"{url!r}: expected postgresql://user@host[:port]/dbname")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    schema = options.pop("schema", "public")
    if not _SCHEMA.match(schema):
        raise ProjectionUrlError(f"{url!r}: schema {schema!r} is not a plain SQL identifier")
    plain = urlunsplit(
        ("postgresql+psycopg", parts.netloc, parts.path, urlencode(options), parts.fragment)
    )
    engine = create_engine(
        plain,
        connect_args={"options": f"-c search_path={schema}"},
        pool_pre_ping=True,
    )
    return engine, schema


def _sqlite_engine(url: str) -> Engine:
    path = url.removeprefix(_SQLITE)
    if not path or path == ":memory:" or "?" in path:
        raise ProjectionUrlError(f"{url!r}: name a database file, e.g. sqlite:///.qbsync/p.db")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    # pysqlite's own transaction handling would BEGIN lazily; take it over (the SQLAlchemy
    # recipe), so that writes can BEGIN IMMEDIATE and reads plain BEGIN.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
