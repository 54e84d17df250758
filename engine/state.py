"""What the decider knows about one tenant when it decides. The shell loads it, not the engine."""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas.settings import IntegrationSettings


@dataclass(frozen=True)
class TenantState:
    """An installation as the decider sees it.

    Customer links join this state with the customer-sync work (issue 5); until then no CRM person
    is linked, which is what the rules say for a tenant that has run no import.
    """

    installed: bool = False
    enabled: bool = False
    settings: IntegrationSettings = field(default_factory=IntegrationSettings)
