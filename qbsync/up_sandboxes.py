"""`qbsync up`'s sandboxes: QBO and Pipeline CRM as children, the demo tenant's QBO connection
through our own OAuth flow, and the webhooks that point both sandboxes at `qbsync api`.

The sandboxes are configured by their own `QBSYNC_*_SANDBOX_*` variables; the children inherit
our environment, so the config built here holds the same developer app and keys as theirs.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from adapters.qbo.connector import QboConnector
from adapters.qbo.oauth import OAuthError
from qbsync.config import Settings
from qbsync.up_children import HOST, Children, Part, StartFailed, free_or_other
from sandbox.crm.config import CrmSandboxConfig
from sandbox.qbo.config import QboSandboxConfig

QBO_SANDBOX_PORT, CRM_SANDBOX_PORT = 8600, 8610  # the `qbsync sandbox` defaults, when free
CRM_WEBHOOKS = [
    (m, a) for m in ("person", "company", "deal") for a in ("create", "update", "destroy")
]


@dataclass(frozen=True)
class QboSandbox:
    part: Part
    url: str
    config: QboSandboxConfig

    @property
    def discovery_url(self) -> str:
        return f"{self.url}/.well-known/openid_configuration"


@dataclass(frozen=True)
class CrmSandbox:
    part: Part
    url: str
    config: CrmSandboxConfig

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v3"


def start_sandboxes(children: Children, seed: int) -> tuple[QboSandbox, CrmSandbox]:
    """Both sandboxes, seeded alike (same N, same random seed), started together; wait for both."""
    qbo_port, crm_port = free_or_other(QBO_SANDBOX_PORT), free_or_other(CRM_SANDBOX_PORT)
    common = ["--host", HOST, "--seed", str(seed)]
    qbo_part = children.spawn("qbo-sandbox", ["sandbox", "qbo", "--port", str(qbo_port), *common])
    crm_part = children.spawn("crm-sandbox", ["sandbox", "crm", "--port", str(crm_port), *common])
    qbo = QboSandbox(qbo_part, f"http://{HOST}:{qbo_port}", QboSandboxConfig())
    crm = CrmSandbox(crm_part, f"http://{HOST}:{crm_port}", CrmSandboxConfig())
    children.wait_http(qbo.part, qbo.discovery_url)
    children.wait_http(crm.part, f"{crm.url}/_sandbox/stats")
    return qbo, crm


def connect_qbo(settings: Settings, tenant: str) -> str:
    """Connect `tenant` to QBO through our OAuth flow, as an admin's browser would; the realm id.

    Authorization URL → the sandbox's authorize page (its first user has one company, so it
    redirects straight back) → `complete_connect` with the code, state and realmId of that
    redirect: the tokens land encrypted in the vault under the data dir.
    """
    try:
        return asyncio.run(_connect(settings, tenant))
    except (OAuthError, httpx.HTTPError) as exc:
        raise StartFailed(f"connecting tenant {tenant} to the QBO sandbox failed: {exc}") from exc


async def _connect(settings: Settings, tenant: str) -> str:
    connector = QboConnector(settings)
    try:
        authorize = await connector.oauth.authorization_url(tenant)
        answer = await connector.http.get(authorize, follow_redirects=False)
        back = answer.headers.get("location", "")
        if answer.status_code != 302 or not back.startswith(settings.qbo_redirect_uri):
            raise StartFailed(
                f"the QBO sandbox's authorize page answered {answer.status_code} instead of "
                "redirecting back (does its first user have exactly one company?)"
            )
        query = dict(parse_qsl(urlsplit(back).query))
        tokens = await connector.oauth.complete_connect(
            code=query.get("code"),
            state=query.get("state", ""),
            realm_id=query.get("realmId"),
            error=query.get("error"),
        )
        return tokens.realm_id
    finally:
        await connector.aclose()


def crm_account_env(tenant: str, crm: CrmSandbox) -> dict[str, str]:
    """What a worker needs to act in the tenant's CRM account: its URL and keys."""
    return {
        "QBSYNC_CRM_BASE_URLS": f"{tenant}={crm.api_url}",
        "QBSYNC_CRM_API_KEYS": f"{tenant}={crm.config.admin_api_key}",
        "QBSYNC_CRM_APP_KEY": crm.config.app_key,
    }


def register_qbo_webhook(qbo: QboSandbox, url: str) -> None:
    _ok(httpx.put(f"{qbo.url}/_sandbox/webhooks", json={"urls": [url]}), "QBO sandbox webhooks")


def register_crm_webhooks(crm: CrmSandbox, url: str, children: Children) -> None:
    """Webhooks for person/company/deal x create/update/destroy → `url` (the admin API)."""
    keys = {"api_key": crm.config.admin_api_key, "app_key": crm.config.app_key}
    with httpx.Client(base_url=crm.api_url, params=keys, timeout=10.0) as http:
        for model, action in CRM_WEBHOOKS:
            hook = {
                "event_model": model,
                "event_action": action,
                "url": url,
                "failure_email": crm.config.admin_email,
            }
            for _attempt in range(5):  # 10 requests/s per key: wait out a 429, a few times
                answer = http.post("admin/webhooks.json", json={"webhook": hook})
                if answer.status_code != 429:
                    break
                children.stop.wait(1.0)
            _ok(answer, f"CRM webhook {model}/{action}")


def _ok(answer: httpx.Response, what: str) -> Any:
    if answer.status_code >= 300:
        raise StartFailed(f"{what}: the sandbox answered {answer.status_code} {answer.text[:200]}")
    return answer.json()
