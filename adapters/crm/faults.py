"""Turn what the CRM answered into a typed `CrmError`, or None when the answer is a success.

Error bodies come as `{"error": "..."}` (most statuses) or as a list of
`{"field", "humanized_field", "msg"}` (validation; the recorded 403 auth failure), sometimes as
HTML from a proxy. Every response also carries the rate-limit headers the limiter reads.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from adapters.crm.errors import CrmError, FieldError, NotAuthorizedError, auth_message, rule_for
from qbsync.logs import redact_text

_TAGS = re.compile(r"<[^>]+>")
_SNIPPET = 300


@dataclass(frozen=True)
class RateStatus:
    limit: int | None
    remaining: int | None
    reset_epoch: float | None


def _number(headers: httpx.Headers, name: str) -> float | None:
    raw = headers.get(name)
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def rate_status(headers: httpx.Headers) -> RateStatus:
    limit = _number(headers, "x-ratelimit-limit")
    remaining = _number(headers, "x-ratelimit-remaining")
    return RateStatus(
        int(limit) if limit is not None else None,
        int(remaining) if remaining is not None else None,
        _number(headers, "x-ratelimit-reset"),
    )


def field_errors(body: Any) -> tuple[FieldError, ...]:
    """`[{field, humanized_field, msg}]` (also under an `errors` key) → FieldErrors."""
    if isinstance(body, Mapping):
        body = body.get("errors")
    if not isinstance(body, list):
        return ()
    return tuple(
        FieldError(
            field=str(item.get("field") or "base"),
            message=str(item.get("msg") or item.get("message") or ""),
            humanized_field=str(item.get("humanized_field") or ""),
        )
        for item in body
        if isinstance(item, Mapping)
    )


def _message(body: Any, response: httpx.Response) -> str:
    if isinstance(body, Mapping) and body.get("error"):
        return str(body["error"])
    errors = field_errors(body)
    if errors:
        return "; ".join(f"{e.humanized_field or e.field} {e.message}".strip() for e in errors)
    snippet = " ".join(html.unescape(_TAGS.sub(" ", response.text)).split())[:_SNIPPET]
    return snippet or response.reason_phrase or f"HTTP {response.status_code}"


def make_error(
    status: int,
    message: str,
    *,
    errors: tuple[FieldError, ...] = (),
    reset_epoch: float | None = None,
) -> CrmError:
    error_class = rule_for(status).error
    if error_class is NotAuthorizedError:
        message = auth_message(status, message)
    # A proxy page or an echo of the request could hold the URL, keys and all.
    return error_class(
        redact_text(message), status=status, field_errors=errors, reset_at=reset_epoch
    )


def error_from_response(response: httpx.Response) -> tuple[CrmError | None, Any]:
    """(error or None, parsed JSON body or None). 2xx with JSON or no body is a success."""
    try:
        body: Any = response.json() if response.content else None
        readable = True
    except (json.JSONDecodeError, UnicodeDecodeError):
        body, readable = None, False
    if response.is_success and readable:
        return None, body
    status = response.status_code
    if response.is_success:  # a 2xx we cannot read (e.g. a login page) is no usable success
        return make_error(status, f"unreadable answer: {_message(None, response)}"), None
    reset = rate_status(response.headers).reset_epoch
    error = make_error(
        status, _message(body, response), errors=field_errors(body), reset_epoch=reset
    )
    return error, body
