"""The failure table (what a final remote error means for the outcome) and QBO request ids."""

from __future__ import annotations

import pytest

from adapters.crm import errors as crm
from adapters.executor.failures import CommandRefusedError, OutcomeUnknownError, failure_for
from adapters.executor.outcomes import request_id
from adapters.executor.ports import CrmNotConfiguredError
from adapters.qbo import errors as qbo
from adapters.qbo.oauth import (
    InvalidGrantError,
    NotConnectedError,
    OAuthError,
    OAuthUnreachableError,
)
from qbsync.logs import register_secret


@pytest.mark.parametrize(
    ("error", "code", "retryable"),
    [
        (qbo.ThrottledError("slow down", status=429, code="3001"), "3001", True),
        (qbo.ServerError("boom", status=500), "500", True),
        (qbo.UnreachableError("no answer"), "no_answer", True),
        (qbo.StaleObjectError("stale", status=400, code="5010"), "5010", True),
        (qbo.DuplicateNameError("taken", status=400, code="6240"), "6240", False),
        (qbo.ValidationError("required", status=400, code="2020"), "2020", False),
        (qbo.NotFoundError("gone", status=400, code="610"), "610", False),
        (qbo.AuthorizationError("wrong realm", status=403, code="3100"), "3100", False),
        (NotConnectedError("never"), "not_connected", False),
        (InvalidGrantError("revoked", status=400, error="invalid_grant"), "not_connected", False),
        (OAuthUnreachableError("down"), "oauth_unreachable", True),
        (OAuthError("token endpoint said 503", status=503), "oauth_503", True),
        (OAuthError("refused", status=400, error="invalid_client"), "oauth_invalid_client", False),
        (CrmNotConfiguredError("no key"), "not_connected", False),
        (crm.NotFoundError("no such person", status=404), "not_found", False),
        (crm.RateLimitedError("too many", status=429), "429", True),
        (crm.ServerError("boom", status=502, maybe_applied=True), "502", True),
        (crm.UnreachableError("reset", status=0), "no_answer", True),
        (crm.ValidationError("refused", status=422), "422", False),
        (crm.NotAuthorizedError("bad key", status=401), "401", False),
        (OutcomeUnknownError("may have landed"), "maybe_applied", False),
        (
            CommandRefusedError("estimate 7 was rejected", "estimate_rejected"),
            "estimate_rejected",
            False,
        ),
    ],
)
def test_each_final_remote_error_maps_to_a_code_and_whether_a_retry_can_help(
    error, code, retryable
):
    failure = failure_for(error)
    assert (failure.code, failure.retryable) == (code, retryable)
    assert failure.reason.startswith(type(error).__name__) or "admin must connect" in failure.reason


def test_a_reason_never_carries_a_known_secret():
    register_secret("sekrit-api-key-123")
    failure = failure_for(crm.NotAuthorizedError("rejected sekrit-api-key-123", status=401))
    assert "sekrit-api-key-123" not in failure.reason and "[REDACTED]" in failure.reason


def test_a_bug_is_not_mistaken_for_a_remote_failure():
    with pytest.raises(LookupError):
        failure_for(KeyError("a bug"))


def test_request_ids_are_the_command_id_then_one_per_deliberate_retry():
    command_id = "6f1c3c52-6a0e-4d6b-9a51-4f3a0c7e2b19"
    assert request_id(command_id) == command_id
    assert request_id(command_id, "r1") == f"{command_id}-r1"


def test_request_ids_too_long_for_qbo_are_shortened_deterministically():
    long_id = "crm-person-4211-" + "x" * 60
    first, again = request_id(long_id), request_id(long_id)
    assert first == again and len(first) <= 50
    assert request_id(long_id, "r1") != first and len(request_id(long_id, "r1")) <= 50
