"""A customer link: one CRM person joined to one QBO customer (SYNC-RULES 1, 4.6, 5); its events
and their fold. The commands are in `store.link_commands`.

Snapshots are plain JSON as each system sent them; mapped values are keyed by dotted field path
(`BillAddr.Line1`, `custom_fields.custom_label_12`). The echo memory (`written_to_crm`,
`written_to_qbo`) is what the engine last wrote to each side and that side's version after it.
"""

from __future__ import annotations

from functools import singledispatch
from typing import Any, Literal
from uuid import UUID

from schemas.common import TenantId
from schemas.settings import FieldPair
from store.model import (
    Aggregate,
    AwareTime,
    DomainEvent,
    Immutable,
    JsonDict,
    created,
    does_not_apply,
    evolved,
    projector,
    stable_id,
    with_values,
)

LinkVia = Literal["import", "document", "email_match"]
Side = Literal["crm", "qbo"]


def link_id(tenant: str, person_id: int) -> UUID:
    return stable_id("customer-link", tenant, person_id)


class Written(Immutable):
    """Echo memory of one side: the values the engine wrote and the version they produced."""

    values: JsonDict
    version: str | None = None


class FieldConflict(Immutable):
    """Both sides set one mapped field differently; `kept` says whose value won."""

    pair: FieldPair
    crm_value: Any
    qbo_value: Any
    kept: Side
    crm_changed_at: AwareTime | None = None
    qbo_changed_at: AwareTime | None = None


class CustomerLink(Aggregate):
    tenant: str
    person_id: int
    customer_id: str
    realm_id: str
    via: LinkVia
    status: Literal["active", "inactive", "ended"] = "active"
    crm: JsonDict
    qbo: JsonDict
    qbo_sync_token: str
    first_import_done: bool = False
    conflicts: tuple[FieldConflict, ...] = ()
    written_to_crm: Written | None = None
    written_to_qbo: Written | None = None
    former_customer_ids: tuple[str, ...] = ()


class Linked(DomainEvent):
    tenant: TenantId
    person_id: int
    customer_id: str
    realm_id: str
    via: LinkVia
    crm: JsonDict
    qbo: JsonDict
    qbo_sync_token: str


class FirstImportCompleted(DomainEvent):
    merged: JsonDict
    conflicts: tuple[FieldConflict, ...] = ()


class SyncedFromQbo(DomainEvent):
    crm_values: JsonDict
    cleared: tuple[str, ...] = ()
    qbo_sync_token: str
    qbo: JsonDict | None = None
    crm_version: str | None = None


class SyncedFromCrm(DomainEvent):
    qbo_values: JsonDict
    qbo_sync_token: str
    crm: JsonDict | None = None


class ConflictRecorded(DomainEvent):
    conflict: FieldConflict


class Unlinked(DomainEvent):
    reason: Literal["person_deleted"]
    customer_id: str


class MarkedInactive(DomainEvent):
    pass


class MovedToCustomer(DomainEvent):
    from_customer_id: str
    to_customer_id: str
    qbo: JsonDict | None = None
    qbo_sync_token: str | None = None


@singledispatch
def mutate_link(event: DomainEvent, state: CustomerLink | None) -> CustomerLink:
    raise does_not_apply(event, "CustomerLink")


@mutate_link.register
def _(event: Linked, _: None) -> CustomerLink:
    return CustomerLink(**created(event), **event.model_dump(exclude=set(DomainEvent.model_fields)))


@mutate_link.register
def _(event: FirstImportCompleted, state: CustomerLink) -> CustomerLink:
    return evolved(
        state,
        event,
        first_import_done=True,
        crm=with_values(state.crm, event.merged),
        conflicts=(*state.conflicts, *event.conflicts),
        written_to_crm=Written(values=event.merged),
    )


@mutate_link.register
def _(event: SyncedFromQbo, state: CustomerLink) -> CustomerLink:
    written = {**event.crm_values, **dict.fromkeys(event.cleared)}
    return evolved(
        state,
        event,
        crm=with_values(state.crm, written),
        qbo=event.qbo if event.qbo is not None else state.qbo,
        qbo_sync_token=event.qbo_sync_token,
        written_to_crm=Written(values=written, version=event.crm_version),
    )


@mutate_link.register
def _(event: SyncedFromCrm, state: CustomerLink) -> CustomerLink:
    return evolved(
        state,
        event,
        crm=event.crm if event.crm is not None else state.crm,
        qbo=with_values(state.qbo, event.qbo_values),
        qbo_sync_token=event.qbo_sync_token,
        written_to_qbo=Written(values=event.qbo_values, version=event.qbo_sync_token),
    )


@mutate_link.register
def _(event: ConflictRecorded, state: CustomerLink) -> CustomerLink:
    return evolved(state, event, conflicts=(*state.conflicts, event.conflict))


@mutate_link.register
def _(event: Unlinked, state: CustomerLink) -> CustomerLink:
    return evolved(state, event, status="ended")


@mutate_link.register
def _(event: MarkedInactive, state: CustomerLink) -> CustomerLink:
    return evolved(state, event, status="inactive")


@mutate_link.register
def _(event: MovedToCustomer, state: CustomerLink) -> CustomerLink:
    return evolved(
        state,
        event,
        status="active",
        customer_id=event.to_customer_id,
        former_customer_ids=(*state.former_customer_ids, event.from_customer_id),
        qbo=event.qbo if event.qbo is not None else state.qbo,
        qbo_sync_token=event.qbo_sync_token or state.qbo_sync_token,
    )


project_link = projector(mutate_link)
