"""The decider shell: parse → load → decide → emit; bad input is dead-lettered, never fatal."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

import streams.decider as decider_module
from engine.deadletter import RawMessage
from engine.state import TenantState
from schemas.catalog import decode, encode
from schemas.deadletter import DeadLettered
from schemas.envelope import Envelope
from schemas.topics import DEAD_LETTER, DECISIONS_TOPIC, TopicSpec
from streams.decider import DeciderStep, Handled
from tests.unit.factories import person_changed

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class RecordingPublisher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Envelope]] = []

    async def publish(self, topic: TopicSpec, event: Envelope) -> None:
        # Round-trip through bytes, as the broker would.
        self.sent.append((topic.name, decode(encode(event))))

    async def flush(self) -> None:
        return None


async def _installed(_tenant: str) -> TenantState:
    return TenantState(installed=True, enabled=True)


def _step(publisher: RecordingPublisher) -> DeciderStep:
    return DeciderStep(publisher, _installed, lambda: NOW)


def _raw(value: bytes, key: bytes | None = b"acme-co", offset: int = 7) -> RawMessage:
    return RawMessage("qbsync.crm.changes.v1", 2, offset, key, value)


async def test_a_valid_crm_change_yields_a_decision_keyed_by_its_tenant():
    publisher = RecordingPublisher()
    handled = await _step(publisher).handle(_raw(encode(person_changed())))
    assert handled is Handled.DECIDED
    [(topic, decision)] = publisher.sent
    assert topic == DECISIONS_TOPIC.name
    assert decision.tenant == "acme-co"


@pytest.mark.parametrize(
    "value",
    [b'{"type": "qbsync.crm.person.changed.v1"}', b"\xff\x00binary", b""],
    ids=["missing-fields", "not-utf8", "empty"],
)
async def test_bad_bytes_go_to_the_dead_letter_topic_with_reason_and_original_bytes(value):
    publisher = RecordingPublisher()
    handled = await _step(publisher).handle(_raw(value))
    assert handled is Handled.DEAD_LETTERED
    [(topic, letter)] = publisher.sent
    assert topic == DEAD_LETTER.name
    assert isinstance(letter, DeadLettered)
    assert base64.b64decode(letter.data.value_b64) == value
    assert letter.data.reason.startswith("invalid event")
    assert letter.data.stage == "parse"
    assert (letter.data.source_topic, letter.data.partition, letter.data.offset) == (
        "qbsync.crm.changes.v1",
        2,
        7,
    )
    assert letter.tenant == "acme-co"


async def test_a_missing_field_is_named_in_the_dead_letter():
    doc = json.loads(encode(person_changed()))
    del doc["data"]["after"]["id"]
    publisher = RecordingPublisher()
    await _step(publisher).handle(_raw(json.dumps(doc).encode()))
    letter = publisher.sent[0][1]
    assert isinstance(letter, DeadLettered)
    assert [e.field for e in letter.data.errors] == ["data.after.id"]


@pytest.mark.parametrize("key", [b"globex", None], ids=["other-tenant", "no-key"])
async def test_an_event_not_keyed_by_its_tenant_is_dead_lettered(key):
    publisher = RecordingPublisher()
    handled = await _step(publisher).handle(_raw(encode(person_changed("acme-co")), key=key))
    assert handled is Handled.DEAD_LETTERED
    letter = publisher.sent[0][1]
    assert isinstance(letter, DeadLettered)
    assert "is not the event's tenant" in letter.data.reason


async def test_an_unroutable_key_is_dead_lettered_under_the_reserved_tenant():
    publisher = RecordingPublisher()
    await _step(publisher).handle(_raw(b"garbage", key=b"\xff\xfe"))
    letter = publisher.sent[0][1]
    assert letter.tenant == "_unrouted"
    assert base64.b64decode(letter.data.key_b64 or "") == b"\xff\xfe"  # type: ignore[attr-defined]


async def test_a_rule_that_raises_dead_letters_that_input_and_the_next_input_still_decides(
    monkeypatch,
):
    calls = {"n": 0}
    real_decide = decider_module.decide

    def flaky_decide(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("bug in a rule")
        return real_decide(*args, **kwargs)

    monkeypatch.setattr(decider_module, "decide", flaky_decide)
    publisher = RecordingPublisher()
    step = _step(publisher)
    first = await step.handle(_raw(encode(person_changed(event_id="e1")), offset=1))
    second = await step.handle(_raw(encode(person_changed(event_id="e2")), offset=2))
    assert (first, second) == (Handled.DEAD_LETTERED, Handled.DECIDED)
    letter = publisher.sent[0][1]
    assert isinstance(letter, DeadLettered)
    assert letter.data.stage == "decide"
    assert "bug in a rule" in letter.data.reason
    assert publisher.sent[1][0] == DECISIONS_TOPIC.name


async def test_a_redelivered_bad_message_yields_the_same_dead_letter_id():
    publisher = RecordingPublisher()
    step = _step(publisher)
    await step.handle(_raw(b"nope", offset=9))
    await step.handle(_raw(b"nope", offset=9))
    assert publisher.sent[0][1].id == publisher.sent[1][1].id
