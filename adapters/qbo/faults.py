"""Turn whatever QBO answered into a typed `QboError`, or None when the answer is a success.

QBO's faults come in several shapes (reference section 9): `Fault.Error[]` with PascalCase keys,
the auth layer's lower-case `fault.error[]`, a Fault inside an HTTP 200, and XML or HTML bodies
even when we asked for JSON (throttles, gateways). All of them must yield the same typed error.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from adapters.qbo.errors import QboError, rule_for

_XML_ERROR = re.compile(r"<(?:\w+:)?Error\b[^>]*?\bcode=\"(?P<code>[^\"]*)\"", re.IGNORECASE)
_XML_FAULT_TYPE = re.compile(r"<(?:\w+:)?Fault\b[^>]*?\btype=\"(?P<type>[^\"]*)\"", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")
_SNIPPET = 300


def _xml_text(body: str, tag: str) -> str:
    found = re.search(rf"<(?:\w+:)?{tag}>(.*?)</(?:\w+:)?{tag}>", body, re.IGNORECASE | re.DOTALL)
    return html.unescape(found.group(1).strip()) if found else ""


def _get(mapping: Mapping[str, Any], key: str) -> Any:
    """QBO's auth layer lower-cases keys; everything else is PascalCase. Accept both."""
    if key in mapping:
        return mapping[key]
    return mapping.get(key[:1].lower() + key[1:])


def make_error(
    status: int,
    code: str,
    message: str,
    *,
    detail: str = "",
    element: str = "",
    fault_type: str = "",
    intuit_tid: str | None = None,
    retry_after_s: float | None = None,
) -> QboError:
    error_class = rule_for(status, code).error
    return error_class(
        message or f"HTTP {status}",
        status=status,
        code=code,
        detail=detail,
        element=element,
        fault_type=fault_type,
        intuit_tid=intuit_tid,
        retry_after_s=retry_after_s,
    )


def error_from_fault(
    fault: Mapping[str, Any],
    status: int,
    intuit_tid: str | None = None,
    retry_after_s: float | None = None,
) -> QboError:
    """A `Fault` object → error; the first Error entry decides (QBO lists the cause first)."""
    errors = _get(fault, "Error") or [{}]
    first: Mapping[str, Any] = errors[0] if isinstance(errors[0], Mapping) else {}
    return make_error(
        status,
        str(_get(first, "code") or ""),
        str(_get(first, "Message") or ""),
        detail=str(_get(first, "Detail") or ""),
        element=str(_get(first, "element") or ""),
        fault_type=str(_get(fault, "type") or ""),
        intuit_tid=intuit_tid,
        retry_after_s=retry_after_s,
    )


def fault_in(body: Any) -> Mapping[str, Any] | None:
    if isinstance(body, Mapping):
        fault = _get(body, "Fault")
        if isinstance(fault, Mapping):
            return fault
    return None


def retry_after_seconds(headers: httpx.Headers, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds or an HTTP date; QBO does not promise it, so None is common."""
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def _non_json_error(response: httpx.Response, tid: str | None, retry: float | None) -> QboError:
    text = response.text
    code_match = _XML_ERROR.search(text)
    if code_match:
        type_match = _XML_FAULT_TYPE.search(text)
        return make_error(
            response.status_code,
            code_match.group("code"),
            _xml_text(text, "Message"),
            detail=_xml_text(text, "Detail"),
            fault_type=type_match.group("type") if type_match else "",
            intuit_tid=tid,
            retry_after_s=retry,
        )
    snippet = " ".join(html.unescape(_TAGS.sub(" ", text)).split())[:_SNIPPET]
    return make_error(
        response.status_code,
        "",
        snippet or response.reason_phrase,
        intuit_tid=tid,
        retry_after_s=retry,
    )


def error_from_response(response: httpx.Response) -> tuple[QboError | None, Any]:
    """(error or None, parsed JSON body or None). A 2xx without a Fault is a success."""
    tid = response.headers.get("intuit_tid")
    retry = retry_after_seconds(response.headers)
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    fault = fault_in(body)
    if fault is not None:
        return error_from_fault(fault, response.status_code, tid, retry), body
    if response.is_success:
        if body is None and response.content:
            # A 2xx we cannot read is not a success we can use (e.g. an HTML login page).
            return _non_json_error(response, tid, retry), None
        return None, body
    if body is not None:
        message = str(_get(body, "error") or "") if isinstance(body, Mapping) else ""
        return make_error(
            response.status_code, "", message, intuit_tid=tid, retry_after_s=retry
        ), body
    return _non_json_error(response, tid, retry), None
