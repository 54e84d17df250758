"""The decider step: parse → load state → decide() → emit. Nothing here decides anything.

A message that cannot be parsed, or whose key is not its tenant, or that makes `decide` raise,
is dead-lettered with the reason and its original bytes; the worker carries on.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

from engine.deadletter import RawMessage, dead_letter_for
from engine.decide import decide
from qbsync.logs import get_logger
from schemas.catalog import EventRejected, decode
from schemas.common import FieldError
from schemas.topics import COMMANDS_TOPIC, DEAD_LETTER, DECISIONS_TOPIC
from streams.ports import Clock, Publisher, StateLoader

log = get_logger(__name__)


class Handled(Enum):
    DECIDED = "decided"
    DEAD_LETTERED = "dead_lettered"


class DeciderStep:
    def __init__(self, publisher: Publisher, load_state: StateLoader, clock: Clock) -> None:
        self._publisher = publisher
        self._load_state = load_state
        self._clock = clock

    async def handle(self, message: RawMessage) -> Handled:
        try:
            event = decode(message.value)
        except EventRejected as exc:
            return await self._dead_letter(message, "parse", exc.reason, exc.errors)
        key = message.key.decode(errors="replace") if message.key is not None else None
        if key != event.tenant:
            # Keyed by anything but its tenant, an event could overtake the tenant's earlier ones.
            reason = f"message key {key!r} is not the event's tenant {event.tenant!r}"
            return await self._dead_letter(
                message, "parse", reason, (FieldError(field="(key)", message=reason),)
            )
        state = await self._load_state(event.tenant)
        try:
            decision = decide(state, event, state.settings, self._clock())
        except Exception as exc:  # a bug in one rule must not stop the tenant's other inputs
            log.exception("decide_failed", input_id=event.id, tenant=event.tenant)
            return await self._dead_letter(message, "decide", f"decide() raised: {exc!r}", ())
        for decided in decision.events:
            await self._publisher.publish(DECISIONS_TOPIC, decided)
        for command in decision.commands:
            await self._publisher.publish(COMMANDS_TOPIC, command)
        return Handled.DECIDED

    async def _dead_letter(
        self,
        message: RawMessage,
        stage: Literal["parse", "decide"],
        reason: str,
        errors: tuple[FieldError, ...],
    ) -> Handled:
        letter = dead_letter_for(message, stage, reason, errors, self._clock(), worker="decider")
        log.warning("dead_lettered", position=message.position, stage=stage, reason=reason)
        await self._publisher.publish(DEAD_LETTER, letter)
        return Handled.DEAD_LETTERED
