"""The webhook emitter against a real receiving HTTP server: signature, formats, batching, retries.

Signatures are checked here with an independent HMAC computation and `hmac.compare_digest`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from sandbox.qbo.changes import EntityChange
from sandbox.qbo.clock import SandboxClock
from sandbox.qbo.config import QboSandboxConfig
from sandbox.qbo.webhooks import WebhookNotifier
from sandbox.qbo.webhooks_delivery import Batch, Endpoint, retry_delay_s
from tests.support.servers import live_server
from tests.support.webhook_receiver import Received, Receiver

REALM_1, REALM_2 = "9130357766900456", "9130357766900457"
VERIFIER = "verifier-token-for-tests"


@pytest.fixture(scope="module")
def served_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    with live_server(receiver.app()) as base:
        receiver.base = base
        yield receiver


@pytest.fixture
def receiver(served_receiver: Receiver) -> Receiver:
    with served_receiver.lock:
        served_receiver.received.clear()
        served_receiver.scripts.clear()
    return served_receiver


Start = Callable[..., Any]


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    """start(**config) -> a running notifier (stopped after the test)."""
    running: list[WebhookNotifier] = []

    async def _start(**settings: Any) -> WebhookNotifier:
        defaults: dict[str, Any] = {"webhook_verifier_token": VERIFIER, "time_scale": 0.001}
        notifier = WebhookNotifier(QboSandboxConfig(**(defaults | settings)), SandboxClock())
        await notifier.start()
        running.append(notifier)
        return notifier

    yield _start
    for notifier in running:
        await notifier.stop()


def change(
    entity_id: str = "1",
    operation: str = "Create",
    realm_id: str = REALM_1,
    entity: str = "Customer",
    deleted_id: str | None = None,
) -> EntityChange:
    return EntityChange(realm_id, entity, entity_id, operation, SandboxClock().now(), deleted_id)  # type: ignore[arg-type]


async def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def signature_is_valid(received: Received) -> bool:
    expected = base64.b64encode(hmac.new(VERIFIER.encode(), received.body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, received.headers["intuit-signature"].encode())


# -- formats and signature -------------------------------------------------------------------
async def test_a_legacy_batch_is_one_signed_post_with_one_notification_per_realm(
    receiver: Receiver, start: Start
) -> None:
    notifier = await start(
        webhook_urls=[receiver.url()], webhook_format="legacy", webhook_batch_window_s=0.05
    )
    notifier.notify(change("1"))
    notifier.notify(change("7", "Update", REALM_2, "Invoice"))
    notifier.notify(change("3", "Merge", deleted_id="2"))
    await eventually(lambda: len(receiver.at()) == 1)
    await asyncio.sleep(0.1)
    [post] = receiver.at()
    assert signature_is_valid(post) and post.headers["content-type"] == "application/json"
    notifications = post.json()["eventNotifications"]
    assert [n["realmId"] for n in notifications] == [REALM_1, REALM_2]
    created, merged = notifications[0]["dataChangeEvent"]["entities"]
    assert set(created) == {"name", "id", "operation", "lastUpdated"}
    assert (created["name"], created["id"], created["operation"]) == ("Customer", "1", "Create")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", created["lastUpdated"])
    assert merged["operation"] == "Merge" and merged["deletedId"] == "2"
    assert notifications[1]["dataChangeEvent"]["entities"][0]["name"] == "Invoice"


async def test_cloudevents_are_an_array_of_intuit_events_split_at_100_per_post(
    receiver: Receiver, start: Start
) -> None:
    notifier = await start(
        webhook_urls=[receiver.url()], webhook_format="cloudevents", webhook_batch_window_s=0.05
    )
    operations = ["Create", "Update", "Delete", "Void", "Emailed"]
    for n in range(149):
        notifier.notify(change(str(n), operations[n % 5], entity="Invoice"))
    notifier.notify(change("9", "Merge", REALM_2, deleted_id="27"))
    await eventually(lambda: len(receiver.at()) == 2)
    first, second = receiver.at()
    assert all(signature_is_valid(post) for post in (first, second))
    events = first.json() + second.json()
    assert (len(first.json()), len(second.json())) == (100, 50)
    assert [e["intuitentityid"] for e in events[:149]] == [str(n) for n in range(149)]
    event = events[0]
    assert set(event) == {
        "specversion", "id", "source", "type", "datacontenttype", "time",
        "intuitentityid", "intuitaccountid", "data",
    }  # fmt: skip
    assert event["specversion"] == "1.0" and event["source"].startswith("intuit.")
    assert re.fullmatch(r"[0-9a-f-]{36}-Invoice-0", event["id"])
    assert event["intuitaccountid"] == REALM_1 and event["data"] == {}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", event["time"])
    assert [e["type"] for e in events[:5]] == [
        "qbo.invoice.created.v1",
        "qbo.invoice.updated.v1",
        "qbo.invoice.deleted.v1",
        "qbo.invoice.voided.v1",
        "qbo.invoice.emailed.v1",
    ]
    merged = events[-1]
    assert merged["type"] == "qbo.customer.merged.v1" and merged["data"] == {"deletedid": "27"}
    assert merged["intuitaccountid"] == REALM_2


async def test_a_forged_or_reencoded_body_does_not_match_the_signature(
    receiver: Receiver, start: Start
) -> None:
    notifier = await start(webhook_urls=[receiver.url()], webhook_batch_window_s=0)
    notifier.notify(change())
    await eventually(lambda: len(receiver.at()) == 1)
    [post] = receiver.at()
    reencoded = json.dumps(post.json(), indent=1).encode()
    assert signature_is_valid(post)
    assert not signature_is_valid(Received(post.path, post.headers, reencoded, post.at))


# -- batching ---------------------------------------------------------------------------------
async def test_changes_within_the_window_share_a_post_and_later_ones_get_the_next(
    receiver: Receiver, start: Start
) -> None:
    notifier = await start(webhook_urls=[receiver.url()], webhook_batch_window_s=0.3)
    notifier.notify(change("1"))
    await asyncio.sleep(0.1)
    notifier.notify(change("2"))
    await eventually(lambda: len(receiver.at()) == 1)
    notifier.notify(change("3"))
    await eventually(lambda: len(receiver.at()) == 2)
    first, second = (post.json() for post in receiver.at())
    assert [e["intuitentityid"] for e in first] == ["1", "2"]
    assert [e["intuitentityid"] for e in second] == ["3"]
    assert receiver.at()[1].at - receiver.at()[0].at >= 0.25


async def test_flush_delivers_at_once_and_reports_the_attempt(
    receiver: Receiver, start: Start
) -> None:
    notifier = await start(webhook_urls=[receiver.url()], webhook_batch_window_s=60)
    notifier.notify(change("5"))
    async with _control(notifier) as control:
        attempts = (await control.post("/_sandbox/webhooks/flush")).json()["attempts"]
    assert len(receiver.at()) == 1
    [attempt] = attempts
    assert attempt["ok"] and attempt["status"] == 200 and attempt["attempt"] == 1
    assert attempt["url"] == receiver.url() and attempt["payload"][0]["intuitentityid"] == "5"


async def test_changes_notified_from_other_threads_are_delivered(
    receiver: Receiver, start: Start
) -> None:
    notifier = await start(webhook_urls=[receiver.url()], webhook_batch_window_s=0.05)
    threads = [threading.Thread(target=notifier.notify, args=(change(str(n)),)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    await eventually(lambda: sum(len(p.json()) for p in receiver.at()) == 20)


# -- failures, retries, holding ----------------------------------------------------------------
def test_retry_delays_follow_intuits_schedule_then_every_six_hours() -> None:
    assert [retry_delay_s(n, 1.0) for n in range(1, 13)] == [
        0, 10, 20, 30, 300, 1200, 7200, 14400, 21600, 21600, 21600, 21600,
    ]  # fmt: skip
    assert retry_delay_s(2, 0.001) == pytest.approx(0.01)


async def test_a_failed_delivery_is_retried_on_the_scaled_schedule_until_acknowledged(
    receiver: Receiver, start: Start
) -> None:
    receiver.scripts["hook"] = [500, 503, 404, 500, 200]
    notifier = await start(
        webhook_urls=[receiver.url()], webhook_batch_window_s=0, time_scale=0.005
    )
    notifier.notify(change())
    await eventually(lambda: len(receiver.at()) == 5)
    await asyncio.sleep(0.1)
    posts = receiver.at()
    assert len(posts) == 5 and len({p.body for p in posts}) == 1
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(posts)]
    for gap, scheduled in zip(gaps, [0, 10, 20, 30], strict=True):
        assert gap >= scheduled * 0.005 * 0.9
    attempts = notifier.deliveries()
    assert [a["attempt"] for a in attempts] == [1, 2, 3, 4, 5]
    assert [a["status"] for a in attempts] == [500, 503, 404, 500, 200]
    assert [a["next_retry_in_s"] for a in attempts] == pytest.approx([0, 0.05, 0.1, 0.15, None])
    assert attempts[0]["error"] == "HTTP 500" and attempts[-1]["error"] is None


async def test_a_failing_batch_holds_later_batches_for_that_url_only(
    receiver: Receiver, start: Start
) -> None:
    receiver.scripts["slow-to-recover"] = [500, 500, 500, 200]
    notifier = await start(
        webhook_urls=[receiver.url("slow-to-recover"), receiver.url("healthy")],
        webhook_batch_window_s=60,
        time_scale=0.01,  # retries after 0, 0.1, 0.2 s
    )
    notifier.notify(change("first"))
    await notifier.flush()
    notifier.notify(change("second"))
    await notifier.flush()
    assert [p.json()[0]["intuitentityid"] for p in receiver.at("healthy")] == ["first", "second"]
    assert {p.json()[0]["intuitentityid"] for p in receiver.at("slow-to-recover")} == {"first"}
    await eventually(lambda: len(receiver.at("slow-to-recover")) == 5)
    order = [p.json()[0]["intuitentityid"] for p in receiver.at("slow-to-recover")]
    assert order == ["first", "first", "first", "first", "second"]


async def test_an_answer_slower_than_three_seconds_is_a_failure(
    receiver: Receiver, start: Start
) -> None:
    receiver.scripts["hook"] = [0.6, 200]
    notifier = await start(
        webhook_urls=[receiver.url()], webhook_batch_window_s=0, webhook_timeout_s=0.2
    )
    notifier.notify(change())
    await eventually(lambda: len(notifier.deliveries()) == 2)
    timed_out, delivered = notifier.deliveries()
    assert timed_out["status"] is None and timed_out["error"].startswith("ReadTimeout")
    assert delivered["ok"] and delivered["attempt"] == 2


async def test_an_unreachable_url_is_retried_like_any_failure(start: Start) -> None:
    notifier = await start(webhook_urls=["http://127.0.0.1:9/hook"], webhook_batch_window_s=0)
    notifier.notify(change())
    await eventually(lambda: len(notifier.deliveries()) >= 2)
    assert notifier.deliveries()[0]["error"].startswith("ConnectError")


# -- control API --------------------------------------------------------------------------------
def _control(notifier: WebhookNotifier) -> httpx.AsyncClient:
    app = FastAPI()
    app.include_router(notifier.router)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox")


async def test_drop_next_loses_exactly_that_many_changes(receiver: Receiver, start: Start) -> None:
    notifier = await start(webhook_urls=[receiver.url()], webhook_batch_window_s=60)
    async with _control(notifier) as control:
        await control.put("/_sandbox/webhooks", json={"drop_next": 2})
        for n in range(3):
            notifier.notify(change(str(n)))
        await control.post("/_sandbox/webhooks/flush")
        view = (await control.get("/_sandbox/webhooks")).json()
    assert [e["intuitentityid"] for e in receiver.at()[0].json()] == ["2"]
    assert view["counts"]["dropped"] == 2 and view["settings"]["drop_next"] == 0


async def test_settings_change_urls_format_and_pause_at_runtime(
    receiver: Receiver, start: Start
) -> None:
    notifier = await start(webhook_urls=[], webhook_batch_window_s=60)
    async with _control(notifier) as control:
        settings = {"urls": [receiver.url("late")], "format": "legacy", "paused": True}
        assert (await control.put("/_sandbox/webhooks", json=settings)).status_code == 200
        notifier.notify(change("1"))
        await control.post("/_sandbox/webhooks/flush")
        await asyncio.sleep(0.1)
        assert receiver.at("late") == []
        assert (await control.get("/_sandbox/webhooks")).json()["queued_posts"] == {
            receiver.url("late"): 1
        }
        await control.put("/_sandbox/webhooks", json={"paused": False})
        await eventually(lambda: len(receiver.at("late")) == 1)
        assert "eventNotifications" in receiver.at("late")[0].json()
        for bad in ({"format": "xml"}, {"urls": ["ftp://example.com/hook"]}, {"drop_next": -1}):
            assert (await control.put("/_sandbox/webhooks", json=bad)).status_code == 422


async def test_the_deliveries_log_lists_every_attempt_and_can_be_cleared(
    receiver: Receiver, start: Start
) -> None:
    receiver.scripts["flaky"] = [500, 200]
    notifier = await start(
        webhook_urls=[receiver.url("flaky"), receiver.url("ok")], webhook_batch_window_s=0
    )
    notifier.notify(change())
    await eventually(lambda: len(notifier.deliveries()) == 3)
    async with _control(notifier) as control:
        flaky = (
            await control.get(
                "/_sandbox/webhooks/deliveries", params={"url": receiver.url("flaky")}
            )
        ).json()
        assert [(d["attempt"], d["status"]) for d in flaky["deliveries"]] == [(1, 500), (2, 200)]
        assert all(
            {"url", "time", "payload", "error", "attempt"} <= set(d) for d in flaky["deliveries"]
        )
        await control.delete("/_sandbox/webhooks/deliveries")
        assert (await control.get("/_sandbox/webhooks/deliveries")).json() == {"deliveries": []}


async def test_flush_with_retry_skips_the_wait_of_a_held_batch(
    receiver: Receiver, start: Start
) -> None:
    receiver.scripts["hook"] = [500, 500, 200]
    notifier = await start(webhook_urls=[receiver.url()], webhook_batch_window_s=0, time_scale=1)
    notifier.notify(change("held"))
    await eventually(lambda: len(receiver.at()) == 2)  # tried, retried at once, now 10 s away
    async with _control(notifier) as control:
        await control.post("/_sandbox/webhooks/flush", params={"retry": "true"})
        await eventually(lambda: len(receiver.at()) == 3, timeout=2)
        view = (await control.get("/_sandbox/webhooks")).json()
    assert [a["status"] for a in notifier.deliveries()] == [500, 500, 200]
    assert view["counts"]["notified"] == 1
    assert (view["counts"]["delivered"], view["counts"]["failed"]) == (1, 2)


async def test_a_retry_asked_for_while_an_attempt_is_in_flight_skips_the_wait_after_it() -> None:
    """The flush above can arrive between the receiver answering 500 and the endpoint reading
    that answer; the retry it asks for must not be forgotten when the failure is recorded."""
    statuses = iter([500, 500, 200])  # the first retry is immediate anyway; the second waits 10 s
    sent: list[float] = []
    endpoint: Endpoint

    async def send(url: str, body: bytes) -> tuple[int | None, str | None]:
        sent.append(time.monotonic())
        endpoint.retry_now()  # asked for while this POST is in flight
        return next(statuses), None

    unpaused = asyncio.Event()
    unpaused.set()
    endpoint = Endpoint("http://hook", send, lambda outcome: None, unpaused, lambda: 1.0)
    endpoint.start()
    try:
        endpoint.enqueue(Batch("b1", b"{}", 1))
        await eventually(lambda: len(sent) == 3, timeout=2)  # not the 10 s of the schedule
    finally:
        await endpoint.stop()
