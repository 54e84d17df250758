"""OAuth 2 with Intuit: connect (authorize → callback → code exchange), refresh, revoke.

Refresh is the delicate part (reference section 2): QBO may rotate the refresh token on every
refresh, and a superseded one answers `invalid_grant`. So the new pair is persisted before the
new access token is handed to anyone, and refreshes are serialized per realm: of two concurrent
401s, the second waits, sees the token already replaced, and uses it instead of refreshing with a
refresh token that is no longer valid.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from adapters.qbo.oauth_state import StateSigner
from adapters.qbo.tokens import TokenSet
from adapters.qbo.vault import TokenVault
from qbsync.logs import get_logger, register_secret

ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"

log = get_logger(__name__)


class OAuthError(Exception):
    def __init__(self, message: str, *, status: int = 0, error: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.error = error


class InvalidGrantError(OAuthError):
    """The refresh token (or code) is unknown, superseded, revoked or expired: reconnect."""


class NotConnectedError(OAuthError):
    """No tokens stored for this tenant and realm: the admin has not connected QBO yet."""


class OAuthDeniedError(OAuthError):
    """The user declined on Intuit's consent page (or Intuit refused the request)."""


class OAuthUnreachableError(OAuthError):
    """The OAuth server did not answer."""


@dataclass(frozen=True)
class OAuthApp:
    """The developer app as registered with Intuit."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    scope: str = ACCOUNTING_SCOPE


@dataclass(frozen=True)
class OAuthEndpoints:
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str


class QboOAuth:
    def __init__(
        self,
        app: OAuthApp,
        discovery_url: str,
        vault: TokenVault,
        state: StateSigner,
        http: httpx.AsyncClient,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        register_secret(app.client_secret)
        self.app = app
        self.discovery_url = discovery_url
        self.vault = vault
        self._state = state
        self._http = http
        self._now = now
        self._endpoints: OAuthEndpoints | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        self.refresh_count = 0  # refreshes that reached the token endpoint (tests, metrics)

    async def endpoints(self) -> OAuthEndpoints:
        if self._endpoints is None:
            try:
                response = await self._http.get(self.discovery_url)
            except httpx.TransportError as exc:
                raise OAuthUnreachableError(f"discovery document unreachable: {exc!r}") from exc
            if response.status_code != 200:
                raise OAuthError("discovery document unavailable", status=response.status_code)
            doc = response.json()
            self._endpoints = OAuthEndpoints(
                doc["authorization_endpoint"], doc["token_endpoint"], doc["revocation_endpoint"]
            )
        return self._endpoints

    async def authorization_url(self, tenant_id: str) -> str:
        params = {
            "client_id": self.app.client_id,
            "response_type": "code",
            "scope": self.app.scope,
            "redirect_uri": self.app.redirect_uri,
            "state": self._state.issue(tenant_id),
        }
        return f"{(await self.endpoints()).authorization_endpoint}?{urlencode(params)}"

    async def complete_connect(
        self, *, code: str | None, state: str, realm_id: str | None, error: str | None = None
    ) -> TokenSet:
        """Handle the redirect back: verify state first, then exchange the code and store tokens."""
        tenant_id = self._state.verify(state)
        if error or not code:
            raise OAuthDeniedError(f"connect refused: {error or 'no code'}", error=error or "")
        if not realm_id or not realm_id.isdigit():
            raise OAuthError("callback lacks a realmId; was the accounting scope granted?")
        body = await self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.app.redirect_uri,
            }
        )
        tokens = TokenSet.from_token_response(
            body, tenant_id=tenant_id, realm_id=realm_id, now=self._now()
        )
        await self.vault.save(tokens)
        log.info("qbo connected", tenant_id=tenant_id, realm_id=realm_id)
        return tokens

    async def tokens(self, tenant_id: str, realm_id: str) -> TokenSet:
        """Usable tokens for a call, refreshed first if the access token is (nearly) expired."""
        current = await self.vault.load(tenant_id, realm_id)
        if current is None:
            raise NotConnectedError(f"tenant {tenant_id} has no QBO connection to realm {realm_id}")
        if current.access_usable(self._now()):
            return current
        return await self.refresh(tenant_id, realm_id)

    async def refresh(
        self, tenant_id: str, realm_id: str, *, rejected_access_token: str | None = None
    ) -> TokenSet:
        """Refresh, one at a time per realm; `rejected_access_token` is the one QBO 401ed."""
        lock = self._locks.setdefault(realm_id, asyncio.Lock())
        async with lock:
            current = await self.vault.load(tenant_id, realm_id)
            if current is None:
                raise NotConnectedError(f"tenant {tenant_id} has no QBO connection")
            fresh = current.access_usable(self._now())
            if fresh and current.access_token != rejected_access_token:
                return current  # someone refreshed while we waited for the lock
            body = await self._token_request(
                {"grant_type": "refresh_token", "refresh_token": current.refresh_token}
            )
            tokens = TokenSet.from_token_response(
                body, tenant_id=tenant_id, realm_id=realm_id, now=self._now()
            )
            # Persist before returning: if the new refresh token were lost, the connection would be.
            await self.vault.save(tokens)
            self.refresh_count += 1
            log.info("qbo tokens refreshed", tenant_id=tenant_id, realm_id=realm_id)
            return tokens

    async def revoke(self, tenant_id: str, realm_id: str) -> None:
        """Disconnect: revoke at Intuit, and forget the tokens here whatever Intuit answers."""
        current = await self.vault.load(tenant_id, realm_id)
        if current is None:
            return
        try:
            endpoint = (await self.endpoints()).revocation_endpoint
            response = await self._http.post(
                endpoint,
                json={"token": current.refresh_token},
                auth=(self.app.client_id, self.app.client_secret),
                headers={"Accept": "application/json"},
            )
            if response.status_code not in (200, 204):
                log.warning("qbo revoke refused", status=response.status_code, realm_id=realm_id)
        finally:
            await self.vault.delete(tenant_id, realm_id)
            log.info("qbo disconnected", tenant_id=tenant_id, realm_id=realm_id)

    async def _token_request(self, form: dict[str, str]) -> dict[str, Any]:
        endpoint = (await self.endpoints()).token_endpoint
        try:
            response = await self._http.post(
                endpoint,
                data=form,
                auth=(self.app.client_id, self.app.client_secret),
                headers={"Accept": "application/json"},
            )
        except httpx.TransportError as exc:
            raise OAuthUnreachableError(f"token endpoint unreachable: {exc!r}") from exc
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            body = {}
        if response.status_code == 200 and "access_token" in body:
            register_secret(body.get("access_token"))
            register_secret(body.get("refresh_token"))
            return body
        error = str(body.get("error", ""))
        message = f"token endpoint said {response.status_code} {error or response.text[:200]}"
        log.warning(
            "qbo token request failed",
            status=response.status_code,
            error=error,
            intuit_tid=response.headers.get("intuit_tid"),
        )
        if error == "invalid_grant":
            raise InvalidGrantError(message, status=response.status_code, error=error)
        raise OAuthError(message, status=response.status_code, error=error)
