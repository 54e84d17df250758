"""Pipeline's 10 requests per second per api key, against a sandbox that enforces it: our limiter
keeps a burst free of 429s at nearly the full rate, a 429 is waited out until its
X-Ratelimit-Reset and never loses a request, and X-Ratelimit-Remaining slows us down when
another client spends the same key."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from adapters.crm.throttle import KeyLimiter, RateLimits
from tests.adapters.crm.conftest import Sandbox, make_client, start_sandbox, unique

PER_SECOND = 10  # Pipeline's limit, unscaled


@pytest.fixture(scope="module")
def limited() -> Iterator[Sandbox]:
    yield from start_sandbox(rate_limit_per_second=PER_SECOND)


@pytest.fixture(autouse=True)
def fresh_windows(limited: Sandbox) -> None:
    limited.control("POST", "/reset")  # counters and rate windows from zero for each test


def throttled(sandbox: Sandbox) -> int:
    return int(sandbox.stats()["rate_limit"]["throttled"])


async def run_workers(count: int, jobs: list, call) -> list[float]:
    """Run `call(job)` for every job with `count` concurrent workers; answer times (monotonic)."""
    done: list[float] = []
    pending = list(jobs)

    async def worker() -> None:
        while pending:
            await call(pending.pop())
            done.append(time.monotonic())

    await asyncio.gather(*(worker() for _ in range(count)))
    return sorted(done)


async def test_a_burst_through_the_limiter_gets_no_429_at_nearly_the_full_rate(limited, http):
    client = make_client(limited, http, limiter=KeyLimiter(RateLimits(per_second=PER_SECOND)))
    burst = 40
    done = await run_workers(8, list(range(burst)), lambda _: client.profile())

    assert throttled(limited) == 0 and client.calls == burst
    # Steady state after the first full window: answers per second over those that waited.
    steady = (burst - PER_SECOND) / (done[-1] - done[PER_SECOND - 1])
    print(f"\ncrm burst: {burst} calls, 0 429s, steady {steady:.2f}/s of {PER_SECOND}/s allowed")
    assert steady / PER_SECOND >= 0.8


async def test_a_429_is_waited_out_until_its_reset_and_no_create_is_lost(limited):
    sent: list[float] = []

    async def stamp(request: httpx.Request) -> None:
        sent.append(time.time())

    async with httpx.AsyncClient(timeout=10, event_hooks={"request": [stamp]}) as http:
        # Our own window far above the CRM's, so the CRM has to say no.
        limiter = KeyLimiter(RateLimits(per_second=1000))
        waits: list[tuple[float, float | None]] = []
        original = limiter.wait_out

        def recording_wait_out(reset_epoch: float | None) -> float:
            waits.append((time.time(), reset_epoch))
            return original(reset_epoch)

        limiter.wait_out = recording_wait_out  # type: ignore[method-assign]
        client = make_client(limited, http, limiter=limiter)
        domain = f"{unique()}.example.com"
        started = time.monotonic()
        await asyncio.gather(
            *(
                client.create_person({"full_name": f"P {i}", "email": f"p{i}@{domain}"})
                for i in range(30)
            )
        )
        elapsed = time.monotonic() - started
        created = [p.email async for p in client.iter_people({"person_email": domain})]

    refused = throttled(limited)
    assert refused > 0 and len(waits) == refused  # every 429 was waited out
    assert sorted(created) == sorted(f"p{i}@{domain}" for i in range(30))  # none lost, none twice
    for waited_at, reset in waits:
        assert reset is not None
        later = [moment for moment in sent if moment > waited_at]
        assert all(moment >= reset for moment in later), "sent again before the reset"
    print(f"\ncrm 429s: 30 concurrent creates, {refused} refused, all waited out, {elapsed:.2f} s")
    assert elapsed < 6


async def spend_at_each_window_start(sandbox: Sandbox, http: httpx.AsyncClient, stop) -> int:
    """Another client of the same key: 6 calls at the start of every second until `stop`."""
    params = {"api_key": sandbox.config.admin_api_key, "app_key": sandbox.config.app_key}
    spent = 0
    while not stop.is_set():
        await asyncio.sleep(1 - time.time() % 1 + 0.005)
        answers = await asyncio.gather(
            *(http.get(f"{sandbox.api_url}/profile.json", params=params) for _ in range(6))
        )
        spent += sum(1 for a in answers if a.status_code == 200)
    return spent


async def calls_beside_another_client(sandbox: Sandbox, *, heed_remaining: bool) -> int:
    """8 calls one after another while the other client runs; how many 429s *we* got."""
    async with httpx.AsyncClient(timeout=10) as http:
        limiter = KeyLimiter(RateLimits(per_second=PER_SECOND))
        if not heed_remaining:
            limiter.observe = lambda remaining, reset_epoch: None  # type: ignore[method-assign]
        client = make_client(sandbox, http, limiter=limiter)
        stop = asyncio.Event()
        other = asyncio.create_task(spend_at_each_window_start(sandbox, http, stop))
        await asyncio.sleep(1 - time.time() % 1 + 0.05)  # the other has spent this second's 6
        for _ in range(8):
            await client.profile()
        stop.set()
        await other
        return limiter.pauses


async def test_remaining_slows_us_down_when_another_client_spends_the_same_key(limited):
    ignoring = await calls_beside_another_client(limited, heed_remaining=False)
    heeding = await calls_beside_another_client(limited, heed_remaining=True)
    print(f"\ncrm shared key: our 429s ignoring Remaining {ignoring}, heeding it {heeding}")
    assert ignoring > 0  # the other client really does take part of each second
    assert heeding == 0
