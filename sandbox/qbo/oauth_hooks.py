"""Test hooks of the OAuth server under `/_sandbox/oauth`: what Intuit's portal cannot do on demand.

- `POST /_sandbox/oauth/grant?realm_id=&username=&scope=`: a token pair without the browser flow;
- `POST /_sandbox/oauth/expire?realm_id=&tokens=access|refresh`: expire a company's tokens now;
- `POST /_sandbox/oauth/revoke?realm_id=`: disconnect the company (every grant of it);
- `GET /_sandbox/oauth/stats`: counters, never tokens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sandbox.qbo.oauth_authorize import ACCOUNTING_SCOPE, KNOWN_SCOPES

if TYPE_CHECKING:
    from sandbox.qbo.oauth import OAuthServer


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"error": detail}, status_code=status)


def hooks_router(server: OAuthServer) -> APIRouter:
    router = APIRouter(prefix="/_sandbox/oauth")
    config = server.config

    @router.post("/grant")
    def grant(request: Request, realm_id: str, username: str | None = None) -> JSONResponse:
        if realm_id not in {r.realm_id for r in config.realms}:
            return _problem(404, f"unknown realm {realm_id}")
        users = [u for u in config.users if realm_id in u.realm_ids]
        user = next((u for u in users if username in (None, u.username)), None)
        if user is None:
            return _problem(400, f"user {username} cannot connect realm {realm_id}")
        scopes = tuple(request.query_params.get("scope", ACCOUNTING_SCOPE).split())
        if ACCOUNTING_SCOPE not in scopes or not set(scopes) <= KNOWN_SCOPES:
            return _problem(400, "scope must include " + ACCOUNTING_SCOPE)
        issued = server.grants.grant_directly(realm_id, user.username, scopes)
        body: dict[str, Any] = server.token_body(issued, str(request.base_url), True)
        body["realmId"] = realm_id
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    @router.post("/expire")
    def expire(realm_id: str, tokens: str = "access") -> JSONResponse:
        if tokens == "access":
            count = server.grants.expire_access(realm_id)
        elif tokens == "refresh":
            count = server.grants.expire_refresh(realm_id)
        else:
            return _problem(400, "tokens must be access or refresh")
        return JSONResponse({"realm_id": realm_id, "tokens": tokens, "expired": count})

    @router.post("/revoke")
    def revoke(realm_id: str) -> JSONResponse:
        return JSONResponse({"realm_id": realm_id, "revoked": server.grants.revoke_realm(realm_id)})

    @router.get("/stats")
    def stats() -> JSONResponse:
        return JSONResponse(server.grants.stats())

    return router
