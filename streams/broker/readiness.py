"""Is a Kafka broker up? The Metadata probe, its retry loop, and the helper-thread runner."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from aiokafka import AIOKafkaClient
from aiokafka.errors import KafkaError

from streams.broker.errors import BrokerStartError
from streams.broker.ports import split_bootstrap

__all__ = ["run_coroutine_in_thread", "wait_ready", "wait_until_ready"]


def run_coroutine_in_thread(factory: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a coroutine to completion on a fresh loop in a helper thread; re-raise its error.

    Works whether or not the caller's thread already runs an event loop.
    """
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(factory())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, name="qbsync-broker-ready", daemon=True)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


async def _tcp_reachable(hosts: list[tuple[str, int]], limit_s: float) -> bool:
    for host, port in hosts:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), limit_s)
        except (OSError, TimeoutError):
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True
    return False


async def _metadata_answers(bootstrap: str, limit_s: float) -> None:
    request_timeout_ms = max(100, int(limit_s * 1000))
    client = AIOKafkaClient(
        bootstrap_servers=bootstrap,
        request_timeout_ms=request_timeout_ms,
        client_id="qbsync-readiness",
    )
    try:
        await asyncio.wait_for(client.bootstrap(), limit_s)
    finally:
        await client.close()


async def wait_ready(
    bootstrap: str,
    limit_s: float,
    abort: Callable[[], str | None] | None = None,
    poll_interval: float = 0.02,
) -> None:
    """Retry the Metadata probe until it answers or ``limit_s`` seconds have passed.

    ``abort`` is polled between and during attempts; a reason it returns (not None) ends the
    wait with :class:`BrokerStartError`. Raises :class:`TimeoutError` at the deadline.
    """
    hosts = split_bootstrap(bootstrap)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    last_error: BaseException | None = None

    async def attempt(attempt_timeout: float) -> bool:
        # A plain TCP connect first: cheap, and it keeps aiokafka from logging an ERROR line
        # for every attempt while the listener is not up yet.
        if not await _tcp_reachable(hosts, attempt_timeout):
            raise ConnectionRefusedError(f"nothing listens on {bootstrap}")
        await _metadata_answers(bootstrap, attempt_timeout)
        return True

    def check_abort() -> None:
        if abort is not None and (reason := abort()) is not None:
            raise BrokerStartError(reason)

    while True:
        check_abort()
        remaining = deadline - loop.time()
        if remaining <= 0:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise TimeoutError(
                f"no Kafka Metadata answer from {bootstrap} within {limit_s:.1f}s{detail}"
            )
        task = asyncio.ensure_future(attempt(min(remaining, 2.0)))
        try:
            # Watch ``abort`` while the attempt runs: if something else (not a Kafka broker)
            # holds the port, the attempt hangs until its timeout, but our process is gone.
            while not task.done():
                await asyncio.wait({task}, timeout=poll_interval)
                if not task.done():
                    check_abort()
            task.result()
            return
        except (OSError, KafkaError, TimeoutError) as exc:
            last_error = exc
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await asyncio.sleep(poll_interval)


async def wait_until_ready(
    bootstrap: str,
    timeout: float,  # noqa: ASYNC109 - a deadline over many retries, not one awaited call
) -> None:
    """Return once a Kafka broker at ``bootstrap`` answers a Metadata request.

    Retries until ``timeout`` seconds have passed, then raises :class:`TimeoutError`.
    Works against any Kafka-protocol broker (tansu, Apache Kafka, a comma-separated list).
    """
    await wait_ready(bootstrap, timeout)
