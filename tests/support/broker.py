"""Which Kafka-protocol broker the tests use, and how to get one.

Order (DESIGN.md): ``QBSYNC_KAFKA_BOOTSTRAP`` if set; else a testcontainers Kafka (real Apache
Kafka) when a Docker engine answers; else the embedded tansu broker.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)

BOOTSTRAP_ENV = "QBSYNC_KAFKA_BOOTSTRAP"
#: Override the testcontainers Kafka image (default: Confluent's, run in KRaft mode).
KAFKA_IMAGE_ENV = "QBSYNC_TEST_KAFKA_IMAGE"
DEFAULT_KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.0"
#: Upper bound on the Docker probe; a missing engine answers in ~1 ms, a black-holed
#: DOCKER_HOST must not cost the suite more than this.
DOCKER_PROBE_TIMEOUT = 1.5

BrokerKind = Literal["env", "testcontainers", "embedded"]


@dataclass(frozen=True)
class BrokerChoice:
    kind: BrokerKind
    reason: str
    bootstrap: str | None = None  # known up front only for kind == "env"

    def describe(self) -> str:
        return f"kafka broker for tests: {self.kind} ({self.reason})"


def docker_engine_available(timeout: float = DOCKER_PROBE_TIMEOUT) -> tuple[bool, str]:
    """Ping the Docker engine; never takes (much) longer than ``timeout`` seconds.

    ``docker.from_env()`` already calls the engine (API version negotiation), and a TCP
    DOCKER_HOST that drops packets would hang for the HTTP timeout on each call, so the probe
    runs in a daemon thread with a hard wall-clock bound.
    """
    outcome: list[tuple[bool, str]] = []

    def probe() -> None:
        try:
            import docker
        except ImportError:
            outcome.append((False, "the docker package is not installed"))
            return
        client = None
        try:
            client = docker.from_env(timeout=max(1, int(timeout)))
            client.ping()
            outcome.append((True, "a Docker engine answered ping"))
        except Exception as exc:  # DockerException, requests errors, ...
            outcome.append((False, f"no Docker engine: {type(exc).__name__}: {exc}"))
        finally:
            if client is not None:
                with contextlib.suppress(Exception):
                    client.close()

    thread = threading.Thread(target=probe, name="docker-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        return False, f"no Docker engine: no answer within {timeout:.1f}s"
    return outcome[0]


def choose_broker(
    environ: Mapping[str, str] | None = None,
    docker_probe: Callable[[], tuple[bool, str]] = docker_engine_available,
) -> BrokerChoice:
    """Decide which broker to use, without starting anything."""
    env = os.environ if environ is None else environ
    bootstrap = env.get(BOOTSTRAP_ENV, "").strip()
    if bootstrap:
        return BrokerChoice("env", f"{BOOTSTRAP_ENV}={bootstrap}", bootstrap)
    available, why = docker_probe()
    if available:
        return BrokerChoice("testcontainers", why)
    return BrokerChoice("embedded", f"{why}; using the embedded tansu broker")


@contextlib.contextmanager
def provide_broker(choice: BrokerChoice, environ: Mapping[str, str] | None = None) -> Iterator[str]:
    """Start (or just point at) the chosen broker; yield its bootstrap string."""
    env = os.environ if environ is None else environ
    if choice.kind == "env":
        assert choice.bootstrap
        yield choice.bootstrap
    elif choice.kind == "testcontainers":
        # testcontainers >= 4.? moved the module; `testcontainers.kafka` now only warns.
        try:
            from testcontainers.community.kafka import KafkaContainer
        except ImportError:  # older testcontainers
            from testcontainers.kafka import KafkaContainer

        image = env.get(KAFKA_IMAGE_ENV, DEFAULT_KAFKA_IMAGE)
        with KafkaContainer(image).with_kraft() as kafka:
            yield kafka.get_bootstrap_server()
    else:
        from streams.broker import EmbeddedBroker

        with EmbeddedBroker() as broker:
            yield broker.bootstrap


@contextlib.contextmanager
def session_broker(announce: Callable[[str], None] | None = None) -> Iterator[str]:
    """Choose, announce and provide the broker for a test session."""
    choice = choose_broker()
    message = choice.describe()
    log.info(message)
    if announce is not None:
        announce(message)
    with provide_broker(choice) as bootstrap:
        if announce is not None and choice.kind != "env":
            announce(f"kafka broker for tests: {choice.kind} at {bootstrap}")
        yield bootstrap
