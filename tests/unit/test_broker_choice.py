"""Which broker the test fixtures pick (no Docker engine required)."""

from __future__ import annotations

import time

import pytest

from tests.support import broker as support
from tests.support.broker import BOOTSTRAP_ENV, choose_broker, docker_engine_available


def _fail_probe() -> tuple[bool, str]:
    raise AssertionError("the Docker probe must not run when the env var is set")


def test_env_var_wins_over_docker_and_embedded() -> None:
    choice = choose_broker({BOOTSTRAP_ENV: "kafka-1:9092,kafka-2:9092"}, docker_probe=_fail_probe)
    assert choice.kind == "env"
    assert choice.bootstrap == "kafka-1:9092,kafka-2:9092"


def test_blank_env_var_is_ignored() -> None:
    choice = choose_broker({BOOTSTRAP_ENV: "  "}, docker_probe=lambda: (False, "no engine"))
    assert choice.kind == "embedded"


def test_docker_engine_answering_picks_testcontainers() -> None:
    choice = choose_broker({}, docker_probe=lambda: (True, "pong"))
    assert choice.kind == "testcontainers"


def test_without_docker_engine_detection_is_fast_and_picks_embedded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    # Point the client at a socket path where nothing listens: no engine, whatever this
    # machine has (a real engine elsewhere must not make this test depend on it).
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    started = time.monotonic()
    choice = choose_broker({})
    elapsed = time.monotonic() - started
    assert choice.kind == "embedded", choice
    assert elapsed < 2.0
    assert "no Docker engine" in choice.reason


def test_docker_probe_is_bounded_even_when_the_engine_hangs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import docker

    def hanging_from_env(**kwargs: object) -> object:
        time.sleep(10)
        raise AssertionError("unreachable")

    monkeypatch.setattr(docker, "from_env", hanging_from_env)
    started = time.monotonic()
    available, reason = docker_engine_available(timeout=0.2)
    assert not available
    assert "no answer" in reason
    assert time.monotonic() - started < 1.0


def test_choice_is_described_for_the_log() -> None:
    choice = support.BrokerChoice("embedded", "no Docker engine")
    assert choice.describe() == "kafka broker for tests: embedded (no Docker engine)"
