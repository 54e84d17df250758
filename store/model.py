"""The building blocks of every aggregate here, in the style of eventsourcing's aggregate7 example.

Events are frozen pydantic models; commands are plain functions that take the current state and
return new events (or None when nothing changes); one `singledispatch` function per aggregate folds
events into a new frozen state. Nothing here does I/O: `store.app` loads, calls and saves.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Annotated, Any, TypeAlias, TypeVar
from uuid import UUID

from eventsourcing.domain import datetime_now_with_tzinfo
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from engine.ids import QBSYNC_NAMESPACE
from schemas.requests import Actor

JsonDict: TypeAlias = dict[str, Any]
"""A record as plain JSON (a snapshot, or mapped values keyed by field path)."""


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamps must carry a timezone")
    return value


AwareTime = Annotated[datetime, AfterValidator(_aware)]


class Immutable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DomainEvent(Immutable):
    """Something that happened to one aggregate; its version is its place in that history."""

    originator_id: UUID
    originator_version: int = Field(ge=1)
    timestamp: AwareTime = Field(default_factory=datetime_now_with_tzinfo)


class Aggregate(Immutable):
    id: UUID
    version: int
    created_on: datetime
    modified_on: datetime


class DomainError(Exception):
    """A command was refused by a rule of the domain; the message says which and why."""


class NotAllowed(DomainError):
    """The actor may not do this (SYNC-RULES 2: only admins change settings, connect, ...)."""


class InvalidTransition(DomainError):
    """The aggregate is not in a state where this command makes sense."""


def stable_id(kind: str, *parts: str | int) -> UUID:
    """uuid5 of a kind and its natural key: the same tenant/person always gives the same id."""
    return uuid.uuid5(QBSYNC_NAMESPACE, "\x1f".join([kind, *(str(part) for part in parts)]))


def require_admin(actor: Actor, action: str) -> None:
    if not actor.is_admin:
        raise NotAllowed(f"user {actor.user_id} is not an admin; only admins may {action}")


def first(aggregate_id: UUID) -> dict[str, Any]:
    """originator fields of the event that creates an aggregate."""
    return {"originator_id": aggregate_id, "originator_version": 1}


def following(aggregate: Aggregate) -> dict[str, Any]:
    """originator fields of the next event of an existing aggregate."""
    return {"originator_id": aggregate.id, "originator_version": aggregate.version + 1}


def created(event: DomainEvent) -> dict[str, Any]:
    """Aggregate fields set by the event that creates it."""
    return {
        "id": event.originator_id,
        "version": event.originator_version,
        "created_on": event.timestamp,
        "modified_on": event.timestamp,
    }


A = TypeVar("A", bound=Aggregate)


def evolved(aggregate: A, event: DomainEvent, **changes: Any) -> A:
    """A copy of `aggregate` at the event's version with `changes` applied (frozen models)."""
    return aggregate.model_copy(
        update={"version": event.originator_version, "modified_on": event.timestamp, **changes}
    )


Mutator = Callable[[DomainEvent, A | None], A]


def projector(mutate: Mutator[A]) -> Callable[[A | None, Iterable[DomainEvent]], A | None]:
    """The library's projector function for a singledispatch mutator (aggregate7's helper)."""

    def project(aggregate: A | None, events: Iterable[DomainEvent]) -> A | None:
        for event in events:
            aggregate = mutate(event, aggregate)
        return aggregate

    return project


def does_not_apply(event: DomainEvent, to: str) -> TypeError:
    return TypeError(f"{type(event).__name__} is not an event of {to}")
