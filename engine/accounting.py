"""How a decision accounts for its input (SYNC-RULES 7): applied with its commands, deliberately
ignored with the reason, or a request denied with the rule that refused it.

Decision and command ids derive from the input id and an action name, so a redelivered input
yields the very same decision and commands, which downstream consumers dedupe on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.ids import derived_id
from schemas.decisions import (
    DenialCode,
    IgnoreReason,
    InputApplied,
    InputAppliedData,
    InputIgnored,
    InputIgnoredData,
    RequestDenied,
    RequestDeniedData,
)
from schemas.envelope import Envelope, type_of
from schemas.requests import RequestData

ENGINE_SOURCE = "/qbsync/engine"


@dataclass(frozen=True)
class Decision:
    events: tuple[Envelope, ...] = ()
    commands: tuple[Envelope, ...] = ()


def decision_meta(
    event: Envelope, action: str, now: datetime, subject: str | None = None
) -> dict[str, Any]:
    """Envelope fields of what the engine decides about `event`: a deterministic id, the cause."""
    return {
        "id": derived_id(event.id, action),
        "source": ENGINE_SOURCE,
        "subject": subject if subject is not None else event.subject,
        "time": now,
        "tenant": event.tenant,
        "correlationid": event.correlationid or event.id,
        "causationid": event.id,
    }


def ignored(
    event: Envelope,
    reason: IgnoreReason,
    detail: str,
    now: datetime,
    *events: Envelope,
) -> Decision:
    accounted = InputIgnored(
        **decision_meta(event, "decision", now),
        data=InputIgnoredData(
            input_id=event.id, input_type=type_of(type(event)), reason=reason, detail=detail
        ),
    )
    return Decision(events=(*events, accounted))


def applied(
    event: Envelope, now: datetime, events: tuple[Envelope, ...], commands: tuple[Envelope, ...]
) -> Decision:
    accounted = InputApplied(
        **decision_meta(event, "decision", now),
        data=InputAppliedData(
            input_id=event.id,
            input_type=type_of(type(event)),
            command_ids=tuple(command.id for command in commands),
        ),
    )
    return Decision(events=(*events, accounted), commands=commands)


def request_denied(
    event: Envelope, code: DenialCode, reason: str, now: datetime, subject: str | None = None
) -> RequestDenied:
    """A request refused by a rule; `reason` says which, for the person who asked."""
    data = event.data
    assert isinstance(data, RequestData)
    return RequestDenied(
        **decision_meta(event, "decision", now, subject),
        data=RequestDeniedData(
            input_id=event.id,
            input_type=type_of(type(event)),
            code=code,
            reason=reason,
            actor_user_id=data.actor.user_id,
        ),
    )
