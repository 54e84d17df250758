"""QBO errors: typed exceptions and the error policy TABLE (STYLE.md: Airbyte-style, no ifs).

A failed call becomes one `QboError` subclass chosen by the first matching row of `ERROR_POLICY`,
and that row's `Action` tells the transport whether to retry, wait out a throttle, refresh the
token first, or give up. Codes are QBO's strings (reference section 9); rows keyed on a code match
whatever the HTTP status, because QBO also answers 200 with a Fault inside and used to send
throttles as 403.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Action(enum.Enum):
    RETRY = "retry"  # transient: back off with jitter, bounded attempts
    RATE_LIMITED = "rate_limited"  # pause the realm's limiter, then retry; never dropped
    REFRESH_THEN_RETRY = "refresh_then_retry"  # refresh the access token once, retry once
    FAIL = "fail"  # the caller must decide (stale token, duplicate, validation, ...)


class QboError(Exception):
    """A QBO fault or a failed exchange; `status` 0 means no HTTP answer arrived."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        code: str = "",
        detail: str = "",
        element: str = "",
        fault_type: str = "",
        intuit_tid: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.element = element
        self.fault_type = fault_type
        self.intuit_tid = intuit_tid
        self.retry_after_s = retry_after_s

    def __str__(self) -> str:
        where = f" [{self.element}]" if self.element else ""
        return (
            f"QBO {self.status or 'no answer'} code={self.code or '-'}: {self.message}{where}"
            f"{' — ' + self.detail if self.detail else ''} (intuit_tid={self.intuit_tid})"
        )


class AuthenticationError(QboError):
    """401: the access token is expired or revoked (refresh did not help if this escapes)."""


class AuthorizationError(QboError):
    """403: the token is valid but not for this company, or the user lost access."""


class ThrottledError(QboError):
    """429 / fault 3001: over QBO's per-realm rate limit."""


class NotFoundError(QboError):
    """610 Object Not Found (or a 404 URL)."""


class ValidationError(QboError):
    """The request was understood and refused (2xxx, 6xxx and other validation faults)."""


class StaleObjectError(ValidationError):
    """5010: the SyncToken we sent is not the current one; re-read, re-decide."""


class DuplicateNameError(ValidationError):
    """6240: DisplayName already used by a customer, vendor or employee."""


class ServerError(QboError):
    """5xx: QBO failed; safe to retry because every write carries a requestid."""


class UnreachableError(QboError):
    """No HTTP answer: timeout, refused or reset connection."""


NO_ANSWER = 0  # the status of a call that got no HTTP response at all


@dataclass(frozen=True)
class ErrorRule:
    """One row: which (status, code) it matches, what to do, and which exception to raise."""

    statuses: range | None  # None = any status
    codes: range | None  # None = any code (or none); QBO codes are numeric strings
    action: Action
    error: type[QboError]
    why: str

    def matches(self, status: int, code: str) -> bool:
        if self.statuses is not None and status not in self.statuses:
            return False
        if self.codes is None:
            return True
        return code.isdigit() and int(code) in self.codes


def _one(value: int) -> range:
    return range(value, value + 1)


# First match wins: code rows before status rows, narrow ranges before wide ones.
ERROR_POLICY: tuple[ErrorRule, ...] = (
    ErrorRule(
        None, _one(3001), Action.RATE_LIMITED, ThrottledError, "ThrottleExceeded (any status)"
    ),
    ErrorRule(None, _one(3200), Action.REFRESH_THEN_RETRY, AuthenticationError, "token expired"),
    ErrorRule(None, _one(3100), Action.FAIL, AuthorizationError, "app not authorized for realm"),
    ErrorRule(None, _one(5010), Action.FAIL, StaleObjectError, "SyncToken is stale"),
    ErrorRule(None, _one(6240), Action.FAIL, DuplicateNameError, "DisplayName in use"),
    ErrorRule(None, _one(610), Action.FAIL, NotFoundError, "object not found or inactive"),
    ErrorRule(_one(401), None, Action.REFRESH_THEN_RETRY, AuthenticationError, "401: refresh"),
    ErrorRule(_one(403), None, Action.FAIL, AuthorizationError, "403: wrong realm / no access"),
    ErrorRule(_one(429), None, Action.RATE_LIMITED, ThrottledError, "429: throttled"),
    ErrorRule(_one(404), None, Action.FAIL, NotFoundError, "404: unknown URL or entity"),
    ErrorRule(_one(408), None, Action.RETRY, ServerError, "408: request timeout"),
    ErrorRule(_one(NO_ANSWER), None, Action.RETRY, UnreachableError, "no answer: timeout/reset"),
    ErrorRule(range(500, 600), None, Action.RETRY, ServerError, "5xx: transient server fault"),
    ErrorRule(None, range(2000, 5000), Action.FAIL, ValidationError, "2xxx-4xxx validation"),
    ErrorRule(None, range(6000, 7000), Action.FAIL, ValidationError, "6xxx business rule"),
    ErrorRule(None, None, Action.FAIL, QboError, "anything else: let the caller decide"),
)


def rule_for(status: int, code: str) -> ErrorRule:
    for rule in ERROR_POLICY:
        if rule.matches(status, code):
            return rule
    raise AssertionError("the last ERROR_POLICY row matches everything")  # pragma: no cover
