"""OpenID Connect id_tokens: RS256 JWTs signed with a key made at start, published as a JWKS.

Intuit returns an `id_token` only when the `openid` scope was granted; clients such as intuitlib
verify it against `jwks_uri`, its `iss` against the discovery document and `aud[0]` against
their client id.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_int(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


class IdTokenSigner:
    """One RSA key per server, made on first use (key generation takes a moment)."""

    def __init__(self) -> None:
        self._key: rsa.RSAPrivateKey | None = None
        self._kid = secrets.token_hex(8)
        self._lock = threading.Lock()

    def _private_key(self) -> rsa.RSAPrivateKey:
        with self._lock:
            if self._key is None:
                self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return self._key

    def jwks(self) -> dict[str, Any]:
        numbers = self._private_key().public_key().public_numbers()
        key = {
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": self._kid,
            "n": _b64url_int(numbers.n),
            "e": _b64url_int(numbers.e),
        }
        return {"keys": [key]}

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": "RS256", "kid": self._kid, "typ": "JWT"}
        signing_input = ".".join(
            _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        signature = self._private_key().sign(
            signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        return f"{signing_input}.{_b64url(signature)}"
