"""The tenant-scoped HTTP APIs' shared parts: the path prefix, the Bearer tenant-key guard and
the error body, for the query API (projections/http.py) and the request API (requests_api.py)."""

# No `from __future__ import annotations`: FastAPI reads the guard's signature at runtime, and
# it names the local `bearer`.
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from adapters.secrets import TenantSecrets

PREFIX = "/v1/tenants/{tenant}"


class ErrorBody(BaseModel):
    detail: str


AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no key, or a key of no tenant"},
    403: {"model": ErrorBody, "description": "a key of another tenant"},
}


def tenant_guard(keys: TenantSecrets, action: str = "read") -> Callable[..., str]:
    """A FastAPI dependency answering the path's `tenant` when the Bearer key is that tenant's;
    401 for no or an unknown key, 403 for another tenant's key (the query and request APIs)."""
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
            raise HTTPException(403, f"this key may not {action} tenant {tenant!r}")
        raise HTTPException(401, "missing or unknown key", headers={"WWW-Authenticate": "Bearer"})

    return tenant_access
