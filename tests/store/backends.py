"""The two backends the store contract runs on; each is a context manager yielding a store URL.

PostgreSQL: one fresh schema per test in the database named by QBSYNC_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/test), dropped afterwards. When the server does not answer,
the tests skip with the reason, unless QBSYNC_REQUIRE_POSTGRES=1 (CI), where they fail.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

POSTGRES_URL = os.environ.get(
    "QBSYNC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@contextmanager
def sqlite_backend(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path}/data/store.db"


@functools.cache
def _postgres_unreachable() -> str | None:
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except psycopg.Error as error:
        return f"PostgreSQL at {POSTGRES_URL} is not reachable: {error}".strip()
    return None


def _require_postgres() -> None:
    reason = _postgres_unreachable()
    if reason is None:
        return
    if os.environ.get("QBSYNC_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{reason} (QBSYNC_REQUIRE_POSTGRES=1: the PostgreSQL store suite must run)")
    pytest.skip(f"{reason}; set QBSYNC_REQUIRE_POSTGRES=1 to make this a failure")


@contextmanager
def postgres_backend(tmp_path: Path) -> Iterator[str]:
    _require_postgres()
    schema = f"qbsync_test_{uuid.uuid4().hex[:12]}"
    try:
        yield f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}schema={schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            drop = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            connection.execute(drop)
