"""Shared fixtures. Keep this file small: put fixture logic in tests/support/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.broker import session_broker


@pytest.fixture(scope="session")
def kafka_bootstrap(request: pytest.FixtureRequest) -> Iterator[str]:
    """Bootstrap servers of a Kafka-protocol broker for the whole session.

    QBSYNC_KAFKA_BOOTSTRAP if set, else testcontainers Kafka if Docker answers, else the
    embedded tansu broker (tests/support/broker.py). The choice is printed on the terminal.
    """
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")

    def announce(line: str) -> None:
        if reporter is None or capture is None:
            print(line)
            return
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)

    with session_broker(announce) as bootstrap:
        yield bootstrap


@pytest.fixture(scope="session")
def engine_worker(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[object, object]]:
    """One real `qbsync worker` process for the session (its own consumer group)."""
    from tests.support.worker import running_worker

    log_dir = tmp_path_factory.mktemp("engine-worker")
    with running_worker(kafka_bootstrap, log_dir) as proc:
        yield proc, log_dir
