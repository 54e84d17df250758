"""The OAuth server's memory: authorization codes, grants, access and refresh tokens.

A grant is one company connected to the app by one user. Only SHA-256 digests of tokens are
kept (oauth_credentials.py): looking a token up never compares the secret itself.

Expiry follows the sandbox clock, so tests reach it with `clock.advance()`.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from sandbox.qbo.clock import SandboxClock
from sandbox.qbo.config import QboSandboxConfig
from sandbox.qbo.oauth_credentials import (
    access_token_text,
    authorization_code_text,
    digest,
    refresh_token_text,
    same,
)


@dataclass
class Grant:
    grant_id: str
    client_id: str
    realm_id: str
    username: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked: bool = False


@dataclass
class _Access:
    grant: Grant
    expires_at: datetime


@dataclass
class _Refresh:
    grant: Grant
    expires_at: datetime
    superseded: bool = False


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    realm_id: str
    username: str
    scopes: tuple[str, ...]
    expires_at: datetime
    used: bool = False


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    refresh_hard_expires_in: int
    grant: Grant


class AccessStatus(Enum):
    VALID = "valid"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class AccessCheck:
    status: AccessStatus
    grant: Grant | None = None


@dataclass
class _Counters:
    codes_issued: int = 0
    grants: int = 0
    refreshes: int = 0
    invalid_grant: int = 0
    revocations: int = 0
    by_realm: dict[str, int] = field(default_factory=dict)


class GrantStore:
    """Thread-safe: the data plane may authenticate from worker threads."""

    def __init__(self, config: QboSandboxConfig, clock: SandboxClock) -> None:
        self._config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._codes: dict[bytes, _Code] = {}
        self._access: dict[bytes, _Access] = {}
        self._refresh: dict[bytes, _Refresh] = {}
        self._grants: dict[str, Grant] = {}
        self._counters = _Counters()

    # -- authorization codes --------------------------------------------------------------
    def issue_code(
        self,
        client_id: str,
        redirect_uri: str,
        realm_id: str,
        username: str,
        scopes: tuple[str, ...],
    ) -> str:
        code = authorization_code_text()
        expires = self._clock.now() + timedelta(seconds=self._config.authorization_code_ttl_s)
        with self._lock:
            self._codes[digest(code)] = _Code(
                client_id, redirect_uri, realm_id, username, scopes, expires
            )
            self._counters.codes_issued += 1
        return code

    def redeem_code(self, code: str, client_id: str, redirect_uri: str) -> IssuedTokens | None:
        """Tokens for a fresh, unused code issued to this client for this redirect URI."""
        with self._lock:
            found = self._codes.get(digest(code))
            usable = (
                found is not None
                and not found.used
                and found.expires_at > self._clock.now()
                and same(found.client_id, client_id)
                and same(found.redirect_uri, redirect_uri)
            )
            if found is None or not usable:
                self._counters.invalid_grant += 1
                return None
            found.used = True
            grant = self._new_grant(found.client_id, found.realm_id, found.username, found.scopes)
            return self._issue(grant)

    # -- grants ---------------------------------------------------------------------------
    def grant_directly(self, realm_id: str, username: str, scopes: tuple[str, ...]) -> IssuedTokens:
        with self._lock:
            grant = self._new_grant(self._config.client_id, realm_id, username, scopes)
            return self._issue(grant)

    def refresh(self, refresh_token: str, client_id: str) -> IssuedTokens | None:
        """Rotate: a new refresh token every time; the presented one is superseded for good."""
        now = self._clock.now()
        with self._lock:
            found = self._refresh.get(digest(refresh_token))
            if (
                found is None
                or found.superseded
                or found.grant.revoked
                or found.expires_at <= now
                or not same(found.grant.client_id, client_id)
            ):
                self._counters.invalid_grant += 1
                return None
            found.superseded = True
            self._counters.refreshes += 1
            return self._issue(found.grant)

    def revoke(self, token: str, client_id: str) -> bool:
        """Revoke the whole grant behind an access or refresh token; False if none is known."""
        key = digest(token)
        with self._lock:
            holder = self._refresh.get(key) or self._access.get(key)
            if holder is None or not same(holder.grant.client_id, client_id):
                return False
            holder.grant.revoked = True
            self._counters.revocations += 1
            return True

    def check_access(self, token: str) -> AccessCheck:
        with self._lock:
            found = self._access.get(digest(token))
        if found is None:
            return AccessCheck(AccessStatus.UNKNOWN)
        if found.grant.revoked:
            return AccessCheck(AccessStatus.REVOKED, found.grant)
        if found.expires_at <= self._clock.now():
            return AccessCheck(AccessStatus.EXPIRED, found.grant)
        return AccessCheck(AccessStatus.VALID, found.grant)

    # -- test hooks -----------------------------------------------------------------------
    def expire_access(self, realm_id: str) -> int:
        with self._lock:
            return _expire(list(self._access.values()), realm_id, self._clock.now())

    def expire_refresh(self, realm_id: str) -> int:
        with self._lock:
            return _expire(list(self._refresh.values()), realm_id, self._clock.now())

    def revoke_realm(self, realm_id: str) -> int:
        with self._lock:
            live = [g for g in self._grants.values() if g.realm_id == realm_id and not g.revoked]
            for grant in live:
                grant.revoked = True
            self._counters.revocations += len(live)
            return len(live)

    def stats(self) -> dict[str, object]:
        with self._lock:
            c = self._counters
            return {
                "codes_issued": c.codes_issued,
                "grants": c.grants,
                "live_grants": sum(not g.revoked for g in self._grants.values()),
                "refreshes": c.refreshes,
                "invalid_grant": c.invalid_grant,
                "revocations": c.revocations,
                "grants_by_realm": dict(c.by_realm),
            }

    # -- internals (call with the lock held) ----------------------------------------------
    def _new_grant(
        self, client_id: str, realm_id: str, username: str, scopes: tuple[str, ...]
    ) -> Grant:
        grant = Grant(
            secrets.token_hex(8), client_id, realm_id, username, scopes, self._clock.now()
        )
        self._grants[grant.grant_id] = grant
        self._counters.grants += 1
        self._counters.by_realm[realm_id] = self._counters.by_realm.get(realm_id, 0) + 1
        return grant

    def _issue(self, grant: Grant) -> IssuedTokens:
        now = self._clock.now()
        hard_end = grant.created_at + timedelta(seconds=self._config.refresh_token_max_lifetime_s)
        refresh_end = min(now + timedelta(seconds=self._config.refresh_token_ttl_s), hard_end)
        access_ttl = self._config.access_token_ttl_s
        access, refresh = access_token_text(), refresh_token_text(now)
        self._access[digest(access)] = _Access(grant, now + timedelta(seconds=access_ttl))
        self._refresh[digest(refresh)] = _Refresh(grant, refresh_end)
        return IssuedTokens(
            access_token=access,
            refresh_token=refresh,
            expires_in=access_ttl,
            refresh_expires_in=max(0, int((refresh_end - now).total_seconds())),
            refresh_hard_expires_in=max(0, int((hard_end - now).total_seconds())),
            grant=grant,
        )


def _expire(tokens: Sequence[_Access | _Refresh], realm_id: str, now: datetime) -> int:
    past = now - timedelta(seconds=1)
    live = [t for t in tokens if t.grant.realm_id == realm_id and t.expires_at > past]
    for token in live:
        token.expires_at = past
    return len(live)
