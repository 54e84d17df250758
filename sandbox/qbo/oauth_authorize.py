"""The authorize step: sign the user in, pick a company, consent, redirect back with a code.

`GET /connect/oauth2?client_id&response_type=code&scope&redirect_uri&state` signs in the user
named by `login_hint` (or `username`; default: the first configured user). A user with one
company is sent straight back; a user with several (or `prompt=consent`) gets a picker page whose
links (`GET /connect/oauth2/consent?request=..&realmId=..`) finish the consent. Errors follow
RFC 6749 4.1.2.1: a bad client or redirect URI gets a 400 page, anything else is redirected
back as `?error=...&state=...`.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from qbsync.logs import get_logger
from sandbox.qbo.clock import SandboxClock
from sandbox.qbo.config import QboSandboxConfig, SandboxRealm
from sandbox.qbo.oauth_credentials import same
from sandbox.qbo.oauth_grants import GrantStore
from sandbox.qbo.oauth_pages import company_picker, error_page

log = get_logger(__name__)

ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
KNOWN_SCOPES = frozenset(
    {ACCOUNTING_SCOPE, "com.intuit.quickbooks.payment", "openid", "profile", "email", "phone",
     "address"}
)  # fmt: skip
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_PENDING_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class _Pending:
    """An authorize request waiting for the user to pick a company."""

    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    username: str
    realms: tuple[SandboxRealm, ...]
    expires_at: datetime


def redirect_with(uri: str, params: dict[str, str | None]) -> RedirectResponse:
    """302 to `uri` with `params` added to whatever query it already has."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    return RedirectResponse(urlunsplit(parts._replace(query=urlencode(query))), status_code=302)


class AuthorizeFlow:
    def __init__(self, config: QboSandboxConfig, clock: SandboxClock, grants: GrantStore) -> None:
        self._config = config
        self._clock = clock
        self._grants = grants
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()
        self.router = APIRouter()
        self.router.add_api_route("/connect/oauth2", self.authorize, methods=["GET"])
        self.router.add_api_route("/connect/oauth2/consent", self.consent, methods=["GET"])

    def redirect_allowed(self, redirect_uri: str) -> bool:
        if any(same(redirect_uri, registered) for registered in self._config.redirect_uris):
            return True
        parts = urlsplit(redirect_uri)
        return (
            self._config.allow_loopback_redirects
            and parts.scheme in ("http", "https")
            and (parts.hostname or "") in _LOOPBACK_HOSTS
        )

    def authorize(self, request: Request) -> Response:
        query = request.query_params
        client_id, redirect_uri = query.get("client_id", ""), query.get("redirect_uri", "")
        if not same(client_id, self._config.client_id):
            return error_page(400, "invalid_client", "The client_id is not a known app.")
        if not self.redirect_allowed(redirect_uri):
            return error_page(400, "invalid_request", "The redirect_uri is not registered.")
        state = query.get("state")

        def refuse(error: str, description: str) -> Response:
            log.info("qbo_sandbox.oauth.authorize_refused", error=error)
            return redirect_with(
                redirect_uri, {"error": error, "error_description": description, "state": state}
            )

        if query.get("response_type") != "code":
            return refuse("unsupported_response_type", "response_type must be code")
        scopes = tuple(query.get("scope", "").split())
        if ACCOUNTING_SCOPE not in scopes or not set(scopes) <= KNOWN_SCOPES:
            return refuse("invalid_scope", f"scope must include {ACCOUNTING_SCOPE}")
        username = query.get("login_hint") or query.get("username") or self._default_user()
        realms = self._realms_of(username)
        if not realms:
            return refuse("access_denied", "the user has no company this app can connect")
        pending = _Pending(
            client_id,
            redirect_uri,
            scopes,
            state,
            username,
            realms,
            self._clock.now() + _PENDING_TTL,
        )
        if len(realms) == 1 and query.get("prompt") != "consent":
            return self._connect(pending, realms[0].realm_id)
        request_id = secrets.token_urlsafe(24)
        with self._lock:
            self._forget_stale()
            self._pending[request_id] = pending
        consent_path = request.url.path.rstrip("/") + "/consent"
        return company_picker(consent_path, request_id, username, list(realms))

    def consent(self, request: Request) -> Response:
        query = request.query_params
        with self._lock:
            pending = self._pending.pop(query.get("request", ""), None)
        if pending is None or pending.expires_at <= self._clock.now():
            return error_page(400, "invalid_request", "This sign-in has expired; start again.")
        if query.get("decision") == "deny":
            denied = {"error": "access_denied", "error_description": "user cancelled"}
            return redirect_with(pending.redirect_uri, {**denied, "state": pending.state})
        realm_id = query.get("realmId", "")
        if realm_id not in {r.realm_id for r in pending.realms}:
            return error_page(400, "invalid_request", "Pick one of the listed companies.")
        return self._connect(pending, realm_id)

    def _connect(self, pending: _Pending, realm_id: str) -> RedirectResponse:
        code = self._grants.issue_code(
            pending.client_id, pending.redirect_uri, realm_id, pending.username, pending.scopes
        )
        log.info("qbo_sandbox.oauth.authorized", realm_id=realm_id, user=pending.username)
        return redirect_with(
            pending.redirect_uri, {"code": code, "state": pending.state, "realmId": realm_id}
        )

    def _default_user(self) -> str:
        return self._config.users[0].username if self._config.users else ""

    def _realms_of(self, username: str) -> tuple[SandboxRealm, ...]:
        user = next((u for u in self._config.users if u.username == username), None)
        if user is None:
            return ()
        by_id = {realm.realm_id: realm for realm in self._config.realms}
        return tuple(by_id[r] for r in user.realm_ids if r in by_id)

    def _forget_stale(self) -> None:
        now = self._clock.now()
        for key in [k for k, p in self._pending.items() if p.expires_at <= now]:
            del self._pending[key]
