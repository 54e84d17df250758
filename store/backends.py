"""From a store URL (`QBSYNC_STORE_URL`) to the eventsourcing library's settings.

- `sqlite:///relative/path.db` or `sqlite:////absolute/path.db`: parent directories are created.
- `postgresql://user[:password]@host[:port]/dbname[?schema=S&connect_timeout=5&pool_size=N]`:
  the schema is created if missing; the library creates its tables (`qbsync_events`,
  `qbsync_tracking`) on open.

The store is configured by its URL alone: process environment variables such as
PERSISTENCE_MODULE or POSTGRES_* are deliberately not consulted.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import psycopg
from psycopg import sql

_SQLITE = "sqlite:///"
_POSTGRES_SCHEMES = ("postgresql", "postgres")
_POSTGRES_OPTIONS = {
    "schema": "POSTGRES_SCHEMA",
    "connect_timeout": "POSTGRES_CONNECT_TIMEOUT",
    "pool_size": "POSTGRES_POOL_SIZE",
    "max_overflow": "POSTGRES_MAX_OVERFLOW",
}


class StoreUrlError(ValueError):
    """The store URL is not one the store understands."""


def store_environment(store_url: str) -> dict[str, str]:
    """The library settings for a URL, without touching any database."""
    if store_url.startswith(_SQLITE):
        path = store_url.removeprefix(_SQLITE)
        if not path or path == ":memory:":
            raise StoreUrlError(
                f"{store_url!r}: name a database file, e.g. sqlite:///.qbsync/store.db"
            )
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(Path(path).resolve()),
        }
    parts = urlsplit(store_url)
    if parts.scheme not in _POSTGRES_SCHEMES:
        raise StoreUrlError(f"{store_url!r}: expected sqlite:///PATH or postgresql://...")
    dbname = unquote(parts.path.lstrip("/"))
    if not (parts.hostname and parts.username and dbname):
        raise StoreUrlError(f"{store_url!r}: expected postgresql://user@host[:port]/dbname")
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_CONNECT_TIMEOUT": "5",
    }
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name not in _POSTGRES_OPTIONS:
            raise StoreUrlError(f"{store_url!r}: unknown option {name!r}")
        env[_POSTGRES_OPTIONS[name]] = value
    return env


@contextmanager
def prepared(env: dict[str, str]) -> Iterator[None]:
    """Create what the library does not (the SQLite file's directory, the PostgreSQL schema), and
    serialise opening: the library's table creation fails when two workers open a new database at
    once (PostgreSQL: CREATE TABLE races; SQLite: the tracking-table migration row). SQLite
    holds a file lock next to the database, PostgreSQL an advisory lock per schema."""
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        database = Path(env["SQLITE_DBNAME"])
        database.parent.mkdir(parents=True, exist_ok=True)
        with (database.parent / f"{database.name}.open-lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            yield
        return
    schema = env.get("POSTGRES_SCHEMA") or "public"
    with psycopg.connect(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        connect_timeout=int(env["POSTGRES_CONNECT_TIMEOUT"]),
        autocommit=True,
    ) as connection:
        key = f"qbsync-store:{schema}"
        connection.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
        try:
            if not connection.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)
            ).fetchone():
                connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            yield
        finally:
            connection.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
