"""The query API over the projections, under `/v1/tenants/{tenant}/`.

Every endpoint needs `Authorization: Bearer <the tenant's key>` (checked in constant time by
TenantSecrets): no or an unknown key is 401; another tenant's key is 403, and nothing of this
tenant is read. Handlers are plain functions (FastAPI runs them in its thread pool), because the
projections are read with a synchronous driver.

Documents are answered for one CRM user, named by the caller (`user_id`, `is_admin`): the caller
holds the tenant's key and vouches for the user, as it does for the actor of a request. What the
user may see follows SYNC-RULES 3 (engine/visibility.py). Documents created from the CRM are
shown to every user: the caller shows them on deals the CRM lets that user see.
"""

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import AwareDatetime

from adapters.secrets import TenantSecrets
from adapters.tenant_http import AUTH_RESPONSES, PREFIX, ErrorBody, tenant_guard
from engine.history import RecordKind
from projections.document_queries import DocumentFilter
from projections.history_queries import RecordHistory
from projections.models import (
    CustomerView,
    DocumentDetail,
    DocumentPage,
    DocumentType,
    HealthView,
    ImportPage,
    ImportRunView,
    LinkDetail,
    LinkPage,
    LinkStatus,
    PersonView,
    RequestView,
)
from projections.queries import ProjectionReader
from schemas.requests import Actor

# No `from __future__ import annotations` here: FastAPI reads these signatures at runtime, and the
# `Tenant` alias is local to query_router.
T = TypeVar("T")
_AUTH_RESPONSES = AUTH_RESPONSES
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "no such record in this tenant's projections"}
}


def requesting_user(
    user_id: Annotated[int, Query(description="the CRM user asking (vouched for by the caller)")],
    is_admin: Annotated[bool, Query(description="whether that user is a CRM admin")] = False,
) -> Actor:
    return Actor(user_id=user_id, is_admin=is_admin)


def document_filter(
    document_type: Annotated[
        DocumentType | None, Query(alias="type", description="invoice or estimate; both if absent")
    ] = None,
    include_deleted: Annotated[
        bool, Query(description="also documents deleted in QBO (status deleted)")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DocumentFilter:
    return DocumentFilter(document_type, include_deleted, limit, offset)


def query_router(reader: ProjectionReader, keys: TenantSecrets) -> APIRouter:
    Tenant = Annotated[str, Depends(tenant_guard(keys))]
    User = Annotated[Actor, Depends(requesting_user)]
    Only = Annotated[DocumentFilter, Depends(document_filter)]
    router = APIRouter(prefix=PREFIX, tags=["query"], responses=_AUTH_RESPONSES)

    @router.get("/links", summary="Links of CRM people to QBO customers")
    def list_links(
        tenant: Tenant,
        status: LinkStatus | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> LinkPage:
        return reader.links(tenant, status=status, limit=limit, offset=offset)

    @router.get("/links/{person_id}", responses=_NOT_FOUND, summary="One link, with conflicts")
    def get_link(tenant: Tenant, person_id: int) -> LinkDetail:
        return _found(reader.link(tenant, person_id), f"no link for CRM person {person_id}", tenant)

    @router.get(
        "/customers/{customer_id}",
        responses=_NOT_FOUND,
        summary="A QBO customer: its link and latest state, linked or not",
    )
    def get_customer(tenant: Tenant, customer_id: str) -> CustomerView:
        found = reader.customer(tenant, customer_id)
        return _found(found, f"no QBO customer {customer_id!r} is known", tenant)

    @router.get(
        "/people/{person_id}",
        responses=_NOT_FOUND,
        summary="A CRM person: its link and latest state, linked or not",
    )
    def get_person(tenant: Tenant, person_id: int) -> PersonView:
        return _found(
            reader.person(tenant, person_id), f"no CRM person {person_id} is known", tenant
        )

    @router.get("/imports", summary="Import runs, most recently started first")
    def list_imports(
        tenant: Tenant,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> ImportPage:
        return reader.imports(tenant, limit=limit, offset=offset)

    @router.get("/imports/{request_id}", responses=_NOT_FOUND, summary="One import run")
    def get_import(tenant: Tenant, request_id: str) -> ImportRunView:
        found = reader.import_run(tenant, request_id)
        return _found(found, f"no import run {request_id!r}", tenant)

    @router.get(
        "/health",
        summary="Sync health: lag, decisions, pending commands, failures, conflicts",
    )
    def get_health(
        tenant: Tenant,
        recent: Annotated[int, Query(ge=1, le=200, description="items per list")] = 20,
    ) -> HealthView:
        return reader.health(tenant, recent=recent)

    @router.get(
        "/people/{person_id}/documents",
        summary="Invoices and estimates of a CRM person that this user may see",
        description="A document is the person's when its QBO customer is linked to them (or, "
        "without a link, when it was created for them).",
    )
    def person_documents(tenant: Tenant, person_id: int, user: User, only: Only) -> DocumentPage:
        return reader.person_documents(tenant, person_id, user, only)

    @router.get(
        "/companies/{company_id}/documents",
        summary="Invoices and estimates of a CRM company's people that this user may see",
    )
    def company_documents(tenant: Tenant, company_id: int, user: User, only: Only) -> DocumentPage:
        return reader.company_documents(tenant, company_id, user, only)

    @router.get(
        "/deals/{deal_id}/documents",
        summary="Invoices and estimates created on a CRM deal",
    )
    def deal_documents(tenant: Tenant, deal_id: int, user: User, only: Only) -> DocumentPage:
        return reader.deal_documents(tenant, deal_id, user, only)

    @router.get(
        "/documents/{document_type}/{qbo_id}",
        responses={404: {"model": ErrorBody, "description": "unknown, or hidden from this user"}},
        summary="One invoice or estimate, with its last QBO snapshot",
    )
    def get_document(
        tenant: Tenant,
        document_type: DocumentType,
        qbo_id: Annotated[str, Path(pattern=r"^\d+$", description="QBO id")],
        user: User,
    ) -> DocumentDetail:
        # A document the user may not see is answered exactly as one that does not exist.
        found = reader.document(tenant, document_type, qbo_id, user)
        return _found(found, f"no {document_type} {qbo_id}", tenant)

    @router.get(
        "/history/{kind}/{record_id}",
        responses=_NOT_FOUND,
        summary="One record's timeline across the CRM, QBO, the engine and users",
        description="Every change with its source, each field before and after, and its cause; "
        "`as_of` (RFC 3339) cuts the timeline there and gives the record as it was then. "
        "kind: person, company (CRM ids) or customer (QBO id).",
    )
    def get_history(
        tenant: Tenant,
        kind: RecordKind,
        record_id: Annotated[str, Path(pattern=r"^\d+$", description="CRM or QBO id")],
        as_of: Annotated[AwareDatetime | None, Query(description="RFC 3339 time")] = None,
    ) -> RecordHistory:
        found = reader.history(tenant, kind, record_id, as_of)
        return _found(found, f"no history of {kind} {record_id}", tenant)

    @router.get(
        "/requests/{request_id}",
        responses=_NOT_FOUND,
        summary="What became of a request: verdict, commands and outcomes, documents",
        description="404 until the request is seen on the requests topic (a request just "
        "accepted may take a moment).",
    )
    def get_request(tenant: Tenant, request_id: str) -> RequestView:
        return _found(reader.request(tenant, request_id), f"no request {request_id!r}", tenant)

    return router


def _found(value: T | None, what: str, tenant: str) -> T:
    if value is None:
        raise HTTPException(404, f"{what} in tenant {tenant!r}")
    return value
