"""`POST /v1/tenants/{tenant}/restores` (issue 7): plan a restore, and unless it is a dry run,
send it to the engine as one `RestoreRequested` per person (projections/restore_plan.py).

The tenant's Bearer key as for every tenant endpoint (401 / 403). The answer is the plan, person
by person (field, now, restored; or why a person is skipped), with the request ids and a status
URL per request (`GET /v1/tenants/{tenant}/requests/{id}`); 200 for a dry run, 202 when sent.
The engine checks the permission (admins only), the direction and echoes (engine/restore.py).
`restore_id` names a restore: sending the same restore again is a safe retry.
"""

# No `from __future__ import annotations`: FastAPI reads the handler's annotations at runtime.

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, Field

from adapters.ports import Publisher
from adapters.requests_api import publish_requests, status_url
from adapters.secrets import TenantSecrets
from adapters.tenant_http import AUTH_RESPONSES, PREFIX, ErrorBody, tenant_guard
from engine.restore import FieldFilter
from projections.db import ProjectionDb
from projections.restore_plan import plan_restore, requests_for
from schemas.common import FrozenModel
from schemas.requests import Actor

SOURCE = "/qbsync/api"


class RestoreBody(FrozenModel):
    actor: Actor = Field(description="the CRM user asking (an admin); vouched for by the caller")
    scope: Literal["person", "customer", "qbo_change", "import"] = Field(
        description="one person, one customer's person, or what one QBO change / import touched"
    )
    id: str = Field(min_length=1, max_length=200, description="person/customer id, event id…")
    as_of: AwareDatetime = Field(description="restore the values of this time")
    fields: list[str] | None = Field(
        default=None, description="only these CRM fields (mapped ones); default: every one"
    )
    only_cleared: bool = Field(
        default=False, description="only fields empty now that held a value at as_of"
    )
    dry_run: bool = False
    restore_id: str | None = Field(default=None, min_length=1, max_length=200)


class RestoreApi:
    def __init__(
        self,
        keys: TenantSecrets,
        publisher: Publisher,
        db: ProjectionDb,
        clock: Callable[[], datetime],
    ) -> None:
        Tenant = Annotated[str, Depends(tenant_guard(keys, "restore records of"))]
        responses: dict[int | str, dict[str, Any]] = {
            **AUTH_RESPONSES,
            503: {"model": ErrorBody, "description": "the event bus is unavailable; retry"},
        }
        self.router = router = APIRouter(prefix=PREFIX, tags=["history"], responses=responses)

        @router.post("/restores", summary="Restore records to their values at a time (admin)")
        async def restore(tenant: Tenant, body: RestoreBody) -> JSONResponse:
            scope = "record" if body.scope in ("person", "customer") else body.scope
            scope_id = f"{body.scope}/{body.id}" if scope == "record" else body.id
            with db.reading() as conn:
                only = FieldFilter(
                    frozenset(body.fields) if body.fields is not None else None, body.only_cleared
                )
                plan = plan_restore(conn, tenant, scope, scope_id, body.as_of, only)  # type: ignore[arg-type]
            restore_id = body.restore_id or str(uuid.uuid4())
            requests = requests_for(plan, body.actor, restore_id, SOURCE, clock())
            answer: dict[str, Any] = {"plan": plan.as_json(), "dry_run": body.dry_run}
            if body.dry_run or not requests:
                return JSONResponse(answer, status_code=200)
            unavailable = await publish_requests(
                publisher, requests, "retry with the same restore_id"
            )
            if unavailable is not None:
                return unavailable
            answer["restore_id"] = restore_id
            answer["requests"] = [
                {
                    "person_id": r.data.person_id,
                    "request_id": r.id,
                    "status_url": status_url(tenant, r.id),
                }
                for r in requests
            ]
            return JSONResponse(answer, status_code=202)
