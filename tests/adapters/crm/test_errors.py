"""The error policy table, row by row, and how CRM answers become typed errors."""

from __future__ import annotations

import httpx
import pytest

from adapters.crm import errors
from adapters.crm.errors import ERROR_POLICY, NO_ANSWER, NOT_SENT, Action, rule_for
from adapters.crm.faults import RateStatus, error_from_response, field_errors, rate_status

# status → (action, exception) for every row of ERROR_POLICY, in table order.
ROWS = [
    (400, Action.FAIL, errors.BadRequestError),
    (401, Action.FAIL, errors.NotAuthorizedError),
    (403, Action.FAIL, errors.PermissionDeniedError),
    (404, Action.FAIL, errors.NotFoundError),
    (406, Action.FAIL, errors.NotAuthorizedError),
    (408, Action.RETRY_IF_IDEMPOTENT, errors.ServerError),
    (422, Action.FAIL, errors.ValidationError),
    (429, Action.RATE_LIMITED, errors.RateLimitedError),
    (503, Action.RETRY_IF_IDEMPOTENT, errors.ServerError),
    (NOT_SENT, Action.RETRY, errors.UnreachableError),
    (NO_ANSWER, Action.RETRY_IF_IDEMPOTENT, errors.UnreachableError),
    (409, Action.FAIL, errors.CrmError),
]


def test_every_row_of_the_table_is_exercised_here():
    assert len(ROWS) == len(ERROR_POLICY)
    assert [rule_for(status) for status, _, _ in ROWS] == list(ERROR_POLICY)


@pytest.mark.parametrize(("status", "action", "error"), ROWS)
def test_each_row_decides_the_action_and_the_exception(status, action, error):
    rule = rule_for(status)
    assert (rule.action, rule.error) == (action, error)


@pytest.mark.parametrize("status", [500, 502, 504, 599])
def test_every_5xx_is_transient(status):
    assert rule_for(status).action is Action.RETRY_IF_IDEMPOTENT


def answer(status: int, body=None, *, text: str | None = None, headers=None) -> httpx.Response:
    if text is not None:
        return httpx.Response(status, text=text, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


def test_a_401_names_the_api_key_as_what_to_fix():
    error, _ = error_from_response(answer(401, {"error": "Unknown api_key"}))
    assert isinstance(error, errors.NotAuthorizedError)
    assert "api_key rejected" in str(error) and "Unknown api_key" in str(error)
    assert "QBSYNC_CRM_API_KEY" in str(error)


def test_a_422_carries_its_field_errors():
    body = [
        {"field": "email", "humanized_field": "Email", "msg": "is invalid"},
        {"field": "base", "humanized_field": "Base", "msg": "Name or email required"},
    ]
    error, _ = error_from_response(answer(422, body))
    assert isinstance(error, errors.ValidationError)
    assert [(e.field, e.message) for e in error.field_errors] == [
        ("email", "is invalid"),
        ("base", "Name or email required"),
    ]
    assert "Email is invalid" in error.message


def test_field_errors_are_read_under_an_errors_key_too():
    found = field_errors({"errors": [{"field": "name", "msg": "can't be blank"}]})
    assert [(e.field, e.message) for e in found] == [("name", "can't be blank")]
    assert field_errors({"error": "nope"}) == ()


def test_a_429_remembers_when_the_window_resets():
    headers = {"X-Ratelimit-Limit": "10", "X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "17"}
    error, _ = error_from_response(answer(429, {"error": "Too many requests"}, headers=headers))
    assert isinstance(error, errors.RateLimitedError) and error.reset_at == 17.0
    assert rate_status(httpx.Headers(headers)) == RateStatus(10, 0, 17.0)


def test_rate_headers_that_are_missing_or_garbled_are_unknown_not_zero():
    assert rate_status(httpx.Headers({"X-Ratelimit-Remaining": "many"})).remaining is None
    assert rate_status(httpx.Headers({})).reset_epoch is None


def test_an_html_error_page_becomes_a_short_message_without_secrets():
    page = "<html><body><h1>502 Bad Gateway</h1> GET /people.json?api_key=K123456789</body></html>"
    error, body = error_from_response(answer(502, text=page))
    assert isinstance(error, errors.ServerError) and body is None
    assert "502 Bad Gateway" in error.message and "K123456789" not in error.message


def test_successes_are_json_or_empty():
    assert error_from_response(answer(200, {"id": 1})) == (None, {"id": 1})
    assert error_from_response(httpx.Response(204)) == (None, None)


def test_a_2xx_that_is_not_json_is_not_a_usable_success():
    error, _ = error_from_response(answer(200, text="<html>Please log in</html>"))
    assert type(error) is errors.CrmError and "unreadable" in error.message


def test_an_error_says_status_message_and_fields():
    error = errors.ValidationError(
        "refused", status=422, field_errors=(errors.FieldError("email", "is invalid"),)
    )
    assert str(error) == "CRM 422: refused [email: is invalid]"
    assert str(errors.UnreachableError("timeout", status=NO_ANSWER)) == "CRM no answer: timeout"
