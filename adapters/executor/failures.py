"""Why a command failed for good, as a TABLE (STYLE.md: Airbyte-style, no scattered ifs).

The adapters have already retried what is worth retrying (5xx, timeouts, throttles: see
adapters/qbo/errors.py and adapters/crm/errors.py); what reaches the executor is final for this
attempt. `retryable` tells an operator (and the decider) whether running it again later can help:
yes for throttling, server faults and unreachable hosts; no for refusals, missing records and
lost connections (an admin must reconnect first).

Reasons are the adapters' own messages (which never hold tokens or keys), passed through the log
redactor anyway, and cut to a readable length.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from adapters.crm import errors as crm
from adapters.executor.ports import CrmNotConfiguredError
from adapters.qbo import errors as qbo
from adapters.qbo.oauth import (
    InvalidGrantError,
    NotConnectedError,
    OAuthError,
    OAuthUnreachableError,
)
from qbsync.logs import redact_text

MAX_REASON = 1000
NOT_CONNECTED = "not_connected"
NOT_FOUND = "not_found"
UNSUPPORTED = "unsupported"


class OutcomeUnknownError(Exception):
    """A CRM create may have happened and nothing identifies it to look it up by: running the
    command again could create a duplicate, so an operator must check first."""


class CommandRefusedError(Exception):
    """The command cannot be done as it stands (a record it needs is gone, a rule of the remote
    refuses it): running it again will not help until someone changes the data. `code` names
    the case for the decider and an operator."""

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.code = code


def _refusal_code(exc: BaseException) -> str:
    assert isinstance(exc, CommandRefusedError)
    return exc.code


@dataclass(frozen=True)
class Failure:
    reason: str
    code: str | None
    retryable: bool


def _qbo_code(exc: BaseException) -> str:
    assert isinstance(exc, qbo.QboError)
    return exc.code or (str(exc.status) if exc.status else "no_answer")


def _crm_code(exc: BaseException) -> str:
    assert isinstance(exc, crm.CrmError)
    return str(exc.status) if exc.status > 0 else "no_answer"


def _oauth_code(exc: BaseException) -> str:
    assert isinstance(exc, OAuthError)
    return f"oauth_{exc.error}" if exc.error else f"oauth_{exc.status or 'no_answer'}"


def _transient_oauth(exc: BaseException) -> bool:
    return isinstance(exc, OAuthError) and (exc.status >= 500 or exc.status == 429)


def _fixed(code: str) -> Callable[[BaseException], str]:
    return lambda _exc: code


@dataclass(frozen=True)
class FailureRule:
    error: type[BaseException]
    retryable: bool
    code: Callable[[BaseException], str]
    why: str
    hint: str = ""  # what an operator should do, put before the adapter's own message
    when: Callable[[BaseException], bool] = lambda _exc: True  # narrows `error` further


RECONNECT = "QBO is not connected for this tenant and realm (or was revoked): an admin must connect"


# First isinstance match wins: subclasses before their bases.
FAILURE_POLICY: tuple[FailureRule, ...] = (
    FailureRule(NotConnectedError, False, _fixed(NOT_CONNECTED), "never connected", RECONNECT),
    FailureRule(InvalidGrantError, False, _fixed(NOT_CONNECTED), "revoked/expired", RECONNECT),
    FailureRule(OAuthUnreachableError, True, _fixed("oauth_unreachable"), "token endpoint down"),
    FailureRule(OAuthError, True, _oauth_code, "token endpoint 5xx/429", when=_transient_oauth),
    FailureRule(OAuthError, False, _oauth_code, "token endpoint refused"),
    FailureRule(CrmNotConfiguredError, False, _fixed(NOT_CONNECTED), "no CRM key for the tenant"),
    FailureRule(qbo.ThrottledError, True, _qbo_code, "throttle pauses exhausted"),
    FailureRule(qbo.ServerError, True, _qbo_code, "5xx after every retry"),
    FailureRule(qbo.UnreachableError, True, _qbo_code, "no answer after every retry"),
    FailureRule(qbo.StaleObjectError, True, _qbo_code, "kept changing under every re-apply"),
    FailureRule(qbo.QboError, False, _qbo_code, "refused: validation, not found, auth"),
    FailureRule(crm.NotFoundError, False, _fixed(NOT_FOUND), "no such CRM record"),
    FailureRule(crm.RateLimitedError, True, _crm_code, "rate limit pauses exhausted"),
    FailureRule(crm.ServerError, True, _crm_code, "5xx after every retry"),
    FailureRule(crm.UnreachableError, True, _crm_code, "no answer after every retry"),
    FailureRule(crm.CrmError, False, _crm_code, "refused: validation, auth, permission"),
    FailureRule(OutcomeUnknownError, False, _fixed("maybe_applied"), "a create may have landed"),
    FailureRule(CommandRefusedError, False, _refusal_code, "cannot be done as it stands"),
)

REMOTE_ERRORS: tuple[type[BaseException], ...] = tuple(rule.error for rule in FAILURE_POLICY)


def failure_for(exc: BaseException) -> Failure:
    """The failure a remote error means; anything else is a bug and is re-raised by the caller."""
    for rule in FAILURE_POLICY:
        if isinstance(exc, rule.error) and rule.when(exc):
            said = f"{type(exc).__name__}: {exc}"
            reason = redact_text(f"{rule.hint} ({said})" if rule.hint else said)[:MAX_REASON]
            return Failure(reason=reason, code=rule.code(exc), retryable=rule.retryable)
    raise LookupError(f"not a remote error: {exc!r}")
