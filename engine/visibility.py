"""Who may see which invoices and estimates (SYNC-RULES 3, visibility).

- Created from the CRM (origin `crm`): everyone who can see the deal. Whether a user can see a
  deal is the CRM's own rule, not ours: the CRM shows these documents on deals it already lets
  the user see, so here they are visible to every user.
- Created directly in QBO (origin `qbo`: imported, or arriving later), by the tenant's setting:
  `admin` admins only; `everyone` every user; `installation_owner` the user who installed the
  integration, and admins.

Pure: the query layer turns `visible_origins` into a filter, so a hidden document is never read.
"""

from __future__ import annotations

from typing import Literal

from schemas.requests import Actor
from schemas.settings import Visibility

Origin = Literal["crm", "qbo"]
ORIGINS: tuple[Origin, ...] = ("crm", "qbo")


def may_see(
    viewer: Actor, origin: Origin, visibility: Visibility, owner_user_id: int | None
) -> bool:
    """Whether `viewer` may see a document of `origin`, under the tenant's `visibility`."""
    if origin == "crm" or viewer.is_admin:
        return True
    if visibility == "everyone":
        return True
    if visibility == "installation_owner":
        return owner_user_id is not None and viewer.user_id == owner_user_id
    return False


def visible_origins(
    viewer: Actor, visibility: Visibility, owner_user_id: int | None
) -> frozenset[Origin]:
    """The origins whose documents `viewer` may see: the rule as a set a query can filter on."""
    return frozenset(
        origin for origin in ORIGINS if may_see(viewer, origin, visibility, owner_user_id)
    )
