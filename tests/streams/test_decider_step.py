"""The decider shell: parse → load → decide → record → emit; bad input is dead-lettered, never
fatal; a redelivered input is published again from its outbox and changes nothing."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

import streams.decider as decider_module
from engine.deadletter import RawMessage
from schemas.catalog import decode, encode
from schemas.deadletter import DeadLettered
from schemas.decisions import InputIgnored, RequestDenied
from schemas.envelope import Envelope
from schemas.requests import Actor, EnableRequested, InstallRequested, RequestData
from schemas.topics import DEAD_LETTER, DECISIONS_TOPIC, TopicSpec
from store import open_store
from streams.decider import DeciderStep, Handled
from tests.unit.factories import event_from_fixture, person_changed

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class RecordingPublisher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Envelope]] = []

    async def publish(self, topic: TopicSpec, event: Envelope) -> None:
        # Round-trip through bytes, as the broker would.
        self.sent.append((topic.name, decode(encode(event))))

    async def flush(self) -> None:
        return None


@pytest.fixture
def store(tmp_path):
    opened = open_store(f"sqlite:///{tmp_path}/store.db")
    yield opened
    opened.close()


@pytest.fixture
def _step(store):
    def make(publisher: RecordingPublisher) -> DeciderStep:
        return DeciderStep(publisher, store, lambda: NOW, "cluster-1")

    return make


def _raw(
    value: bytes,
    key: bytes | None = b"acme-co",
    offset: int = 7,
    topic: str = "qbsync.crm.changes.v1",
) -> RawMessage:
    return RawMessage(topic, 2 if topic == "qbsync.crm.changes.v1" else 0, offset, key, value)


async def test_a_valid_crm_change_yields_a_decision_keyed_by_its_tenant(_step):
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
async def test_bad_bytes_go_to_the_dead_letter_topic_with_reason_and_original_bytes(value, _step):
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


async def test_a_missing_field_is_named_in_the_dead_letter(_step):
    doc = json.loads(encode(person_changed()))
    del doc["data"]["after"]["id"]
    publisher = RecordingPublisher()
    await _step(publisher).handle(_raw(json.dumps(doc).encode()))
    letter = publisher.sent[0][1]
    assert isinstance(letter, DeadLettered)
    assert [e.field for e in letter.data.errors] == ["data.after.id"]


@pytest.mark.parametrize("key", [b"globex", None], ids=["other-tenant", "no-key"])
async def test_an_event_not_keyed_by_its_tenant_is_dead_lettered(key, _step):
    publisher = RecordingPublisher()
    handled = await _step(publisher).handle(_raw(encode(person_changed("acme-co")), key=key))
    assert handled is Handled.DEAD_LETTERED
    letter = publisher.sent[0][1]
    assert isinstance(letter, DeadLettered)
    assert "is not the event's tenant" in letter.data.reason


async def test_an_unroutable_key_is_dead_lettered_under_the_reserved_tenant(_step):
    publisher = RecordingPublisher()
    await _step(publisher).handle(_raw(b"garbage", key=b"\xff\xfe"))
    letter = publisher.sent[0][1]
    assert letter.tenant == "_unrouted"
    assert base64.b64decode(letter.data.key_b64 or "") == b"\xff\xfe"  # type: ignore[attr-defined]


async def test_a_rule_that_raises_dead_letters_that_input_and_the_next_input_still_decides(
    _step,
):
    calls = {"n": 0}
    real_decide = decider_module.decide

    def flaky_decide(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("bug in a rule")
        return real_decide(*args, **kwargs)

    publisher = RecordingPublisher()
    step = _step(publisher)
    step.decide = flaky_decide
    first = await step.handle(_raw(encode(person_changed(event_id="e1")), offset=1))
    second = await step.handle(_raw(encode(person_changed(event_id="e2")), offset=2))
    assert (first, second) == (Handled.DEAD_LETTERED, Handled.DECIDED)
    letter = publisher.sent[0][1]
    assert isinstance(letter, DeadLettered)
    assert letter.data.stage == "decide"
    assert "bug in a rule" in letter.data.reason
    assert publisher.sent[1][0] == DECISIONS_TOPIC.name


async def test_a_redelivered_bad_message_yields_the_same_dead_letter_id(_step):
    publisher = RecordingPublisher()
    step = _step(publisher)
    await step.handle(_raw(b"nope", offset=9))
    await step.handle(_raw(b"nope", offset=9))
    assert publisher.sent[0][1].id == publisher.sent[1][1].id


ADMIN = Actor(user_id=7, is_admin=True)


def _request(cls, event_id, data):
    return cls(
        id=event_id,
        source="/test",
        subject="installation/acme-co",
        time=NOW,
        tenant="acme-co",
        data=data,
    )


async def test_a_redelivered_input_publishes_its_first_outputs_again_and_changes_nothing(
    _step, store
):
    publisher = RecordingPublisher()
    step = _step(publisher)
    install = _request(
        InstallRequested,
        "req-1",
        {"actor": ADMIN.model_dump(), "crm_account_id": 4242, "realm_id": "9130357"},
    )
    assert await step.handle(_raw(encode(install), topic="qbsync.requests.v1", offset=3)) is (
        Handled.DECIDED
    )
    first = list(publisher.sent)
    version = store.installation("acme-co").version
    assert [d.data.change for _, d in first] == ["installed", "connected"]
    again = await step.handle(_raw(encode(install), topic="qbsync.requests.v1", offset=3))
    assert again is Handled.REPLAYED
    assert publisher.sent[len(first) :] == first
    assert store.installation("acme-co").version == version


async def test_the_same_input_id_at_another_offset_is_a_duplicate_that_changes_nothing(
    _step, store
):
    publisher = RecordingPublisher()
    step = _step(publisher)
    install = _request(
        InstallRequested, "req-1", {"actor": ADMIN.model_dump(), "crm_account_id": 4242}
    )
    await step.handle(_raw(encode(install), topic="qbsync.requests.v1", offset=3))
    version = store.installation("acme-co").version
    handled = await step.handle(_raw(encode(install), topic="qbsync.requests.v1", offset=4))
    assert handled is Handled.REPLAYED
    assert store.installation("acme-co").version == version
    assert store.processed_offset("cluster-1", "qbsync.requests.v1", 0) == 4


async def test_a_basic_user_is_denied_with_the_rule_and_nothing_changes(_step, store):
    publisher = RecordingPublisher()
    step = _step(publisher)
    install = _request(
        InstallRequested, "req-1", {"actor": ADMIN.model_dump(), "crm_account_id": 4242}
    )
    await step.handle(_raw(encode(install), topic="qbsync.requests.v1", offset=1))
    enable = _request(EnableRequested, "req-2", RequestData(actor=Actor(user_id=8, is_admin=False)))
    await step.handle(_raw(encode(enable), topic="qbsync.requests.v1", offset=2))
    denied = publisher.sent[-1][1]
    assert isinstance(denied, RequestDenied)
    assert (denied.data.code, denied.data.input_id) == ("not_allowed", "req-2")
    assert "only admins may enable" in denied.data.reason
    assert store.installation("acme-co").enabled is False


async def test_a_change_for_a_tenant_not_installed_is_ignored_with_that_reason(_step):
    publisher = RecordingPublisher()
    await _step(publisher).handle(
        _raw(encode(event_from_fixture("qbsync.qbo.customer.changed.v1", tenant="acme-co")))
    )
    [(_, decision)] = publisher.sent
    assert isinstance(decision, InputIgnored)
    assert decision.data.reason == "not_installed"
