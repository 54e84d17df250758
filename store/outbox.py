"""The outbox: what one input made the engine publish, recorded with that input's changes.

Outputs are published after the transaction that records them. A worker that dies in between
leaves the input unacknowledged; when it comes again the store says it was processed, and the
outbox gives back the very same outputs to publish again (their ids are deterministic, so a
consumer that saw them already dedupes). The executor keys its outbox by command id, which is
how a command is executed at most once per store however often Kafka delivers it.
"""

from __future__ import annotations

from functools import singledispatch
from uuid import UUID

from store.model import (
    Aggregate,
    DomainEvent,
    InvalidTransition,
    created,
    does_not_apply,
    first,
    projector,
    stable_id,
)


def outbox_id(tenant: str, key: str) -> UUID:
    return stable_id("outbox", tenant, key)


class Outbox(Aggregate):
    tenant: str
    key: str
    outputs: tuple[str, ...]


class OutputsRecorded(DomainEvent):
    tenant: str
    key: str
    outputs: tuple[str, ...] = ()


def record_outputs(tenant: str, key: str, outputs: tuple[str, ...]) -> OutputsRecorded:
    """The outputs (encoded envelopes, JSON text) of the input `key`; recorded once."""
    return OutputsRecorded(**first(outbox_id(tenant, key)), tenant=tenant, key=key, outputs=outputs)


@singledispatch
def mutate_outbox(event: DomainEvent, state: Outbox | None) -> Outbox:
    raise does_not_apply(event, "Outbox")


@mutate_outbox.register
def _(event: OutputsRecorded, state: Outbox | None) -> Outbox:
    if state is not None:
        raise InvalidTransition(f"the outputs of {event.key!r} are recorded already")
    return Outbox(**created(event), tenant=event.tenant, key=event.key, outputs=event.outputs)


project_outbox = projector(mutate_outbox)
