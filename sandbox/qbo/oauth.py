"""Intuit's OAuth 2.0 / OpenID Connect server, as the sandbox's apps see it (reference section 2).

Discovery, the authorize page (with a company picker for users of several companies), the token
endpoint (authorization_code and refresh_token grants, refresh-token rotation), revocation,
userinfo and JWKS. Every URL in the discovery document is built from the request's own base URL,
so the server works on any host and port. `authenticate()` is what the v3 API calls per request;
the `/_sandbox/oauth/...` hooks live in oauth_hooks.py.
"""

from __future__ import annotations

import hmac
import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from qbsync.logs import get_logger, register_secret
from sandbox.qbo import faults
from sandbox.qbo.clock import SandboxClock
from sandbox.qbo.config import QboSandboxConfig
from sandbox.qbo.oauth_authorize import AuthorizeFlow
from sandbox.qbo.oauth_credentials import authenticated_client, bearer_token
from sandbox.qbo.oauth_grants import AccessStatus, GrantStore, IssuedTokens
from sandbox.qbo.oauth_hooks import hooks_router
from sandbox.qbo.oauth_idtoken import IdTokenSigner

log = get_logger(__name__)

DISCOVERY_PATHS = (
    "/.well-known/openid_configuration",
    "/.well-known/openid_sandbox_configuration",
)
AUTHORIZE_PATH = "/connect/oauth2"
TOKEN_PATH = "/oauth2/v1/tokens/bearer"  # noqa: S105 (a path, not a password)
REVOKE_PATH = "/v2/oauth2/tokens/revoke"
USERINFO_PATH = "/v1/openid_connect/userinfo"
JWKS_PATH = "/op/v1/jwks"
ISSUER_PATH = "/op/v1"
# Paths other middlewares (throttling, fault injection) leave alone.
OAUTH_PATH_PREFIXES = (
    "/.well-known/",
    AUTHORIZE_PATH,
    "/oauth2/",
    "/v2/oauth2/",
    "/v1/openid_connect/",
    "/op/v1/",
)

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _oauth_error(status: int, error: str, description: str | None = None) -> JSONResponse:
    body = {"error_description": description, "error": error} if description else {"error": error}
    headers = dict(_NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="Intuit"'
    return JSONResponse(body, status_code=status, headers=headers)


class OAuthServer:
    def __init__(self, config: QboSandboxConfig, clock: SandboxClock) -> None:
        self.config = config
        self.clock = clock
        self.grants = GrantStore(config, clock)
        self.id_tokens = IdTokenSigner()
        self.authorize_flow = AuthorizeFlow(config, clock, self.grants)
        register_secret(config.client_secret)
        self.router = APIRouter()
        for path in DISCOVERY_PATHS:
            self.router.add_api_route(path, self.discovery, methods=["GET"])
            self.router.add_api_route(path + "/", self.discovery, methods=["GET"])
        self.router.add_api_route(JWKS_PATH, self.jwks, methods=["GET"])
        self.router.include_router(self.authorize_flow.router)
        self.router.add_api_route(TOKEN_PATH, self.token, methods=["POST"])
        self.router.add_api_route(REVOKE_PATH, self.revoke, methods=["POST"])
        self.router.add_api_route(USERINFO_PATH, self.userinfo, methods=["GET"])
        self.router.include_router(hooks_router(self))

    # -- API authentication ---------------------------------------------------------------
    def authenticate(self, authorization: str | None, realm_id: str) -> Response | None:
        """None if the bearer token may call this company's API, else the QBO error response."""
        token = bearer_token(authorization)
        check = self.grants.check_access(token) if token else None
        if check is None or check.status is AccessStatus.UNKNOWN:
            return faults.authentication_failed("invalid token")
        if check.status is AccessStatus.REVOKED:
            return faults.authentication_failed("Token revoked")
        if check.status is AccessStatus.EXPIRED:
            return faults.authentication_failed(f"Token expired: {(token or '')[:8]}...")
        if check.grant is None or check.grant.realm_id != realm_id:
            detail = f"The token is not authorized for company {realm_id}"
            return faults.authorization_failed(detail).response(self.clock)
        return None

    # -- discovery ------------------------------------------------------------------------
    def discovery(self, request: Request) -> JSONResponse:
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "issuer": base + ISSUER_PATH,
                "authorization_endpoint": base + AUTHORIZE_PATH,
                "token_endpoint": base + TOKEN_PATH,
                "userinfo_endpoint": base + USERINFO_PATH,
                "revocation_endpoint": base + REVOKE_PATH,
                "jwks_uri": base + JWKS_PATH,
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile", "address", "phone"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
                "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
            }
        )

    def jwks(self) -> JSONResponse:
        return JSONResponse(self.id_tokens.jwks())

    # -- token endpoint -------------------------------------------------------------------
    async def token(self, request: Request) -> JSONResponse:
        form = dict(parse_qsl((await request.body()).decode(errors="replace")))
        client_id = authenticated_client(self.config, request.headers.get("authorization"), form)
        if client_id is None:
            return _oauth_error(401, "invalid_client")
        grant_type = form.get("grant_type", "")
        issued: IssuedTokens | None
        if grant_type == "authorization_code":
            if not form.get("code") or not form.get("redirect_uri"):
                return _oauth_error(400, "invalid_request", "code and redirect_uri are required")
            issued = self.grants.redeem_code(form["code"], client_id, form["redirect_uri"])
            failure = "Invalid authorization code"
        elif grant_type == "refresh_token":
            if not form.get("refresh_token"):
                return _oauth_error(400, "invalid_request", "refresh_token is required")
            issued = self.grants.refresh(form["refresh_token"], client_id)
            failure = "Incorrect or invalid refresh token"
        else:
            return _oauth_error(400, "unsupported_grant_type")
        if issued is None:
            log.info("qbo_sandbox.oauth.invalid_grant", grant_type=grant_type)
            return _oauth_error(400, "invalid_grant", failure)
        log.info(
            "qbo_sandbox.oauth.tokens_issued",
            grant_type=grant_type,
            realm_id=issued.grant.realm_id,
        )
        include_hard = request.headers.get("x-include-refresh-token-hard-expires-in", "")
        body = self.token_body(issued, str(request.base_url), include_hard.lower() == "true")
        return JSONResponse(body, headers=_NO_STORE)

    def token_body(self, issued: IssuedTokens, base_url: str, include_hard: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "x_refresh_token_expires_in": issued.refresh_expires_in,
            "refresh_token": issued.refresh_token,
            "access_token": issued.access_token,
            "token_type": "bearer",
            "expires_in": issued.expires_in,
        }
        if include_hard:
            body["x_refresh_token_hard_expires_in"] = issued.refresh_hard_expires_in
        if "openid" in issued.grant.scopes:
            body["id_token"] = self._id_token(issued, base_url.rstrip("/"))
        return body

    def _id_token(self, issued: IssuedTokens, base: str) -> str:
        now = self.clock.now()
        claims: dict[str, Any] = {
            "sub": _subject(issued.grant.username),
            "aud": [issued.grant.client_id],
            "realmid": issued.grant.realm_id,
            "auth_time": int(issued.grant.created_at.timestamp()),
            "iss": base + ISSUER_PATH,
            "exp": int((now + timedelta(seconds=self.config.access_token_ttl_s)).timestamp()),
            "iat": int(now.timestamp()),
        }
        return self.id_tokens.sign(claims)

    # -- revocation and userinfo ----------------------------------------------------------
    async def revoke(self, request: Request) -> Response:
        raw = await request.body()
        fields: dict[str, Any]
        if "json" in request.headers.get("content-type", ""):
            try:
                parsed = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                return _oauth_error(400, "invalid_request", "body is not JSON")
            fields = parsed if isinstance(parsed, dict) else {}
        else:
            fields = dict(parse_qsl(raw.decode(errors="replace")))
        form = {k: str(v) for k, v in fields.items()}
        client_id = authenticated_client(self.config, request.headers.get("authorization"), form)
        if client_id is None:
            return _oauth_error(401, "invalid_client")
        if not form.get("token"):
            return _oauth_error(400, "invalid_request", "token is required")
        # RFC 7009: an unknown token is not an error, the client's goal is reached either way.
        revoked = self.grants.revoke(form["token"], client_id)
        log.info("qbo_sandbox.oauth.revoke", known_token=revoked)
        return Response(status_code=200, headers=_NO_STORE)

    def userinfo(self, request: Request) -> JSONResponse:
        token = bearer_token(request.headers.get("authorization"))
        check = self.grants.check_access(token) if token else None
        if check is None or check.status is not AccessStatus.VALID or check.grant is None:
            return _oauth_error(401, "invalid_token")
        if "openid" not in check.grant.scopes:
            return _oauth_error(403, "insufficient_scope", "userinfo needs the openid scope")
        username = check.grant.username
        return JSONResponse(
            {
                "sub": _subject(username),
                "email": f"{username}@example.com",
                "emailVerified": True,
                "givenName": username.capitalize(),
                "familyName": "Sandbox",
            }
        )


def _subject(username: str) -> str:
    """A stable, opaque user id (Intuit's `sub` is a UUID)."""
    digest = hmac.new(b"qbsync-sandbox-sub", username.encode(), "sha256").hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
