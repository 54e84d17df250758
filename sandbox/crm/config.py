"""The sandbox's account, app and behaviour switches, as Pipeline's admin pages would show them.

Every field can be set by a `QBSYNC_CRM_SANDBOX_*` variable (or a `qbsync sandbox crm` flag).
Keys look like Pipeline's: a 20-character user api_key, a 32-hex app_key.
"""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

WebhookTense = Literal["present", "past"]


class CrmSandboxConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QBSYNC_CRM_SANDBOX_", extra="ignore")

    # The account admin whose api_key the engine is given.
    admin_api_key: str = Field(default="qbsyncCrmAdminKey001", min_length=8)
    admin_email: str = "admin@sandbox-crm.example.com"
    admin_first_name: str = "Sandy"
    admin_last_name: str = "Admin"
    # The registered app (API integrations page) every call must name with app_key.
    app_key: str = Field(default="5e1f0c0ffee0qbsync0crm0app0key01", min_length=8)
    app_name: str = "qbsync"
    app_id: int = 1738
    account_id: int = 482622
    account_name: str = "Sandbox Landscaping Co."
    account_key: str = "qbsyncCrmAccountKey0000000000000001"
    # Timestamps are shown, and condition dates read, in this zone (DST included).
    time_zone: str = "America/New_York"
    # Legacy PipelineDeals mode: api_key alone is enough ("Allow Unregistered API").
    allow_unregistered_app: bool = False

    rate_limit_per_second: int = Field(default=10, ge=1)
    # What one budget is shared by: each api_key (default) or the whole account.
    rate_limit_scope: Literal["api_key", "account"] = "api_key"
    per_page_default: int = Field(default=200, ge=1)
    per_page_max: int = Field(default=200, ge=1)

    # "present": create|update|destroy (the registration enum); "past": created|updated|deleted
    # (the legacy Automations doc). Which one Pipeline sends today is unknown (reference 4.2).
    webhook_action_tense: WebhookTense = "present"
    webhook_encoding: Literal["json", "form"] = "json"
    # Pipeline runs webhooks as background automations: the first POST comes a moment later.
    webhook_delay_s: float = Field(default=1.0, ge=0)
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    # No retry schedule is documented; this is a guess: 3 tries, 30 s then 60 s apart.
    webhook_max_attempts: int = Field(default=3, ge=1)
    webhook_retry_base_s: float = Field(default=30.0, ge=0)
    # Multiplies every webhook delay: 0.001 turns a minute into 60 ms for tests.
    time_scale: float = Field(default=1.0, gt=0)

    seed_people: int = Field(default=0, ge=0, description="people to seed at start")
    seed_random: int = Field(default=42, description="random seed of the seed data")

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)
