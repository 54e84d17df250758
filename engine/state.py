"""What the decider knows about one tenant when it decides. The shell loads it, not the engine."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.link_state import LinkState
from schemas.settings import IntegrationSettings


@dataclass(frozen=True)
class TenantState:
    """An installation as the decider sees it, with the one link the input concerns (if any)."""

    installed: bool = False
    enabled: bool = False
    settings: IntegrationSettings = field(default_factory=IntegrationSettings)
    realm_id: str | None = None
    link: LinkState | None = None
