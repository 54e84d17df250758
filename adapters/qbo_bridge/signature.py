"""Intuit webhook signatures: base64 HMAC-SHA256 of the raw body, checked in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac


def sign(body: bytes, verifier_token: str) -> str:
    digest = hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def is_valid(body: bytes, signature: str | None, verifier_token: str) -> bool:
    """True only for the exact signature of these bytes; compared with hmac.compare_digest."""
    if not signature:
        return False
    expected = sign(body, verifier_token).encode()
    # compare_digest on bytes of any length is constant-time in the content it compares.
    return hmac.compare_digest(expected, signature.strip().encode())
