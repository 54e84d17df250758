"""A customer link: one CRM person joined to one QBO customer (SYNC-RULES 1, 4.6, 5).

The aggregate's events are the engine's link decisions themselves (`schemas.decisions.Link*`,
kept as their JSON), folded by `engine.link_state.fold_link`: the store holds exactly what the
decisions topic says, and a replay of that topic rebuilds the same state.
"""

from __future__ import annotations

from uuid import UUID

from engine.link_state import LinkState, fold_link
from schemas.catalog import parse_document
from schemas.decisions import LinkMade
from schemas.envelope import Envelope
from store.model import (
    Aggregate,
    DomainEvent,
    InvalidTransition,
    JsonDict,
    created,
    evolved,
    first,
    following,
    projector,
    stable_id,
)


def link_id(tenant: str, person_id: int) -> UUID:
    return stable_id("customer-link", tenant, person_id)


class CustomerLink(Aggregate):
    state: LinkState

    # Shortcuts to the fields most callers read.
    @property
    def tenant(self) -> str:
        return self.state.tenant

    @property
    def person_id(self) -> int:
        return self.state.person_id

    @property
    def customer_id(self) -> str:
        return self.state.customer_id

    @property
    def status(self) -> str:
        return self.state.status


class LinkDecisionRecorded(DomainEvent):
    decision: JsonDict  # the decision envelope, as on the decisions topic

    def envelope(self) -> Envelope:
        return parse_document(self.decision)


class LinkEnded(InvalidTransition):
    """The link ended (person deleted); only a new LinkMade restarts it."""


def record_link_decision(current: CustomerLink | None, decision: Envelope) -> LinkDecisionRecorded:
    """The store event for one link decision. Refuses what the link cannot take: anything but a
    LinkMade before the link exists, and a LinkMade over a live link (link it once)."""
    if isinstance(decision, LinkMade):
        if current is not None and current.status != "ended":
            raise InvalidTransition(
                f"person {current.person_id} is linked already (customer {current.customer_id})"
            )
        origin = (
            following(current)
            if current
            else first(link_id(decision.tenant, decision.data.person_id))
        )
    else:
        if current is None:
            raise InvalidTransition(f"{decision.type} {decision.id}: the person is not linked")
        if current.status == "ended":
            raise LinkEnded(f"the link of person {current.person_id} has ended")
        origin = following(current)
    return LinkDecisionRecorded(**origin, decision=decision.model_dump(mode="json"))


def mutate_link(event: DomainEvent, state: CustomerLink | None) -> CustomerLink:
    if not isinstance(event, LinkDecisionRecorded):
        raise TypeError(f"{type(event).__name__} is not an event of CustomerLink")
    decision = event.envelope()
    if state is None:
        return CustomerLink(**created(event), state=fold_link(None, decision))
    restart = isinstance(decision, LinkMade)
    return evolved(state, event, state=fold_link(None if restart else state.state, decision))


project_link = projector(mutate_link)
