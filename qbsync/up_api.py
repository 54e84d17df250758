"""`qbsync up`'s HTTP API: the environment that turns on every part of `qbsync api` for the demo
tenant (CRM ingest, CRM webhooks, QBO webhook bridge and CDC sweeps), and its start.

The secret key is not passed: the api and this process both use QBSYNC_SECRET_KEY when it is
set, else the same development key file under the data dir, so the api can open the tokens the
connect stored. The ingest key and the CRM webhook token are generated for each run.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from qbsync.config import Settings
from qbsync.logs import register_secret
from qbsync.up_children import HOST, Children, Part
from qbsync.up_sandboxes import CrmSandbox, QboSandbox

CDC_INTERVAL_S = 60.0
CALLBACK_PATH = "/v1/qbo/oauth/callback"


@dataclass(frozen=True)
class DemoKeys:
    """Per-run shared secrets of the demo tenant (the ingest key is shown; the token is not)."""

    ingest_key: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    crm_webhook_token: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)

    def __post_init__(self) -> None:
        register_secret(self.ingest_key)
        register_secret(self.crm_webhook_token)


@dataclass(frozen=True)
class Api:
    part: Part
    url: str
    parts: list[str]

    @property
    def qbo_webhook_url(self) -> str:
        return f"{self.url}/v1/qbo/webhooks"

    def crm_webhook_url(self, tenant: str) -> str:
        return f"{self.url}/v1/crm/webhooks/{tenant}"


def qbo_app_env(qbo: QboSandbox, api_port: int) -> dict[str, str]:
    """Our Intuit app, pointed at the sandbox; the redirect URI is the api's (loopback) callback."""
    return {
        "QBSYNC_QBO_BASE_URL": qbo.url,
        "QBSYNC_QBO_DISCOVERY_URL": qbo.discovery_url,
        "QBSYNC_QBO_CLIENT_ID": qbo.config.client_id,
        "QBSYNC_QBO_CLIENT_SECRET": qbo.config.client_secret,
        "QBSYNC_QBO_REDIRECT_URI": f"http://{HOST}:{api_port}{CALLBACK_PATH}",
    }


def settings_with(env: dict[str, str]) -> Settings:
    """Settings as a child given `env` (QBSYNC_* overrides on top of ours) would read them."""
    overrides: dict[str, Any] = {k.removeprefix("QBSYNC_").lower(): v for k, v in env.items()}
    return Settings(**overrides)


def start_api(
    children: Children,
    port: int,
    *,
    tenant: str,
    qbo: QboSandbox,
    realm_id: str,
    crm: CrmSandbox,
    keys: DemoKeys,
) -> Api:
    env = {
        **children.env,
        **qbo_app_env(qbo, port),
        "QBSYNC_HTTP_HOST": HOST,
        "QBSYNC_HTTP_PORT": str(port),
        "QBSYNC_QBO_WEBHOOK_VERIFIER_TOKEN": qbo.config.webhook_verifier_token,
        "QBSYNC_QBO_REALM_TENANTS": f"{realm_id}={tenant}",
        "QBSYNC_QBO_CDC_INTERVAL_S": str(CDC_INTERVAL_S),
        "QBSYNC_CRM_BASE_URL": crm.api_url,
        "QBSYNC_CRM_API_KEY": crm.config.admin_api_key,
        "QBSYNC_CRM_APP_KEY": crm.config.app_key,
        "QBSYNC_CRM_TENANT": tenant,
        "QBSYNC_CRM_WEBHOOK_TOKENS": f"{tenant}={keys.crm_webhook_token}",
        "QBSYNC_INGEST_KEYS": f"{tenant}={keys.ingest_key}",
    }
    url = f"http://{HOST}:{port}"
    part = children.spawn("api", ["api"], env)
    health = children.wait_http(part, f"{url}/healthz")
    return Api(part, url, list(health.get("parts", [])))
