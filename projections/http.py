"""The query API over the projections, under `/v1/tenants/{tenant}/`.

Every endpoint needs `Authorization: Bearer <the tenant's key>` (checked in constant time by
TenantSecrets): no or an unknown key is 401; another tenant's key is 403, and nothing of this
tenant is read. Handlers are plain functions (FastAPI runs them in its thread pool), because the
projections are read with a synchronous driver.
"""

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from adapters.secrets import TenantSecrets
from projections.models import (
    CustomerView,
    HealthView,
    ImportPage,
    ImportRunView,
    LinkDetail,
    LinkPage,
    LinkStatus,
    PersonView,
)
from projections.queries import ProjectionReader

# No `from __future__ import annotations` here: FastAPI reads these signatures at runtime, and the
# `Tenant` alias is local to query_router.
PREFIX = "/v1/tenants/{tenant}"
T = TypeVar("T")


class ErrorBody(BaseModel):
    detail: str


_AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no key, or a key of no tenant"},
    403: {"model": ErrorBody, "description": "a key of another tenant"},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "no such record in this tenant's projections"}
}


def query_router(reader: ProjectionReader, keys: TenantSecrets) -> APIRouter:
    bearer = HTTPBearer(
        auto_error=False,
        scheme_name="TenantKey",
        description="The tenant's key (today its ingest key, QBSYNC_INGEST_KEYS).",
    )

    def tenant_access(
        tenant: Annotated[str, Path(description="installation (tenant) id")],
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> str:
        presented = credentials.credentials if credentials is not None else None
        if keys.matches(tenant, presented):
            return tenant
        if keys.tenant_of(presented) is not None:
            raise HTTPException(403, f"this key may not read tenant {tenant!r}")
        raise HTTPException(401, "missing or unknown key", headers={"WWW-Authenticate": "Bearer"})

    Tenant = Annotated[str, Depends(tenant_access)]
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

    return router


def _found(value: T | None, what: str, tenant: str) -> T:
    if value is None:
        raise HTTPException(404, f"{what} in tenant {tenant!r}")
    return value
