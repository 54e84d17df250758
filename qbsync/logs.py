"""Structured logs (structlog): JSON lines off a terminal, and no secret ever in a line.

Redaction runs on our own events and on every stdlib logger (Faust, aiokafka, uvicorn), so a
library that logs a URL with `api_key=` or an `Authorization` header cannot leak it either.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import MutableMapping
from typing import Any

import structlog

REDACTED = "[REDACTED]"

# Keys whose values are secrets whatever they hold.
_SECRET_KEY = re.compile(
    r"(token|secret|password|passwd|api_?key|app_?key|authorization|verifier|credential|"
    r"private_?key|signature|cookie)",
    re.IGNORECASE,
)
# Secrets embedded in free text: bearer tokens, basic auth, and key=value query parameters.
_SECRET_IN_TEXT = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    (
        re.compile(
            r"(?i)\b((?:access_|refresh_|id_)?token|api_key|app_key|client_secret|code|"
            r"password|verifier)=([^&\s\"']+)"
        ),
        r"\1=" + REDACTED,
    ),
)

_known_secrets: set[str] = set()
_known_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Make a concrete secret value (a token just received, a configured key) unloggable."""
    if value and len(value) >= 6:
        with _known_lock:
            _known_secrets.add(value)


def redact_text(text: str) -> str:
    for pattern, replacement in _SECRET_IN_TEXT:
        text = pattern.sub(replacement, text)
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact_value(value: Any, key: str | None = None) -> Any:
    if key is not None and _SECRET_KEY.search(key) and value not in (None, ""):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, MutableMapping | dict):
        return {k: redact_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(v) for v in value)
    return value


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: scrub secrets from every key and every string in the event."""
    for key in list(event_dict):
        event_dict[key] = redact_value(event_dict[key], None if key == "event" else key)
    return event_dict


def configure_logging(level: str = "INFO", fmt: str = "auto") -> None:
    as_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_secrets,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
