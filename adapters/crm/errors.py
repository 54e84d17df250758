"""CRM errors: typed exceptions and the error policy TABLE (STYLE.md: Airbyte-style, no ifs).

A failed call becomes one `CrmError` subclass chosen by the first row of `ERROR_POLICY` whose
statuses contain the HTTP status; the row's `Action` tells the transport what to do. Pipeline has
no error codes, only statuses and `{"error": ...}` or `[{field, humanized_field, msg}]` bodies
(reference 1.5). Two pseudo-statuses stand for calls without an HTTP answer.

Pipeline takes no idempotency key, so a create whose answer was lost may have happened: rows
that cannot tell whether the request took effect are RETRY_IF_IDEMPOTENT, and a POST failing
that way raises (with `maybe_applied=True`) for the caller to look before creating again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Action(enum.Enum):
    RETRY = "retry"  # the request did not take effect: back off with jitter, bounded attempts
    RETRY_IF_IDEMPOTENT = "retry_if_idempotent"  # GET/PUT/DELETE as RETRY; a POST fails
    RATE_LIMITED = "rate_limited"  # wait until X-Ratelimit-Reset, then retry; never dropped
    FAIL = "fail"  # the caller must decide


@dataclass(frozen=True)
class FieldError:
    """One entry of a 422 (or 403 auth) body: `{field, humanized_field, msg}`."""

    field: str
    message: str
    humanized_field: str = ""


class CrmError(Exception):
    """A failed CRM call; `status` is the HTTP status or one of the pseudo-statuses below."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        field_errors: tuple[FieldError, ...] = (),
        reset_at: float | None = None,
        maybe_applied: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field_errors = field_errors
        self.reset_at = reset_at  # X-Ratelimit-Reset (epoch seconds) when the CRM sent one
        self.maybe_applied = maybe_applied  # a write whose outcome is unknown

    def __str__(self) -> str:
        fields = "; ".join(f"{e.field}: {e.message}" for e in self.field_errors)
        status = self.status if self.status > 0 else "no answer"
        return f"CRM {status}: {self.message}" + (f" [{fields}]" if fields else "")


class BadRequestError(CrmError):
    """400: the CRM could not understand the request."""


class NotAuthorizedError(CrmError):
    """401 (406 on legacy servers): api_key/app_key rejected; retrying will not help."""


class PermissionDeniedError(CrmError):
    """403: the key's user may not do this (e.g. admin-only endpoints for a basic user)."""


class NotFoundError(CrmError):
    """404: no such record (deleted, or never there) or no such endpoint."""


class ValidationError(CrmError):
    """422: the CRM refused the record; `field_errors` says which fields and why."""


class RateLimitedError(CrmError):
    """429: over 10 requests per second for this key (only raised if pauses are bounded)."""


class ServerError(CrmError):
    """5xx or 408: the CRM failed; a POST may or may not have taken effect."""


class UnreachableError(CrmError):
    """No HTTP answer: refused, reset, timed out."""


NOT_SENT = -1  # the connection failed before the request went out: nothing can have happened
NO_ANSWER = 0  # sent (or maybe sent) but no answer arrived: it may have taken effect


@dataclass(frozen=True)
class ErrorRule:
    statuses: range
    action: Action
    error: type[CrmError]
    why: str


def _one(status: int) -> range:
    return range(status, status + 1)


# First match wins.
ERROR_POLICY: tuple[ErrorRule, ...] = (
    ErrorRule(_one(400), Action.FAIL, BadRequestError, "malformed request"),
    ErrorRule(_one(401), Action.FAIL, NotAuthorizedError, "api_key rejected (or app_key)"),
    ErrorRule(_one(403), Action.FAIL, PermissionDeniedError, "user may not do this"),
    ErrorRule(_one(404), Action.FAIL, NotFoundError, "no such record or endpoint"),
    ErrorRule(_one(406), Action.FAIL, NotAuthorizedError, "legacy servers: unknown api key"),
    ErrorRule(_one(408), Action.RETRY_IF_IDEMPOTENT, ServerError, "request timeout"),
    ErrorRule(_one(422), Action.FAIL, ValidationError, "record refused, per field"),
    ErrorRule(_one(429), Action.RATE_LIMITED, RateLimitedError, "over 10 req/s for the key"),
    ErrorRule(range(500, 600), Action.RETRY_IF_IDEMPOTENT, ServerError, "transient server fault"),
    ErrorRule(_one(NOT_SENT), Action.RETRY, UnreachableError, "connect failed: nothing sent"),
    ErrorRule(_one(NO_ANSWER), Action.RETRY_IF_IDEMPOTENT, UnreachableError, "timeout/reset"),
    ErrorRule(range(-1, 1000), Action.FAIL, CrmError, "anything else: the caller decides"),
)


def rule_for(status: int) -> ErrorRule:
    for rule in ERROR_POLICY:
        if status in rule.statuses:
            return rule
    return ERROR_POLICY[-1]


def auth_message(status: int, server_message: str) -> str:
    """401s say which credential to check, so an operator knows what to fix."""
    hint = "api_key rejected: check QBSYNC_CRM_API_KEY (and that the app_key allows api_key auth)"
    return f"{hint} ({server_message})" if server_message else hint
