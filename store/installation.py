"""The installation: one per tenant (SYNC-RULES 2). Starts disabled; only admins change it."""

from __future__ import annotations

from collections.abc import Mapping
from functools import singledispatch
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from schemas.common import TenantId
from schemas.requests import Actor
from schemas.settings import IntegrationSettings
from store.model import (
    Aggregate,
    DomainError,
    DomainEvent,
    InvalidTransition,
    created,
    does_not_apply,
    evolved,
    first,
    following,
    projector,
    require_admin,
    stable_id,
)


def installation_id(tenant: str) -> UUID:
    return stable_id("installation", tenant)


class Installation(Aggregate):
    tenant: str
    crm_account_id: int
    owner_user_id: int
    realm_id: str | None = None
    settings: IntegrationSettings = IntegrationSettings()
    enabled: bool = False
    uninstalled: bool = False

    @property
    def connected(self) -> bool:
        return self.realm_id is not None


class Installed(DomainEvent):
    tenant: TenantId
    crm_account_id: int
    owner_user_id: int


class Connected(DomainEvent):
    realm_id: str


class Disconnected(DomainEvent):
    """Tokens revoked. The integration cannot run without a connection, so this also disables."""


class SettingsSaved(DomainEvent):
    settings: IntegrationSettings


class Enabled(DomainEvent):
    pass


class Disabled(DomainEvent):
    pass


class Uninstalled(DomainEvent):
    """Everything stops for the tenant; the history stays."""


class NotConnected(InvalidTransition):
    """Enabling (or importing) needs a QBO connection first."""


class InvalidSettings(DomainError):
    """Settings rejected when saved, not when first used (SYNC-RULES 3)."""


def install(
    tenant: str, crm_account_id: int, actor: Actor, current: Installation | None = None
) -> Installed:
    """Install for a CRM account; the installer owns it. A reinstall after uninstall starts over."""
    require_admin(actor, "install the integration")
    if current is not None and not current.uninstalled:
        raise InvalidTransition(f"tenant {tenant!r} is already installed")
    origin = following(current) if current else first(installation_id(tenant))
    return Installed(
        **origin, tenant=tenant, crm_account_id=crm_account_id, owner_user_id=actor.user_id
    )


def _live(installation: Installation, actor: Actor, action: str) -> None:
    if installation.uninstalled:
        raise InvalidTransition(f"tenant {installation.tenant!r} is uninstalled; cannot {action}")
    require_admin(actor, action)


def connect(installation: Installation, actor: Actor, realm_id: str) -> Connected | None:
    _live(installation, actor, "connect QuickBooks")
    if installation.realm_id == realm_id:
        return None
    if installation.connected:
        raise InvalidTransition(
            f"already connected to realm {installation.realm_id}; disconnect before "
            f"connecting realm {realm_id}"
        )
    return Connected(**following(installation), realm_id=realm_id)


def disconnect(installation: Installation, actor: Actor) -> Disconnected | None:
    _live(installation, actor, "disconnect QuickBooks")
    return Disconnected(**following(installation)) if installation.connected else None


def save_settings(
    installation: Installation, actor: Actor, settings: IntegrationSettings | Mapping[str, Any]
) -> SettingsSaved:
    _live(installation, actor, "change settings")
    if not isinstance(settings, IntegrationSettings):
        try:
            settings = IntegrationSettings.model_validate(settings)
        except ValidationError as error:
            raise InvalidSettings(f"settings rejected: {error}") from error
    return SettingsSaved(**following(installation), settings=settings)


def enable(installation: Installation, actor: Actor) -> Enabled | None:
    _live(installation, actor, "enable the integration")
    if not installation.connected:
        raise NotConnected(f"tenant {installation.tenant!r} is not connected to QuickBooks")
    return None if installation.enabled else Enabled(**following(installation))


def disable(installation: Installation, actor: Actor) -> Disabled | None:
    _live(installation, actor, "disable the integration")
    return Disabled(**following(installation)) if installation.enabled else None


def uninstall(installation: Installation, actor: Actor) -> Uninstalled | None:
    require_admin(actor, "uninstall the integration")
    return None if installation.uninstalled else Uninstalled(**following(installation))


@singledispatch
def mutate_installation(event: DomainEvent, state: Installation | None) -> Installation:
    raise does_not_apply(event, "Installation")


@mutate_installation.register
def _(event: Installed, _: Installation | None) -> Installation:
    # A reinstall starts from a clean, disabled installation (the old history stays stored).
    fields = event.model_dump(include={"tenant", "crm_account_id", "owner_user_id"})
    return Installation(**created(event), **fields)


@mutate_installation.register
def _(event: Connected, state: Installation) -> Installation:
    return evolved(state, event, realm_id=event.realm_id)


@mutate_installation.register
def _(event: Disconnected, state: Installation) -> Installation:
    return evolved(state, event, realm_id=None, enabled=False)


@mutate_installation.register
def _(event: SettingsSaved, state: Installation) -> Installation:
    return evolved(state, event, settings=event.settings)


@mutate_installation.register
def _(event: Enabled, state: Installation) -> Installation:
    return evolved(state, event, enabled=True)


@mutate_installation.register
def _(event: Disabled, state: Installation) -> Installation:
    return evolved(state, event, enabled=False)


@mutate_installation.register
def _(event: Uninstalled, state: Installation) -> Installation:
    return evolved(state, event, enabled=False, uninstalled=True)


project_installation = projector(mutate_installation)
