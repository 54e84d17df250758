"""QBO's error bodies, verbatim in shape (reference/qbo-api.md section 9).

Most faults are `{"Fault": {"Error": [...], "type": ...}, "time": ...}` with string codes; 401s
use lower-case keys and an epoch-ms `time`, as QBO's authentication layer answers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from html import escape
from typing import Any

from fastapi.responses import JSONResponse

from sandbox.qbo.clock import SandboxClock


@dataclass(eq=False)
class QboFault(Exception):
    """Raise anywhere in the sandbox; the API turns it into QBO's JSON fault.

    Not frozen: Python and Starlette assign `__traceback__` to exceptions they re-raise."""

    status: int
    code: str
    message: str
    detail: str
    fault_type: str = "ValidationFault"
    element: str = ""

    def body(self, clock: SandboxClock) -> dict[str, Any]:
        return {
            "Fault": {
                "Error": [
                    {
                        "Message": self.message,
                        "Detail": self.detail,
                        "code": self.code,
                        "element": self.element,
                    }
                ],
                "type": self.fault_type,
            },
            "time": clock.now_precise().isoformat(timespec="milliseconds"),
        }

    def response(self, clock: SandboxClock) -> JSONResponse:
        return JSONResponse(self.body(clock), status_code=self.status)


def stale_object(entity: str, id_: str) -> QboFault:
    return QboFault(
        400,
        "5010",
        "Stale Object Error",
        f"Stale Object Error : You and sandbox-user were working on this at the same "
        f"time. sandbox-user finished before you did, so your work was not saved. "
        f"({entity} {id_})",
    )


def duplicate_name(name: str) -> QboFault:
    return QboFault(
        400,
        "6240",
        "Duplicate Name Exists Error",
        "The name supplied already exists. : Another customer, vendor or employee is "
        f"already using this name. Please use a different name. ({name})",
        element="DisplayName",
    )


def required_missing(field: str) -> QboFault:
    return QboFault(
        400,
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {field} is missing in the request",
        element=field,
    )


def not_found(entity: str, id_: str) -> QboFault:
    return QboFault(
        400,
        "610",
        "Object Not Found",
        "Object Not Found : Something you're trying to use has been made inactive. "
        f"Check the fields with accounts, customers, items, vendors or employees. "
        f"({entity} {id_})",
    )


def invalid_request(detail: str, element: str = "") -> QboFault:
    return QboFault(
        400, "2010", "Request has invalid or unsupported property", detail, element=element
    )


def query_parse_error(detail: str) -> QboFault:
    return QboFault(400, "4000", "Error parsing query", f"QueryParserError: {detail}")


def throttled() -> QboFault:
    return QboFault(
        429,
        "3001",
        "message=ThrottleExceeded; errorCode=003001; statusCode=429",
        "The request limit was reached.  Try again later",
        fault_type="SERVICE",
    )


def authentication_failed(detail: str) -> JSONResponse:
    """401 as QBO's auth layer sends it: lower-case keys, epoch-ms time."""
    body: dict[str, Any] = {
        "warnings": None,
        "intuitObject": None,
        "fault": {
            "error": [
                {
                    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                    "detail": detail,
                    "code": "3200",
                    "element": None,
                }
            ],
            "type": "AUTHENTICATION",
        },
        "report": None,
        "queryResponse": None,
        "batchItemResponse": [],
        "attachableResponse": [],
        "syncErrorResponse": None,
        "requestId": None,
        "time": int(time.time() * 1000),
        "status": None,
        "cdcresponse": [],
    }
    return JSONResponse(
        body,
        status_code=401,
        headers={"www-authenticate": 'Bearer realm="Intuit", error="invalid_token"'},
    )


def authorization_failed(detail: str) -> QboFault:
    """403: a valid token used on a company it was not granted for."""
    return QboFault(
        403,
        "3100",
        "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
        detail,
        fault_type="AuthorizationFault",
    )


def system_failure() -> QboFault:
    """500 as QBO reports an internal error (code 10000, SystemFault)."""
    return QboFault(
        500,
        "10000",
        "An application error has occurred while processing your request",
        "System Failure Error: An unexpected error occurred while accessing or saving your "
        "data. Please wait a few minutes and try again. If the problem persists, contact "
        "customer support.",
        fault_type="SystemFault",
    )


def service_unavailable() -> QboFault:
    """503: the shape is the sandbox's guess (a SystemFault); Intuit documents only the status."""
    return QboFault(
        503,
        "10000",
        "Service Unavailable",
        "The service is temporarily unavailable. Please try again later.",
        fault_type="SystemFault",
    )


def fault_xml(fault: QboFault, clock: SandboxClock) -> str:
    """The fault as QBO's XML `IntuitResponse` (some error paths answer XML to JSON clients)."""
    stamp = clock.now_precise().isoformat(timespec="milliseconds")
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="{escape(stamp)}">'
        f'<Fault type="{escape(fault.fault_type)}">'
        f'<Error code="{escape(fault.code)}">'
        f"<Message>{escape(fault.message)}</Message>"
        f"<Detail>{escape(fault.detail)}</Detail>"
        "</Error></Fault></IntuitResponse>"
    )


def query_validation_error(detail: str) -> QboFault:
    """A query that parses but asks for something QBO refuses (e.g. MAXRESULTS over 1000)."""
    return QboFault(400, "4001", "Invalid query", f"QueryValidationError: {detail}")
