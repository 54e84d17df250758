"""The decider step: parse → load state → decide() → record → emit. Nothing here decides anything.

Effectively once (ADR 0009): the store changes an input causes, the outputs it makes the engine
publish (its outbox) and its Kafka position are recorded in one transaction, then published.
A redelivered input is found processed and its outbox is published again (same ids); an input
id seen before at another offset is accounted for as a duplicate and its first outputs are
published again. A lost race with another worker is retried from a fresh load.

A message that cannot be parsed, or whose key is not its tenant, or that makes `decide` raise,
or whose decision the store refuses, is dead-lettered with the reason and its original bytes;
the worker carries on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from enum import Enum
from typing import Literal

from engine.deadletter import RawMessage, dead_letter_for
from engine.decide import Decision, decide, link_key
from engine.link_state import LINK_DECISION_TYPES, LinkState
from engine.state import TenantState
from qbsync.logs import get_logger
from schemas.catalog import EventRejected, decode, encode
from schemas.common import FieldError
from schemas.envelope import Envelope
from schemas.settings import IntegrationSettings
from schemas.topics import DEAD_LETTER, topic_for
from store import ConcurrentWriteError, DomainError, KafkaPosition, QbsyncStore
from store.customer_link import CustomerLink, mutate_link, record_link_decision
from store.installation import Installation
from store.model import DomainEvent
from store.outbox import record_outputs
from streams.ports import Clock, Publisher
from streams.request_decisions import INSTALLATION_REQUESTS, decide_request

log = get_logger(__name__)
MAX_RACES = 5


class Handled(Enum):
    DECIDED = "decided"
    REPLAYED = "replayed"
    DEAD_LETTERED = "dead_lettered"


Outputs = list[Envelope]


def input_key(event: Envelope) -> str:
    return f"input:{event.id}"


class DeciderStep:
    def __init__(
        self, publisher: Publisher, store: QbsyncStore, clock: Clock, cluster_id: str
    ) -> None:
        self._publisher = publisher
        self._store = store
        self._clock = clock
        self._cluster = cluster_id
        self.decide: Callable[..., Decision] = decide  # replaceable in tests of the shell

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
        handled, outputs = await asyncio.to_thread(self._process, message, event)
        for output in outputs:
            await self._publisher.publish(topic_for(type(output)), output)
        return handled

    # --- in a worker thread: the store is synchronous ------------------------------------------

    def _position(self, message: RawMessage) -> KafkaPosition | None:
        if message.partition is None or message.offset is None:
            return None  # not from a topic (tests, tools): nothing to track
        return KafkaPosition(self._cluster, message.topic, message.partition, message.offset)

    def _process(self, message: RawMessage, event: Envelope) -> tuple[Handled, Outputs]:
        position = self._position(message)
        for _ in range(MAX_RACES):
            replayed = self._already_done(event, position)
            if replayed is not None:
                return Handled.REPLAYED, replayed
            try:
                return self._decide_and_record(message, event, position)
            except ConcurrentWriteError:
                log.info("decider_race_retried", input_id=event.id, tenant=event.tenant)
        raise RuntimeError(f"input {event.id} lost {MAX_RACES} races in a row")

    def _already_done(self, event: Envelope, position: KafkaPosition | None) -> Outputs | None:
        box = self._store.outbox(event.tenant, input_key(event))
        if position is not None and self._store.already_processed(position):
            return [decode(text) for text in box.outputs] if box else []
        if box is None:
            return None
        # The same input id again, at another offset (a publisher retried): account for it.
        self._store.record(position=position)
        log.info("duplicate_input", input_id=event.id, tenant=event.tenant)
        return [decode(text) for text in box.outputs]

    def _decide_and_record(
        self, message: RawMessage, event: Envelope, position: KafkaPosition | None
    ) -> tuple[Handled, Outputs]:
        installation = self._store.installation(event.tenant)
        now = self._clock()
        handled = Handled.DECIDED
        store_events: list[DomainEvent] = []
        outputs: Outputs = []
        try:
            if isinstance(event, INSTALLATION_REQUESTS):
                decided = decide_request(installation, event, now)
                store_events += decided.store_events
                outputs += [*decided.decisions, *decided.jobs]
            else:
                link = self._link(event)
                decision = self.decide(
                    _tenant_state(installation, link), event, _settings(installation), now
                )
                store_events += _link_events(link, decision.events)
                outputs += [*decision.events, *decision.commands]
        except DomainError as error:
            outputs, store_events = [self._letter(message, f"refused: {error}")], []
            handled = Handled.DEAD_LETTERED
        except Exception as error:  # a bug in one rule must not stop the tenant's other inputs
            log.exception("decide_failed", input_id=event.id, tenant=event.tenant)
            outputs, store_events = [self._letter(message, f"decide() raised: {error!r}")], []
            handled = Handled.DEAD_LETTERED
        box = record_outputs(event.tenant, input_key(event), tuple(_text(o) for o in outputs))
        if not self._store.record(*store_events, box, position=position):
            replayed = self._already_done(event, position)
            return Handled.REPLAYED, replayed or []
        return handled, outputs

    def _link(self, event: Envelope) -> CustomerLink | None:
        key = link_key(event)
        if key is None:
            return None
        if key.person_id is not None:
            return self._store.link(event.tenant, key.person_id)
        assert key.customer_id is not None
        return self._store.link_for_customer(event.tenant, key.customer_id)

    def _letter(self, message: RawMessage, reason: str) -> Envelope:
        log.warning("dead_lettered", position=message.position, stage="decide", reason=reason)
        return dead_letter_for(message, "decide", reason, (), self._clock(), worker="decider")

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


def _text(event: Envelope) -> str:
    return encode(event).decode()


def _settings(installation: Installation | None) -> IntegrationSettings:
    return installation.settings if installation else IntegrationSettings()


def _tenant_state(installation: Installation | None, link: CustomerLink | None) -> TenantState:
    link_state: LinkState | None = link.state if link else None
    if installation is None or installation.uninstalled:
        return TenantState(link=link_state)
    return TenantState(
        installed=True,
        enabled=installation.enabled,
        settings=installation.settings,
        realm_id=installation.realm_id,
        link=link_state,
    )


def _link_events(link: CustomerLink | None, decisions: tuple[Envelope, ...]) -> list[DomainEvent]:
    """The store events of the link decisions, each folded onto the one before."""
    events: list[DomainEvent] = []
    for decision in decisions:
        if isinstance(decision, LINK_DECISION_TYPES):
            recorded = record_link_decision(link, decision)
            link = mutate_link(recorded, link)
            events.append(recorded)
    return events
