"""The error answers of Pipeline's API (reference 1.5), as exceptions the routes raise.

Bodies are `{"error": "..."}` except validation, which is a list of
`{"field", "humanized_field", "msg"}` (the shape of the recorded 403 auth failure; the 422
status is from the legacy docs). Texts Pipeline was never recorded sending are guesses:
404 "Not found", 403 "Access denied", 400 is Rails' ParameterMissing text.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

JSON_TYPE = "application/json; charset=utf-8"


class CrmJSONResponse(JSONResponse):
    """Pipeline answers `application/json; charset=utf-8`, even for errors."""

    media_type = JSON_TYPE


class ApiError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body

    def response(self) -> Response:
        return CrmJSONResponse(self.body, status_code=self.status)


def not_found() -> ApiError:
    return ApiError(404, {"error": "Not found"})


def unauthorized(message: str = "Unknown api_key") -> ApiError:
    return ApiError(401, {"error": message})


def forbidden() -> ApiError:
    return ApiError(403, {"error": "Access denied: account admins only"})


def bad_request(message: str) -> ApiError:
    return ApiError(400, {"error": message})


def missing_root(root: str) -> ApiError:
    return bad_request(f"param is missing or the value is empty: {root}")


class FieldError(Exception):
    """One invalid field; a write collects them and answers 422 with all of them."""

    def __init__(self, field: str, msg: str) -> None:
        super().__init__(f"{field} {msg}")
        self.field = field
        self.msg = msg

    def as_json(self) -> dict[str, str]:
        humanized = self.field.replace("_id", "").replace("_", " ").strip().capitalize()
        return {"field": self.field, "humanized_field": humanized, "msg": self.msg}


def unprocessable(errors: list[FieldError]) -> ApiError:
    return ApiError(422, [e.as_json() for e in errors])


def install_error_handlers(app: FastAPI) -> None:
    async def api_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return exc.response()

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if not request.url.path.startswith("/api/"):
            return await http_exception_handler(request, exc)
        if exc.status_code == 405:
            return CrmJSONResponse({"error": "Method not allowed"}, status_code=405)
        return not_found().response()  # Rails' routing error, as the gem sees it: a 404

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if not request.url.path.startswith("/api/"):
            return await request_validation_exception_handler(request, exc)
        return bad_request("Bad request").response()

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
