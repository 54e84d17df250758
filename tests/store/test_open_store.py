"""open_store: from QBSYNC_STORE_URL to a configured store (no database needed except SQLite)."""

from __future__ import annotations

import pytest

from qbsync.config import Settings
from store import StoreUrlError, open_store
from store.backends import store_environment


def test_a_relative_sqlite_url_is_resolved_and_its_directories_created(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open_store(Settings().store_location) as store:  # default: sqlite:///.qbsync/store.db
        assert store.installation("acme-co") is None
    assert (tmp_path / ".qbsync" / "store.db").is_file()


def test_an_absolute_sqlite_url_keeps_its_path(tmp_path):
    env = store_environment(f"sqlite:///{tmp_path}/a/b/store.db")
    assert env == {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": f"{tmp_path}/a/b/store.db",
    }


def test_a_postgresql_url_maps_to_the_library_settings():
    env = store_environment(
        "postgresql://qb%40user:s%3Acret@db.internal:6543/qbsync?schema=tenant_store&pool_size=3"
    )
    assert env == {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": "qbsync",
        "POSTGRES_HOST": "db.internal",
        "POSTGRES_PORT": "6543",
        "POSTGRES_USER": "qb@user",
        "POSTGRES_PASSWORD": "s:cret",
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_SCHEMA": "tenant_store",
        "POSTGRES_POOL_SIZE": "3",
    }
    assert store_environment("postgres://postgres@localhost/test")["POSTGRES_PORT"] == "5432"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mysql://root@localhost/qbsync", "expected sqlite:///PATH or postgresql://"),
        ("sqlite:///", "name a database file"),
        ("sqlite:///:memory:", "name a database file"),
        ("postgresql://localhost/test", "expected postgresql://user@host"),
        ("postgresql://postgres@localhost/test?sslmode=off", "unknown option 'sslmode'"),
    ],
)
def test_an_unusable_url_is_refused_with_the_reason(url, reason):
    with pytest.raises(StoreUrlError, match=reason):
        store_environment(url)


def test_the_process_environment_does_not_reconfigure_the_store(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSISTENCE_MODULE", "eventsourcing.popo")
    monkeypatch.setenv("QBSYNC_SQLITE_DBNAME", str(tmp_path / "elsewhere.db"))
    with open_store(f"sqlite:///{tmp_path}/store.db") as store:
        assert store.recorder.__class__.__module__ == "eventsourcing.sqlite"
    assert (tmp_path / "store.db").is_file()
    assert not (tmp_path / "elsewhere.db").exists()
