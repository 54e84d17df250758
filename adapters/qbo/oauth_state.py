"""The OAuth `state` parameter: a CSRF token that says which tenant started the connect flow.

It is signed (HMAC-SHA256 under a key derived from the installation secret) and expires, so the
callback can verify it without server-side storage, and any process of the installation can.
It is also single-use within a process: a replayed callback is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable

STATE_TTL_S = 600.0  # the user has ten minutes to sign in and pick a company


class OAuthStateError(ValueError):
    """The callback's state is forged, expired, already used, or from another installation."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class StateSigner:
    def __init__(
        self,
        secret_key: bytes,
        *,
        ttl_s: float = STATE_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # A derived key, so the token-encryption key is never used for anything else.
        self._key = hmac.new(secret_key, b"qbsync.qbo.oauth-state.v1", hashlib.sha256).digest()
        self._ttl_s = ttl_s
        self._clock = clock
        self._used: dict[str, float] = {}  # nonce → expiry

    def issue(self, tenant_id: str) -> str:
        payload = json.dumps(
            {"t": tenant_id, "n": secrets.token_urlsafe(16), "e": self._clock() + self._ttl_s},
            separators=(",", ":"),
        ).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def verify(self, state: str) -> str:
        """The tenant the state was issued for; raises OAuthStateError otherwise."""
        try:
            encoded_payload, encoded_mac = state.split(".")
            payload, mac = _unb64(encoded_payload), _unb64(encoded_mac)
        except ValueError as exc:
            raise OAuthStateError("malformed OAuth state") from exc
        if not hmac.compare_digest(mac, self._sign(payload)):
            raise OAuthStateError("OAuth state signature does not match (forged or foreign)")
        claims = json.loads(payload)
        now = self._clock()
        if now > float(claims["e"]):
            raise OAuthStateError("OAuth state expired; start the connect flow again")
        self._used = {nonce: exp for nonce, exp in self._used.items() if exp > now}
        if claims["n"] in self._used:
            raise OAuthStateError("OAuth state already used")
        self._used[claims["n"]] = float(claims["e"])
        return str(claims["t"])
