"""HTTP requests of CRM users (SYNC-RULES 6): create invoices and estimates on a deal, send them,
convert an estimate; and any request envelope of the catalog.

Under `/v1/tenants/{tenant}/`, with the tenant's Bearer key (the query API's keys and answers:
401 no or an unknown key, 403 another tenant's). Each POST becomes one request envelope
(schemas/requests.py) on the requests topic, keyed by tenant, and is answered 202
`{request_id, status_url}`; the engine decides (the permission check is its, on every request)
and `GET status_url` tells what became of it.

- A body that does not make a valid request is 422, naming each field (FastAPI's `detail` list,
  `loc` = where, e.g. `["body", "lines", 0, "quantity"]`); nothing is published.
- `Idempotency-Key: <key>` makes the request id uuid5 of (tenant, request type, key): a client
  retry is the same request, which the engine takes once (it dedupes input ids). One key names
  one request: a key reused for another request of the same type makes it a duplicate. Without
  the header every POST is a new request. `POST /requests` carries its own id.
- The event bus unreachable: 503 with Retry-After; retrying with the same key is safe.
"""

# No `from __future__ import annotations`: FastAPI reads the handlers' annotations at runtime,
# and `Tenant` / `IdempotencyKey` are local to RequestsApi.__init__.

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Header, Path
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from adapters.ports import Publisher
from adapters.secrets import TenantSecrets
from adapters.tenant_http import AUTH_RESPONSES, PREFIX, ErrorBody, tenant_guard
from engine.ids import derived_id
from qbsync.logs import get_logger
from schemas.catalog import EventRejected, event_class_for
from schemas.common import FrozenModel
from schemas.envelope import Envelope, type_of
from schemas.requests import (
    REQUEST_EVENTS,
    Actor,
    DocumentCreateRequestedData,
    DocumentLine,
    DocumentSendRequested,
    DocumentSendRequestedData,
    EstimateConvertRequested,
    EstimateConvertRequestedData,
    EstimateCreateRequested,
    InvoiceCreateRequested,
    RequestData,
)
from schemas.topics import REQUESTS

log = get_logger(__name__)
SOURCE = "/qbsync/api"
QboId = Annotated[str, Path(pattern=r"^\d+$", description="QBO id")]


class DocumentCreateBody(FrozenModel):
    """An invoice or estimate on the deal of the path (the request's data, but the deal)."""

    actor: Actor = Field(description="the CRM user asking; is_admin is vouched for by the caller")
    person_id: int = Field(description="one of the deal's people")
    lines: tuple[DocumentLine, ...] = Field(min_length=1)
    send_now: bool = False
    send_to: str | None = Field(default=None, description="email; default the person's email")
    txn_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")


class DocumentSendBody(FrozenModel):
    actor: Actor
    send_to: str | None = Field(default=None, description="email; default the bill email")


class ConvertBody(FrozenModel):
    actor: Actor


class Accepted(BaseModel):
    request_id: str = Field(description="the request's id (its event id)")
    status_url: str = Field(description="GET it for what became of the request")


def request_id_for(tenant: str, request_type: str, idempotency_key: str | None) -> str:
    """Deterministic with an Idempotency-Key (a retry is the same request), else a new uuid."""
    if idempotency_key is None:
        return str(uuid.uuid4())
    return derived_id(tenant, f"idempotency-key:{request_type}:{idempotency_key}")


def status_url(tenant: str, request_id: str) -> str:
    return f"/v1/tenants/{quote(tenant, safe='')}/requests/{quote(request_id, safe='')}"


class RequestsApi:
    def __init__(
        self,
        keys: TenantSecrets,
        publisher: Publisher,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._publisher, self._clock = publisher, clock
        Tenant = Annotated[str, Depends(tenant_guard(keys, "make requests for"))]
        IdempotencyKey = Annotated[
            str | None,
            Header(
                alias="Idempotency-Key",
                min_length=1,
                max_length=200,
                description="the same key makes a retry the same request",
            ),
        ]
        responses: dict[int | str, dict[str, Any]] = {
            **AUTH_RESPONSES,
            503: {"model": ErrorBody, "description": "the event bus is unavailable; retry"},
        }
        router = APIRouter(prefix=PREFIX, tags=["requests"], responses=responses)
        self.router = router
        accepted: dict[str, Any] = {"status_code": 202, "response_model": Accepted}

        @router.post("/deals/{deal_id}/invoices", summary="Create an invoice on a deal", **accepted)
        async def create_invoice(
            tenant: Tenant, deal_id: int, body: DocumentCreateBody, key: IdempotencyKey = None
        ) -> JSONResponse:
            data = _wire(DocumentCreateRequestedData, body, deal_id=deal_id)
            return await self._submit(
                tenant, InvoiceCreateRequested, data, f"crm/deal/{deal_id}", key
            )

        @router.post(
            "/deals/{deal_id}/estimates",
            summary="Create an estimate (proposal) on a deal",
            **accepted,
        )
        async def create_estimate(
            tenant: Tenant, deal_id: int, body: DocumentCreateBody, key: IdempotencyKey = None
        ) -> JSONResponse:
            data = _wire(DocumentCreateRequestedData, body, deal_id=deal_id)
            return await self._submit(
                tenant, EstimateCreateRequested, data, f"crm/deal/{deal_id}", key
            )

        @router.post("/invoices/{qbo_id}/send", summary="Email an invoice (QBO send)", **accepted)
        async def send_invoice(
            tenant: Tenant, qbo_id: QboId, body: DocumentSendBody, key: IdempotencyKey = None
        ) -> JSONResponse:
            data = _wire(DocumentSendRequestedData, body, document_type="invoice", qbo_id=qbo_id)
            return await self._submit(
                tenant, DocumentSendRequested, data, f"qbo/invoice/{qbo_id}", key
            )

        @router.post("/estimates/{qbo_id}/send", summary="Email an estimate (QBO send)", **accepted)
        async def send_estimate(
            tenant: Tenant, qbo_id: QboId, body: DocumentSendBody, key: IdempotencyKey = None
        ) -> JSONResponse:
            data = _wire(DocumentSendRequestedData, body, document_type="estimate", qbo_id=qbo_id)
            return await self._submit(
                tenant, DocumentSendRequested, data, f"qbo/estimate/{qbo_id}", key
            )

        @router.post(
            "/estimates/{qbo_id}/convert",
            summary="Convert an estimate to an invoice (the estimate is closed)",
            **accepted,
        )
        async def convert_estimate(
            tenant: Tenant, qbo_id: QboId, body: ConvertBody, key: IdempotencyKey = None
        ) -> JSONResponse:
            data = _wire(EstimateConvertRequestedData, body, estimate_id=qbo_id)
            return await self._submit(
                tenant, EstimateConvertRequested, data, f"qbo/estimate/{qbo_id}", key
            )

        @router.post(
            "/requests",
            summary="Any request envelope of the catalog (schemas/requests.py), with its own id",
            **accepted,
        )
        async def post_request(
            tenant: Tenant, document: Annotated[dict[str, Any], Body()]
        ) -> JSONResponse:
            return await self._publish(_request_envelope(tenant, document))

    async def _submit(
        self,
        tenant: str,
        request_class: type[Envelope],
        data: RequestData,
        subject: str,
        idempotency_key: str | None,
    ) -> JSONResponse:
        request_type = type_of(request_class)
        request = request_class(
            id=request_id_for(tenant, request_type, idempotency_key),
            type=request_type,
            source=SOURCE,
            subject=subject,
            time=self._clock(),
            tenant=tenant,
            data=data,
        )
        return await self._publish(request)

    async def _publish(self, request: Envelope) -> JSONResponse:
        unavailable = await publish_requests(
            self._publisher, [request], "retry the request (with the same Idempotency-Key)"
        )
        if unavailable is not None:
            return unavailable
        url = status_url(request.tenant, request.id)
        return JSONResponse(
            {"request_id": request.id, "status_url": url},
            status_code=202,
            headers={"Location": url},
        )


async def publish_requests(
    publisher: Publisher, requests: Sequence[Envelope], retry: str
) -> JSONResponse | None:
    """Publish `requests` to the requests topic and flush: None when they are on it, else the
    503 (with Retry-After) that tells the client to `retry`. Posting the same requests again is
    safe: their ids are the same, and the engine takes each once."""
    try:
        for request in requests:
            await publisher.publish(REQUESTS, request)
        await publisher.flush()
    except Exception as exc:  # not (all) published
        tenant = requests[0].tenant if requests else None
        log.warning("request_publish_failed", tenant=tenant, error=repr(exc))
        return JSONResponse(
            {"detail": f"the event bus is unavailable; {retry}"},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    return None


def _wire(data_class: type[RequestData], body: BaseModel, **from_path: Any) -> Any:
    """The request's data: the body's fields and the path's."""
    try:
        return data_class.model_validate(body.model_dump() | from_path)
    except ValidationError as exc:
        raise _invalid(exc) from exc


def _request_envelope(tenant: str, document: dict[str, Any]) -> Envelope:
    """The request a posted envelope is, or a 422 naming the fields that are wrong."""
    try:
        request_class = event_class_for(document)
    except EventRejected as exc:
        raise _refused(*((error.field, error.message) for error in exc.errors)) from exc
    if request_class not in REQUEST_EVENTS:
        raise _refused(("type", f"{type_of(request_class)} is not a request"))
    try:
        request = request_class.model_validate(document)
    except ValidationError as exc:
        raise _invalid(exc) from exc
    if request.tenant != tenant:
        raise _refused(("tenant", f"{request.tenant!r} is not this endpoint's tenant {tenant!r}"))
    return request


def _invalid(exc: ValidationError) -> RequestValidationError:
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    return RequestValidationError([{**error, "loc": ("body", *error["loc"])} for error in errors])


def _refused(*fields: tuple[str, str]) -> RequestValidationError:
    return RequestValidationError(
        [
            {"type": "value_error", "loc": ("body", field), "msg": message}
            for field, message in fields
        ]
    )
