"""What the executor needs: a gateway per tenant for each remote system, and a clock.

Factories, not gateways: one executor serves every tenant, and each tenant has its own QBO realm
(and tokens) and its own CRM account (and api key). A factory is called for every command, so it
should hand out cheap clients over shared connections and shared per-realm / per-key limiters
(`adapters.executor.wiring` does that for production).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from adapters.crm.ports import CrmGateway
from adapters.qbo.ports import QboGateway

Clock = Callable[[], datetime]


class CrmNotConfiguredError(LookupError):
    """No CRM credentials for this tenant: the command fails as `not_connected`."""


class QboGateways(Protocol):
    def __call__(self, tenant: str, realm_id: str, /) -> QboGateway:
        """The QBO gateway of `tenant`'s connection to `realm_id` (tokens are read per call)."""
        ...


class CrmGateways(Protocol):
    def __call__(self, tenant: str, /) -> CrmGateway:
        """The CRM gateway acting for `tenant`; raises CrmNotConfiguredError if there is none."""
        ...
