"""The admins' "test connection": can this installation talk to its QBO company, and if not, why.

It reads company info, the cheapest authenticated call, through the normal client (so an
expired access token is refreshed on the way, as it would be for real work), but with retry
rules that answer within seconds instead of waiting out a long throttle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from adapters.qbo.client import QboClient
from adapters.qbo.errors import (
    AuthenticationError,
    AuthorizationError,
    QboError,
    ServerError,
    ThrottledError,
    UnreachableError,
)
from adapters.qbo.oauth import InvalidGrantError, NotConnectedError, OAuthError
from adapters.qbo.transport import RetryPolicy
from adapters.qbo.vault import VaultDecryptError

Reason = Literal[
    "ok", "expired", "revoked", "wrong_realm", "throttled", "unreachable", "not_connected"
]

# One short pause on a 429, one retry on a 5xx: enough to ride out a blip, then say so.
CHECK_POLICY = RetryPolicy(
    max_attempts=2,
    base_delay_s=0.2,
    max_delay_s=1.0,
    throttle_pause_s=1.0,
    max_throttle_pauses=1,
    max_throttle_pause_s=2.0,
    timeout_s=10.0,
)


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    reason: Reason
    detail: str
    company_name: str | None = None


def _failed(reason: Reason, detail: str) -> ConnectionCheck:
    return ConnectionCheck(ok=False, reason=reason, detail=detail)


async def test_connection(
    client: QboClient,
    *,
    policy: RetryPolicy = CHECK_POLICY,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ConnectionCheck:
    checking = client.with_policy(policy)
    try:
        info = await checking.company_info()
    except NotConnectedError as exc:
        return _failed("not_connected", str(exc))
    except VaultDecryptError as exc:
        return _failed("not_connected", f"stored tokens unusable, reconnect: {exc}")
    except InvalidGrantError:
        stored = await client.oauth.vault.load(client.tenant_id, client.realm_id)
        if stored is not None and stored.refresh_expired(now()):
            return _failed("expired", "the refresh token expired; an admin must reconnect QBO")
        return _failed("revoked", "QBO refused the refresh token (revoked or disconnected)")
    except AuthenticationError as exc:
        return _failed("revoked", f"QBO refused a freshly refreshed token: {exc.message}")
    except AuthorizationError as exc:
        return _failed(
            "wrong_realm",
            f"the token is not valid for company {client.realm_id}: {exc.detail or exc.message}",
        )
    except ThrottledError:
        return _failed("throttled", "QBO keeps answering 429 for this company; try again later")
    except (UnreachableError, ServerError) as exc:
        return _failed("unreachable", str(exc))
    except OAuthError as exc:
        # e.g. invalid_client (wrong client secret) or the OAuth server down.
        return _failed("unreachable", f"Intuit OAuth failed: {exc}")
    except QboError as exc:
        return _failed("unreachable", f"unexpected QBO answer: {exc}")
    return ConnectionCheck(
        ok=True,
        reason="ok",
        detail=f"connected to realm {client.realm_id}",
        company_name=info.CompanyName,
    )


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
