"""Per-tenant shared secrets (ingest keys, webhook tokens), checked in constant time.

Only SHA-256 digests are kept in memory; the comparison is hmac.compare_digest on digests of
equal length, so timing says nothing about how much of a guess was right.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from qbsync.logs import register_secret


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def parse_pairs(text: str) -> dict[str, str]:
    """`tenant=secret,tenant=secret` → mapping (the form of QBSYNC_* variables)."""
    pairs = (item.split("=", 1) for item in text.split(",") if "=" in item)
    return {tenant.strip(): secret.strip() for tenant, secret in pairs if secret.strip()}


class TenantSecrets:
    def __init__(self, secrets: Mapping[str, str]) -> None:
        for secret in secrets.values():
            register_secret(secret)
        self._digests = {tenant: _digest(secret) for tenant, secret in secrets.items()}

    def knows(self, tenant: str) -> bool:
        return tenant in self._digests

    def matches(self, tenant: str, presented: str | None) -> bool:
        expected = self._digests.get(tenant)
        if expected is None or not presented:
            return False
        return hmac.compare_digest(expected, _digest(presented))

    def tenant_of(self, presented: str | None) -> str | None:
        """Which tenant a presented secret belongs to (to tell 'wrong tenant' from 'unknown')."""
        if not presented:
            return None
        digest = _digest(presented)
        found = None
        for tenant, expected in self._digests.items():  # no early exit: same work for every key
            if hmac.compare_digest(expected, digest):
                found = tenant
        return found
