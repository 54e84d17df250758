"""Projection tests run on SQLite and on PostgreSQL (a fresh schema per test, dropped after;
skipped when the server does not answer, a failure with QBSYNC_REQUIRE_POSTGRES=1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from projections.db import ProjectionDb
from projections.projector import Projector
from tests.projections.events import Feed
from tests.store.backends import postgres_backend, sqlite_backend

BACKENDS = {"sqlite": sqlite_backend, "postgres": postgres_backend}


@pytest.fixture(params=sorted(BACKENDS))
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ProjectionDb]:
    with BACKENDS[request.param](tmp_path) as url:
        opened = ProjectionDb.open(url.replace("/store.db", "/projections.db"))
        try:
            yield opened
        finally:
            opened.close()


@pytest.fixture
def projector(db: ProjectionDb) -> Projector:
    return Projector(db)


@pytest.fixture
def feed(projector: Projector) -> Feed:
    return Feed(projector)
