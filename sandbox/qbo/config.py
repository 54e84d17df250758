"""The sandbox's developer app and company setup, as Intuit's developer portal would show it.

Every field can be set by a `QBSYNC_QBO_SANDBOX_*` variable or a `qbsync sandbox qbo` flag.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Intuit's schedule after a failed delivery (reference/qbo-api.md section 6); then every 6 h.
QBO_WEBHOOK_RETRY_SCHEDULE_S: tuple[float, ...] = (0, 10, 20, 30, 300, 1200, 7200, 14400, 21600)


class SandboxRealm(BaseModel):
    realm_id: str = Field(pattern=r"^\d+$")
    company_name: str


class SandboxUser(BaseModel):
    """A person who can sign in on the authorize page, and the companies they can connect."""

    username: str
    realm_ids: list[str]


class QboSandboxConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QBSYNC_QBO_SANDBOX_", extra="ignore")

    client_id: str = Field(default="ABqbsyncDevClientId0000000000000000000000000000000")
    client_secret: str = Field(default="qbsync-dev-client-secret-0000000000000000")
    webhook_verifier_token: str = Field(default="qbsync-dev-verifier-token-0000")
    redirect_uris: list[str] = Field(
        default_factory=lambda: [
            "http://127.0.0.1:8700/v1/qbo/oauth/callback",
            "http://localhost:8700/v1/qbo/oauth/callback",
        ]
    )
    webhook_urls: list[str] = Field(default_factory=list)
    webhook_format: Literal["legacy", "cloudevents"] = "cloudevents"
    webhook_batch_window_s: float = Field(default=5.0, ge=0)
    # Intuit expects a 2xx within 3 s; a slower answer is a failed delivery.
    webhook_timeout_s: float = Field(default=3.0, gt=0)
    # Multiplies every webhook delay (batch window aside): 0.001 turns hours into seconds.
    time_scale: float = Field(default=1.0, gt=0)
    rate_per_minute: int = Field(default=500, ge=1)
    rate_per_second: int = Field(default=10, ge=1)
    batch_requests_per_minute: int = Field(default=40, ge=1)
    batch_max_items: int = Field(default=30, ge=1)
    access_token_ttl_s: int = Field(default=3600, ge=1)
    refresh_token_ttl_s: int = Field(default=8_726_400, ge=1)
    # Intuit's 5-year hard cap on a grant's refresh tokens (policy of 2025-11).
    refresh_token_max_lifetime_s: int = Field(default=5 * 365 * 86_400, ge=1)
    authorization_code_ttl_s: int = Field(default=300, ge=1)
    # Also accept any http(s) redirect URI on 127.0.0.1/localhost/[::1] (tests on random ports).
    allow_loopback_redirects: bool = True
    # QBO's throttle faults have come back as XML even to JSON clients (reference section 9).
    throttle_fault_format: Literal["json", "xml"] = "json"
    utc_offset_hours: float = -8.0
    realms: list[SandboxRealm] = Field(
        default_factory=lambda: [
            SandboxRealm(realm_id="9130357766900456", company_name="Sandbox Company_US_1"),
            SandboxRealm(realm_id="9130357766900457", company_name="Sandbox Company_US_2"),
        ]
    )
    users: list[SandboxUser] = Field(
        default_factory=lambda: [
            SandboxUser(username="admin", realm_ids=["9130357766900456"]),
            SandboxUser(username="accountant", realm_ids=["9130357766900456", "9130357766900457"]),
        ]
    )
    seed_customers: int = Field(default=0, ge=0, description="customers to seed in each realm")
    seed_random: int = Field(default=42, description="random seed of the seed data")
