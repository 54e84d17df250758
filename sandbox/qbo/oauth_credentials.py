"""What OAuth credentials look like here, and how they are checked (always in constant time).

Tokens are random strings shaped like Intuit's: a ~900-character JWE-like access token and an
`AB11...` refresh token, so a client that stores them in a short column fails here as it would
against Intuit. Stores key tokens by SHA-256 digest, so a lookup never compares the secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import string
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote

from sandbox.qbo.config import QboSandboxConfig

_ALNUM = string.ascii_letters + string.digits


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def same(a: str, b: str) -> bool:
    return secrets.compare_digest(a.encode(), b.encode())


def random_text(length: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def access_token_text() -> str:
    # Intuit's access tokens are compact JWEs (header..iv.ciphertext.tag), around 900-1000 chars.
    header = "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0"
    return f"{header}..{secrets.token_urlsafe(16)}.{secrets.token_urlsafe(640)}.{random_text(22)}"


def refresh_token_text(now: datetime) -> str:
    return f"AB11{int(now.timestamp())}{random_text(36)}"


def authorization_code_text() -> str:
    return f"AB11{random_text(46)}"


def bearer_token(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").strip().partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str


def basic_credentials(authorization: str | None) -> ClientCredentials | None:
    scheme, _, encoded = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, client_secret = decoded.partition(":")
    # RFC 6749 2.3.1: both parts are form-urlencoded before base64.
    return ClientCredentials(unquote(client_id), unquote(client_secret)) if sep else None


def authenticated_client(
    config: QboSandboxConfig, authorization: str | None, form: dict[str, str]
) -> str | None:
    """The client id if client_secret_basic (else client_secret_post) credentials match."""
    creds = basic_credentials(authorization) or ClientCredentials(
        form.get("client_id", ""), form.get("client_secret", "")
    )
    # `&`, not `and`: check both, whatever the first says.
    matches = same(creds.client_id, config.client_id) & same(
        creds.client_secret, config.client_secret
    )
    return creds.client_id if matches else None
