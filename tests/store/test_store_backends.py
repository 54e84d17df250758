"""The store contract on each backend."""

from __future__ import annotations

from tests.store.backends import postgres_backend, sqlite_backend
from tests.store.contract import StoreContract


class TestSQLiteStore(StoreContract):
    backend = staticmethod(sqlite_backend)


class TestPostgresStore(StoreContract):
    backend = staticmethod(postgres_backend)
