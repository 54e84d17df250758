"""The installation's secret key (QBSYNC_SECRET_KEY): encrypts tokens at rest, signs OAuth state.

Production sets QBSYNC_SECRET_KEY (urlsafe base64 of 32 random bytes). A developer machine that
has not set it gets one generated once into `<data_dir>/secret.key` (0600), with a warning, so
`qbsync up` works out of the box and tokens survive restarts. The key itself is never logged.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
from pathlib import Path

from qbsync.logs import get_logger, register_secret

KEY_BYTES = 32
KEY_FILE_NAME = "secret.key"

log = get_logger(__name__)


class SecretKeyError(ValueError):
    """The configured key is unusable; the message says how to make a good one."""


def generate_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def decode_key(encoded: str, origin: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(encoded.strip().encode())
    except (binascii.Error, ValueError) as exc:
        raise SecretKeyError(f"{origin} is not urlsafe base64") from exc
    if len(raw) != KEY_BYTES:
        raise SecretKeyError(
            f"{origin} must decode to {KEY_BYTES} bytes, not {len(raw)}; make one with "
            "python -c 'import base64,os;print(base64.urlsafe_b64encode(os.urandom(32)).decode())'"
        )
    register_secret(encoded.strip())
    return raw


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes starting at once must not each write a different key.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(generate_key() + "\n")
    log.warning(
        "generated a development secret key; set QBSYNC_SECRET_KEY in production",
        path=str(path),
    )


def load_secret_key(configured: str | None, data_dir: Path) -> bytes:
    """The configured key, else the dev key file under data_dir (created on first use)."""
    if configured:
        return decode_key(configured, "QBSYNC_SECRET_KEY")
    path = data_dir / KEY_FILE_NAME
    with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
        _create_key_file(path)
    if path.stat().st_mode & 0o077:
        log.warning("secret key file is readable by others; chmod 600 it", path=str(path))
    return decode_key(path.read_text(), str(path))
