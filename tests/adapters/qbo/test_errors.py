"""The error policy table, row by row, and fault parsing of every shape QBO answers with."""

from __future__ import annotations

import httpx
import pytest

from adapters.qbo import errors
from adapters.qbo.errors import ERROR_POLICY, Action, rule_for
from adapters.qbo.faults import error_from_response, retry_after_seconds

# (status, code) → (action, exception) for every row of ERROR_POLICY, in table order.
ROWS = [
    (429, "3001", Action.RATE_LIMITED, errors.ThrottledError),
    (401, "3200", Action.REFRESH_THEN_RETRY, errors.AuthenticationError),
    (403, "3100", Action.FAIL, errors.AuthorizationError),
    (400, "5010", Action.FAIL, errors.StaleObjectError),
    (400, "6240", Action.FAIL, errors.DuplicateNameError),
    (400, "610", Action.FAIL, errors.NotFoundError),
    (401, "", Action.REFRESH_THEN_RETRY, errors.AuthenticationError),
    (403, "", Action.FAIL, errors.AuthorizationError),
    (429, "", Action.RATE_LIMITED, errors.ThrottledError),
    (404, "", Action.FAIL, errors.NotFoundError),
    (408, "", Action.RETRY, errors.ServerError),
    (0, "", Action.RETRY, errors.UnreachableError),
    (503, "", Action.RETRY, errors.ServerError),
    (400, "2020", Action.FAIL, errors.ValidationError),
    (400, "6000", Action.FAIL, errors.ValidationError),
    (400, "", Action.FAIL, errors.QboError),
]


def test_every_row_of_the_table_is_exercised_here():
    assert len(ROWS) == len(ERROR_POLICY)
    assert [rule_for(s, c) for s, c, _, _ in ROWS] == list(ERROR_POLICY)


@pytest.mark.parametrize(("status", "code", "action", "error"), ROWS)
def test_each_row_decides_the_action_and_the_exception(status, code, action, error):
    rule = rule_for(status, code)
    assert (rule.action, rule.error) == (action, error)


@pytest.mark.parametrize(
    ("status", "code", "action", "error"),
    [
        (200, "6240", Action.FAIL, errors.DuplicateNameError),  # a Fault inside an HTTP 200
        (403, "3001", Action.RATE_LIMITED, errors.ThrottledError),  # 2016 sandbox throttles
        (500, "", Action.RETRY, errors.ServerError),
        (502, "", Action.RETRY, errors.ServerError),
        (400, "4000", Action.FAIL, errors.ValidationError),  # query parse error
        (400, "500", Action.FAIL, errors.QboError),  # "Unsupported Operation"
    ],
)
def test_codes_decide_whatever_the_status(status, code, action, error):
    rule = rule_for(status, code)
    assert (rule.action, rule.error) == (action, error)


def test_stale_and_duplicate_are_validation_errors_too():
    assert issubclass(errors.StaleObjectError, errors.ValidationError)
    assert issubclass(errors.DuplicateNameError, errors.ValidationError)


def _response(status, *, json=None, text=None, headers=None):
    request = httpx.Request("GET", "https://qbo.test/v3/company/1/customer/1")
    headers = {"intuit_tid": "tid-123", **(headers or {})}
    if json is not None:
        return httpx.Response(status, json=json, headers=headers, request=request)
    return httpx.Response(status, text=text or "", headers=headers, request=request)


def test_a_pascal_case_fault_is_parsed_with_every_attribute():
    body = {
        "Fault": {
            "Error": [
                {
                    "Message": "Duplicate Name Exists Error",
                    "Detail": "The name supplied already exists.",
                    "code": "6240",
                    "element": "DisplayName",
                }
            ],
            "type": "ValidationFault",
        },
        "time": "2017-09-29T09:17:31.892-07:00",
    }
    error, _ = error_from_response(_response(400, json=body))
    assert isinstance(error, errors.DuplicateNameError)
    assert (error.status, error.code, error.element) == (400, "6240", "DisplayName")
    assert (error.message, error.fault_type) == ("Duplicate Name Exists Error", "ValidationFault")
    assert error.detail.startswith("The name supplied")
    assert error.intuit_tid == "tid-123"


def test_the_auth_layers_lower_case_fault_is_parsed():
    body = {
        "fault": {
            "error": [
                {
                    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                    "detail": "Token expired: AB0...",
                    "code": "3200",
                    "element": None,
                }
            ],
            "type": "AUTHENTICATION",
        },
        "time": 1730024394085,
    }
    error, _ = error_from_response(_response(401, json=body))
    assert isinstance(error, errors.AuthenticationError)
    assert (error.code, error.detail, error.element) == ("3200", "Token expired: AB0...", "")


def test_an_http_200_carrying_a_fault_is_an_error():
    body = {"Fault": {"Error": [{"Message": "Stale Object Error", "code": "5010"}]}}
    error, _ = error_from_response(_response(200, json=body))
    assert isinstance(error, errors.StaleObjectError)
    assert error.status == 200


def test_an_xml_throttle_fault_is_parsed_although_we_asked_for_json():
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="2016-01-01T00:00:00">'
        '<Fault type="SERVICE"><Error code="3001">'
        "<Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>"
        "<Detail>The request limit was reached.  Try again later</Detail>"
        "</Error></Fault></IntuitResponse>"
    )
    error, body = error_from_response(_response(429, text=xml, headers={"Retry-After": "7"}))
    assert isinstance(error, errors.ThrottledError)
    assert (error.code, error.fault_type, error.retry_after_s) == ("3001", "SERVICE", 7.0)
    assert error.detail == "The request limit was reached.  Try again later"
    assert body is None


def test_an_html_gateway_page_becomes_a_retryable_server_error():
    page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    error, _ = error_from_response(_response(502, text=page))
    assert isinstance(error, errors.ServerError)
    assert "502 Bad Gateway" in error.message


def test_a_success_is_not_an_error():
    error, body = error_from_response(_response(200, json={"Customer": {"Id": "1"}}))
    assert error is None
    assert body == {"Customer": {"Id": "1"}}


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_seconds(httpx.Headers({"Retry-After": "12"})) == 12.0
    assert retry_after_seconds(httpx.Headers({})) is None
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
    dated = httpx.Headers({"Retry-After": "Thu, 01 Jan 2026 00:00:30 GMT"})
    assert retry_after_seconds(dated, now) == 30.0
