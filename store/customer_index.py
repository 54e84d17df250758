"""Which person a QBO customer is linked to, per tenant: the index behind `link_for_customer`.

A link is found by person directly (its id derives from tenant + person id). To find it by
customer, each (tenant, customer id) has a small `CustomerClaim` aggregate naming the person.
The store derives claim events from link events and records both in the same transaction, so
the index can never disagree with the links, and a customer can be claimed by one live link only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import singledispatch
from uuid import UUID

from schemas.common import TenantId
from schemas.decisions import LinkEnded, LinkMade, LinkMoved
from store.customer_link import CustomerLink, LinkDecisionRecorded
from store.model import (
    Aggregate,
    DomainEvent,
    InvalidTransition,
    created,
    does_not_apply,
    evolved,
    first,
    following,
    projector,
    stable_id,
)


def claim_id(tenant: str, customer_id: str) -> UUID:
    return stable_id("customer-claim", tenant, customer_id)


class CustomerClaim(Aggregate):
    tenant: str
    customer_id: str
    person_id: int | None


class CustomerClaimed(DomainEvent):
    tenant: TenantId
    customer_id: str
    person_id: int


class CustomerReleased(DomainEvent):
    person_id: int


class CustomerAlreadyLinked(InvalidTransition):
    """SYNC-RULES 1: a link joins one person to one customer."""


def claim(
    current: CustomerClaim | None, tenant: str, customer: str, person: int
) -> DomainEvent | None:
    if current is not None and current.person_id == person:
        return None
    if current is not None and current.person_id is not None:
        raise CustomerAlreadyLinked(
            f"QBO customer {customer} of tenant {tenant!r} is already linked to person "
            f"{current.person_id}; cannot link it to person {person}"
        )
    origin = following(current) if current else first(claim_id(tenant, customer))
    return CustomerClaimed(**origin, tenant=tenant, customer_id=customer, person_id=person)


def release(current: CustomerClaim | None, _: str, __: str, person: int) -> DomainEvent | None:
    if current is None or current.person_id != person:
        return None
    return CustomerReleased(**following(current), person_id=person)


def claim_changes(
    events: Sequence[DomainEvent],
    load_claim: Callable[[UUID], CustomerClaim | None],
    load_link: Callable[[UUID], CustomerLink | None],
) -> list[DomainEvent]:
    """The claim events that keep the index in step with these link events."""
    claims: dict[UUID, CustomerClaim | None] = {}
    owners: dict[UUID, tuple[str, int]] = {}
    changes: list[DomainEvent] = []

    def apply(
        command: Callable[..., DomainEvent | None], tenant: str, customer: str, person: int
    ) -> None:
        key = claim_id(tenant, customer)
        if key not in claims:
            claims[key] = load_claim(key)
        event = command(claims[key], tenant, customer, person)
        if event is not None:
            claims[key] = mutate_claim(event, claims[key])
            changes.append(event)

    def owner(link_id: UUID) -> tuple[str, int]:
        if link_id not in owners:
            link = load_link(link_id)
            if link is None:
                raise LookupError(f"no customer link {link_id} to apply its event to")
            owners[link_id] = (link.tenant, link.person_id)
        return owners[link_id]

    for event in events:
        if not isinstance(event, LinkDecisionRecorded):
            continue
        decision = event.envelope()
        if isinstance(decision, LinkMade):
            tenant, person = decision.tenant, decision.data.person_id
            owners[event.originator_id] = (tenant, person)
            apply(claim, tenant, decision.data.customer_id, person)
        elif isinstance(decision, LinkMoved):
            tenant, person = owner(event.originator_id)
            apply(release, tenant, decision.data.customer_id, person)
            apply(claim, tenant, decision.data.to_customer_id, person)
        elif isinstance(decision, LinkEnded):
            tenant, person = owner(event.originator_id)
            apply(release, tenant, decision.data.customer_id, person)
    return changes


@singledispatch
def mutate_claim(event: DomainEvent, state: CustomerClaim | None) -> CustomerClaim:
    raise does_not_apply(event, "CustomerClaim")


@mutate_claim.register
def _(event: CustomerClaimed, state: CustomerClaim | None) -> CustomerClaim:
    if state is None:
        return CustomerClaim(
            **created(event),
            tenant=event.tenant,
            customer_id=event.customer_id,
            person_id=event.person_id,
        )
    return evolved(state, event, person_id=event.person_id)


@mutate_claim.register
def _(event: CustomerReleased, state: CustomerClaim) -> CustomerClaim:
    return evolved(state, event, person_id=None)


project_claim = projector(mutate_claim)
