"""The OAuth tokens of one connection (tenant ⇄ QBO realm) and how they age."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from qbsync.logs import register_secret

# Refresh a little before the access token's stated expiry: a token that dies in flight costs
# a 401 and a second round trip.
ACCESS_EXPIRY_MARGIN = timedelta(seconds=60)
# QBO documents ~100 days when the field is missing; only used if the token response omits it.
DEFAULT_REFRESH_TTL_S = 8_726_400


@dataclass(frozen=True)
class TokenSet:
    tenant_id: str
    realm_id: str
    # repr=False: a TokenSet in a traceback or a log line must not print the tokens.
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_expires_at: datetime
    refresh_expires_at: datetime

    def access_usable(self, now: datetime) -> bool:
        return now + ACCESS_EXPIRY_MARGIN < self.access_expires_at

    def refresh_expired(self, now: datetime) -> bool:
        return now >= self.refresh_expires_at

    @classmethod
    def from_token_response(
        cls, body: Mapping[str, Any], *, tenant_id: str, realm_id: str, now: datetime
    ) -> TokenSet:
        """From the token endpoint's answer (which lacks realmId: that came with the redirect)."""
        access, refresh = str(body["access_token"]), str(body["refresh_token"])
        # Registered before anything else can log them (qbsync.logs redacts known secrets).
        register_secret(access)
        register_secret(refresh)
        return cls(
            tenant_id=tenant_id,
            realm_id=realm_id,
            access_token=access,
            refresh_token=refresh,
            access_expires_at=now + timedelta(seconds=int(body.get("expires_in", 3600))),
            refresh_expires_at=now
            + timedelta(seconds=int(body.get("x_refresh_token_expires_in", DEFAULT_REFRESH_TTL_S))),
        )
