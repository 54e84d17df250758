"""Tokens at rest: encrypted, bound to their row, unreadable under another key; the dev key file."""

from __future__ import annotations

import base64
import os
import stat
from datetime import UTC, datetime, timedelta

import pytest
from structlog.testing import capture_logs

from adapters.qbo.secret_key import KEY_FILE_NAME, SecretKeyError, generate_key, load_secret_key
from adapters.qbo.tokens import TokenSet
from adapters.qbo.vault import SqliteTokenVault, VaultDecryptError
from qbsync.logs import redact_text

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ACCESS = "eyJhbGciOi.access-token-value-0123456789"
REFRESH = "AB11-refresh-token-value-9876543210"


def tokens(tenant="acme", realm="9130357766900456") -> TokenSet:
    return TokenSet(
        tenant_id=tenant,
        realm_id=realm,
        access_token=ACCESS,
        refresh_token=REFRESH,
        access_expires_at=NOW + timedelta(hours=1),
        refresh_expires_at=NOW + timedelta(days=100),
    )


def key() -> bytes:
    return os.urandom(32)


async def test_tokens_round_trip_through_the_vault(tmp_path):
    vault = SqliteTokenVault.in_data_dir(tmp_path, key())
    await vault.save(tokens())
    assert await vault.load("acme", "9130357766900456") == tokens()
    assert await vault.load("acme", "other") is None
    await vault.delete("acme", "9130357766900456")
    assert await vault.load("acme", "9130357766900456") is None


async def test_no_file_on_disk_contains_a_token(tmp_path):
    vault = SqliteTokenVault.in_data_dir(tmp_path, key())
    await vault.save(tokens())
    await vault.load("acme", "9130357766900456")
    for path in tmp_path.iterdir():  # the database and its WAL/SHM files
        raw = path.read_bytes()
        assert ACCESS.encode() not in raw, path
        assert REFRESH.encode() not in raw, path
    assert stat.S_IMODE(vault.path.stat().st_mode) == 0o600


async def test_a_different_key_fails_clearly_instead_of_returning_garbage(tmp_path):
    await SqliteTokenVault.in_data_dir(tmp_path, key()).save(tokens())
    other = SqliteTokenVault.in_data_dir(tmp_path, key())
    with pytest.raises(VaultDecryptError, match="QBSYNC_SECRET_KEY is not the key"):
        await other.load("acme", "9130357766900456")


async def test_a_ciphertext_moved_to_another_tenants_row_does_not_open(tmp_path):
    import sqlite3

    the_key = key()
    vault = SqliteTokenVault.in_data_dir(tmp_path, the_key)
    await vault.save(tokens("acme"))
    await vault.save(tokens("evil"))
    db = sqlite3.connect(vault.path)
    sealed = db.execute("SELECT sealed FROM qbo_tokens WHERE tenant_id='acme'").fetchone()[0]
    db.execute("UPDATE qbo_tokens SET sealed=? WHERE tenant_id='evil'", (sealed,))
    db.commit()
    db.close()
    with pytest.raises(VaultDecryptError):
        await vault.load("evil", "9130357766900456")


def test_token_sets_never_print_their_tokens():
    text = repr(tokens())
    assert ACCESS not in text and REFRESH not in text


def test_tokens_from_the_token_endpoint_are_registered_as_secrets():
    body = {
        "access_token": "fresh-access-abcdef",
        "refresh_token": "fresh-refresh-abcdef",
        "expires_in": 3600,
        "x_refresh_token_expires_in": 8726400,
    }
    made = TokenSet.from_token_response(body, tenant_id="t", realm_id="1", now=NOW)
    assert made.access_expires_at == NOW + timedelta(seconds=3600)
    assert "fresh-access-abcdef" not in redact_text("header fresh-access-abcdef")
    assert "fresh-refresh-abcdef" not in redact_text("body fresh-refresh-abcdef")


def test_a_configured_key_is_used_and_a_bad_one_is_refused_with_advice(tmp_path):
    good = generate_key()
    assert load_secret_key(good, tmp_path) == base64.urlsafe_b64decode(good)
    assert not (tmp_path / KEY_FILE_NAME).exists()
    with pytest.raises(SecretKeyError, match="must decode to 32 bytes"):
        load_secret_key(base64.urlsafe_b64encode(b"short").decode(), tmp_path)
    with pytest.raises(SecretKeyError, match="base64"):
        load_secret_key("not base64 at all!!", tmp_path)


def test_without_a_configured_key_a_dev_key_is_made_once_private_and_never_logged(tmp_path):
    with capture_logs() as logs:
        first = load_secret_key(None, tmp_path / "data")
    second = load_secret_key(None, tmp_path / "data")
    path = tmp_path / "data" / KEY_FILE_NAME
    assert first == second and len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [entry["log_level"] for entry in logs] == ["warning"]
    assert path.read_text().strip() not in str(logs)
