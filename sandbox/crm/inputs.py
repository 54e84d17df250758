"""Reading a request: Rails-style query parameters and a write's body under its root key.

Bodies are JSON (`{"person": {...}}`) or form-encoded (`person[full_name]=...`), as Rails
accepts both (reference 1.2). The root key is required, as `params.require(:person)` requires
it: without it, 400 with Rails' ParameterMissing text. Bare JSON fields are not wrapped into the
root key (Rails' ParamsWrapper might; the sandbox is strict so clients stay correct).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request

from sandbox.crm import errors
from sandbox.crm.params import ParameterTypeError, parse_nested


def query_params(request: Request) -> dict[str, Any]:
    try:
        return parse_nested(request.query_params.multi_items())
    except ParameterTypeError as exc:
        raise errors.bad_request(str(exc)) from None


async def read_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        try:
            return parse_nested(parse_qsl(raw.decode(), keep_blank_values=True))
        except (ParameterTypeError, UnicodeDecodeError) as exc:
            raise errors.bad_request(str(exc)) from None
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise errors.bad_request("Invalid JSON in the request body") from None
    if not isinstance(body, dict):
        raise errors.bad_request("The request body must be a JSON object")
    return body


async def read_root(request: Request, root: str) -> dict[str, Any]:
    value = (await read_body(request)).get(root)
    if not isinstance(value, dict) or not value:
        raise errors.missing_root(root)
    return value
