"""Runtime configuration: every knob is a `QBSYNC_*` environment variable with a documented default.

The README's variable table is generated from this model (`qbsync config --markdown`) and a test
keeps the two in step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "QBSYNC_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    kafka_bootstrap: str | None = Field(
        default=None,
        description="Kafka bootstrap servers (host:port,...). Unset: `qbsync up` starts the "
        "embedded broker and tests choose testcontainers Kafka or the embedded broker.",
    )
    embedded_broker_port: int | None = Field(
        default=None, description="Port of the embedded broker; unset picks a free loopback port."
    )
    data_dir: Path = Field(default=Path(".qbsync"), description="Local state: store, logs.")
    store_url: str = Field(
        default="",
        description="Aggregate store: sqlite:///PATH or postgresql://... (production). "
        "Unset: sqlite:///<data_dir>/store.db.",
    )
    projections_url: str = Field(
        default="",
        description="Where `qbsync api` keeps its projections: sqlite:///PATH or postgresql://... "
        "Unset: sqlite:///<data_dir>/projections.db.",
    )
    projections_group: str = Field(
        default="qbsync-projections",
        description="Consumer group of the projection runner: every `qbsync api` sharing one "
        "projections database must share it; one with its own database needs its own group.",
    )
    app_id: str = Field(
        default="qbsync",
        description="Faust app id = Kafka consumer group; keep it stable (it names changelogs).",
    )
    topic_partitions: int = Field(default=8, ge=1, description="Partitions of each qbsync topic.")
    topic_replication: int = Field(default=1, ge=1, description="Replication factor of topics.")
    worker_web_port: int = Field(
        default=6066, description="Faust worker web port; each worker on a host needs its own."
    )
    broker_session_timeout_s: float = Field(
        default=8.0,
        description="Consumer group session timeout. The embedded broker takes half of it to "
        "complete a group join, so keep it short locally; Kafka defaults suit production.",
    )
    broker_heartbeat_s: float = Field(default=2.0, description="Consumer heartbeat interval.")
    decider_batch_max: int = Field(
        default=500, ge=1, description="Most inputs the decider takes per batch (one ack wait)."
    )
    decider_batch_wait_ms: int = Field(
        default=20, ge=1, description="How long the decider waits to fill a batch when idle."
    )
    executor_batch_max: int = Field(
        default=100,
        ge=1,
        description="Most commands the executor takes per batch; different tenants' commands in "
        "a batch run concurrently, each tenant's in order.",
    )
    executor_batch_wait_ms: int = Field(
        default=20, ge=1, description="How long the executor waits to fill a batch when idle."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Log level."
    )
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="auto = console on a terminal, JSON lines otherwise."
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Urlsafe base64 of 32 random bytes: encrypts QBO tokens at rest and signs "
        "OAuth state. Unset (development only): generated once into `<data_dir>/secret.key`.",
    )
    qbo_base_url: str = Field(
        default="https://quickbooks.api.intuit.com",
        description="QBO API host (the /v3 API lives below it); the sandbox's URL in development.",
    )
    qbo_discovery_url: str = Field(
        default="https://developer.api.intuit.com/.well-known/openid_configuration",
        description="Intuit's OpenID discovery document (authorize, token and revoke endpoints).",
    )
    qbo_client_id: str | None = Field(
        default=None, description="Client id of the Intuit developer app."
    )
    qbo_client_secret: SecretStr | None = Field(
        default=None, description="Client secret of the Intuit developer app."
    )
    qbo_redirect_uri: str = Field(
        default="http://127.0.0.1:8700/v1/qbo/oauth/callback",
        description="OAuth redirect URI registered with the Intuit app (the connect callback).",
    )
    qbo_rate_per_second: int = Field(
        default=10, ge=1, description="Client-side cap on QBO requests per second per realm."
    )
    qbo_rate_per_minute: int = Field(
        default=500, ge=1, description="Client-side cap on QBO requests per minute per realm."
    )
    qbo_batch_per_minute: int = Field(
        default=40, ge=1, description="Client-side cap on QBO batch requests per minute per realm."
    )
    qbo_timeout_s: float = Field(default=30.0, gt=0, description="Timeout of one QBO API call.")
    qbo_max_attempts: int = Field(
        default=5, ge=1, description="Tries of a QBO call that failed transiently (5xx, timeout)."
    )
    qbo_throttle_pause_s: float = Field(
        default=60.0,
        gt=0,
        description="Pause of a realm after a 429 without Retry-After (Intuit says 60 s).",
    )
    qbo_webhook_verifier_token: SecretStr | None = Field(
        default=None,
        description="The app's webhook verifier token (Intuit developer portal); the bridge "
        "refuses every webhook while it is unset.",
    )
    qbo_realm_tenants: str = Field(
        default="",
        description="Which tenant each QBO realm belongs to: realm=tenant,realm=tenant. Until "
        "installations carry it (customer sync), the bridge routes by this map.",
    )
    qbo_cdc_interval_s: float = Field(
        default=300.0, gt=0, description="Seconds between CDC sweeps of every connected realm."
    )
    http_host: str = Field(default="127.0.0.1", description="Address the HTTP API listens on.")
    http_port: int = Field(
        default=8700, description="Port of the HTTP API (QBO webhooks, OAuth callback, ...)."
    )
    crm_base_url: str = Field(
        default="https://api.pipelinecrm.com/api/v3",
        description="Pipeline CRM API root (with /api/v3); the CRM sandbox's in development.",
    )
    crm_api_key: SecretStr | None = Field(
        default=None, description="Pipeline CRM api_key of the user the engine acts as."
    )
    crm_app_key: SecretStr | None = Field(
        default=None, description="Pipeline CRM app_key of the registered integration app."
    )
    crm_api_keys: SecretStr | None = Field(
        default=None,
        description="Pipeline CRM api_key per tenant: tenant=key,... (the user the executor acts "
        "as in each CRM account). QBSYNC_CRM_API_KEY serves QBSYNC_CRM_TENANT if it is not listed.",
    )
    crm_base_urls: str = Field(
        default="",
        description="Pipeline CRM API root per tenant: tenant=url,...; a tenant not listed uses "
        "QBSYNC_CRM_BASE_URL.",
    )
    crm_rate_per_second: int = Field(
        default=10, ge=1, description="Client-side cap on CRM requests per second per api_key."
    )
    crm_timeout_s: float = Field(default=30.0, gt=0, description="Timeout of one CRM API call.")
    crm_max_attempts: int = Field(
        default=5, ge=1, description="Tries of a CRM call that failed transiently (5xx, timeout)."
    )
    crm_tenant: str | None = Field(
        default=None,
        description="The tenant the configured CRM key belongs to (webhook reads, the poller). "
        "Until installations carry CRM credentials (customer sync), one CRM account per process.",
    )
    crm_webhook_tokens: SecretStr | None = Field(
        default=None,
        description="Secret token per tenant for CRM webhook URLs: tenant=token,... "
        "(register /v1/crm/webhooks/{tenant}?token=...; Pipeline signs nothing).",
    )
    crm_poll_interval_s: float | None = Field(
        default=None,
        gt=0,
        description="Poll the CRM this often (when webhooks are off); unset: no poller.",
    )
    crm_sweep_every: int = Field(
        default=10, ge=1, description="A full id sweep (hard-delete detection) every N polls."
    )
    ingest_keys: SecretStr | None = Field(
        default=None,
        description="HTTP ingest keys per tenant: tenant=key,... (Bearer token of "
        "POST /v1/tenants/{tenant}/crm-events).",
    )

    @property
    def store_location(self) -> str:
        """The store URL in effect (unset: a SQLite file in the data dir)."""
        return self.store_url or f"sqlite:///{self.data_dir}/store.db"


def env_var_table() -> list[tuple[str, str, str]]:
    """(variable, default, description) for every setting, for the README."""
    rows = []
    for name, info in Settings.model_fields.items():
        default = "unset" if info.default is None else str(info.default)
        rows.append((f"{ENV_PREFIX}{name.upper()}", default, info.description or ""))
    return rows


def env_var_markdown() -> str:
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    lines += [f"| `{var}` | `{default}` | {text} |" for var, default, text in env_var_table()]
    return "\n".join(lines)
