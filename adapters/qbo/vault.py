"""Where OAuth tokens live: a small port, and a SQLite implementation encrypted at rest.

Tokens are sealed with AES-256-GCM under the installation's secret key. The row's identity
(tenant, realm) is the associated data, so a ciphertext copied onto another row fails to open
instead of silently connecting a tenant to someone else's company. Expiry times stay in clear
columns: they are not secret and operators need to see which connections are about to lapse.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapters.qbo.tokens import TokenSet
from qbsync.logs import register_secret

_FORMAT = b"\x01"  # ciphertext layout version: 1 = nonce(12) || AES-GCM(ciphertext+tag)
_NONCE_BYTES = 12
DB_FILE_NAME = "qbo_tokens.db"


class TokenVault(Protocol):
    async def load(self, tenant_id: str, realm_id: str) -> TokenSet | None: ...

    async def save(self, tokens: TokenSet) -> None: ...

    async def delete(self, tenant_id: str, realm_id: str) -> None: ...


class VaultDecryptError(RuntimeError):
    """Stored tokens cannot be opened: the secret key changed, or the row was tampered with."""


class InMemoryTokenVault:
    """A vault for tests and one-off scripts: nothing touches the disk."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], TokenSet] = {}

    async def load(self, tenant_id: str, realm_id: str) -> TokenSet | None:
        return self._rows.get((tenant_id, realm_id))

    async def save(self, tokens: TokenSet) -> None:
        self._rows[(tokens.tenant_id, tokens.realm_id)] = tokens

    async def delete(self, tenant_id: str, realm_id: str) -> None:
        self._rows.pop((tenant_id, realm_id), None)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS qbo_tokens (
    tenant_id TEXT NOT NULL,
    realm_id TEXT NOT NULL,
    sealed BLOB NOT NULL,
    access_expires_at TEXT NOT NULL,
    refresh_expires_at TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (tenant_id, realm_id)
)
"""


class SqliteTokenVault:
    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self._aead = AESGCM(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(_SCHEMA)
        os.chmod(path, 0o600)  # ciphertext only, but nobody else needs to read it either

    @classmethod
    def in_data_dir(cls, data_dir: Path, key: bytes) -> SqliteTokenVault:
        return cls(data_dir / DB_FILE_NAME, key)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # One short-lived connection per call: calls run in worker threads (asyncio.to_thread).
        db = sqlite3.connect(self.path, timeout=10)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            with db:  # commits, or rolls back on error
                yield db
        finally:
            db.close()

    @staticmethod
    def _aad(tenant_id: str, realm_id: str) -> bytes:
        return f"qbsync.qbo.tokens.v1|{tenant_id}|{realm_id}".encode()

    def _seal(self, tokens: TokenSet) -> bytes:
        plain = json.dumps({"access": tokens.access_token, "refresh": tokens.refresh_token})
        nonce = os.urandom(_NONCE_BYTES)
        aad = self._aad(tokens.tenant_id, tokens.realm_id)
        return _FORMAT + nonce + self._aead.encrypt(nonce, plain.encode(), aad)

    def _open(self, sealed: bytes, tenant_id: str, realm_id: str) -> dict[str, str]:
        if sealed[:1] != _FORMAT:
            raise VaultDecryptError(f"unknown token format for realm {realm_id}")
        nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        try:
            plain = self._aead.decrypt(nonce, body, self._aad(tenant_id, realm_id))
        except InvalidTag as exc:
            raise VaultDecryptError(
                f"cannot decrypt the QBO tokens of tenant {tenant_id} / realm {realm_id}: "
                "QBSYNC_SECRET_KEY is not the key they were stored with (or the row was altered)"
            ) from exc
        opened: dict[str, str] = json.loads(plain)
        return opened

    def _load(self, tenant_id: str, realm_id: str) -> TokenSet | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT sealed, access_expires_at, refresh_expires_at FROM qbo_tokens "
                "WHERE tenant_id = ? AND realm_id = ?",
                (tenant_id, realm_id),
            ).fetchone()
        if row is None:
            return None
        opened = self._open(row[0], tenant_id, realm_id)
        register_secret(opened["access"])
        register_secret(opened["refresh"])
        return TokenSet(
            tenant_id=tenant_id,
            realm_id=realm_id,
            access_token=opened["access"],
            refresh_token=opened["refresh"],
            access_expires_at=datetime.fromisoformat(row[1]),
            refresh_expires_at=datetime.fromisoformat(row[2]),
        )

    def _save(self, tokens: TokenSet) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO qbo_tokens (tenant_id, realm_id, sealed, access_expires_at, "
                "refresh_expires_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (tenant_id, realm_id) DO UPDATE SET sealed = excluded.sealed, "
                "access_expires_at = excluded.access_expires_at, "
                "refresh_expires_at = excluded.refresh_expires_at, "
                "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                (
                    tokens.tenant_id,
                    tokens.realm_id,
                    self._seal(tokens),
                    tokens.access_expires_at.isoformat(),
                    tokens.refresh_expires_at.isoformat(),
                ),
            )

    def _delete(self, tenant_id: str, realm_id: str) -> None:
        with self._connect() as db:
            db.execute(
                "DELETE FROM qbo_tokens WHERE tenant_id = ? AND realm_id = ?", (tenant_id, realm_id)
            )

    async def load(self, tenant_id: str, realm_id: str) -> TokenSet | None:
        return await asyncio.to_thread(self._load, tenant_id, realm_id)

    async def save(self, tokens: TokenSet) -> None:
        await asyncio.to_thread(self._save, tokens)

    async def delete(self, tenant_id: str, realm_id: str) -> None:
        await asyncio.to_thread(self._delete, tenant_id, realm_id)
