"""`qbsync up`: the main job on embedded defaults — broker, topics, engine worker — until stopped.

A supervisor, not a framework: each part is a child process that dies with this one, and the
supervisor prints where each part listens. Later parts (store, sandboxes, bridges, HTTP API) join
the same list.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import threading
from contextlib import ExitStack
from types import FrameType

from rich.console import Console
from rich.table import Table

from qbsync.config import Settings
from qbsync.logs import configure_logging, get_logger
from qbsync.processes import spawn_child, stop_child
from schemas.topics import TOPICS
from streams.admin import ensure_topics
from streams.app import sized_topics
from streams.broker import EmbeddedBroker, find_free_port

log = get_logger(__name__)


def _wait_for_signal(stop: threading.Event) -> None:
    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)


def _free_or_other(port: int) -> int:
    """The configured port if nothing listens on it, else a free one (a second `up` must work)."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return find_free_port()
    return port


def run_up(settings: Settings) -> int:
    configure_logging(settings.log_level, settings.log_format)
    console = Console(stderr=False)
    stop = threading.Event()
    _wait_for_signal(stop)
    with ExitStack() as cleanup:
        bootstrap = settings.kafka_bootstrap
        broker_desc = f"external Kafka at {bootstrap}"
        broker_pid: int | None = None
        if not bootstrap:
            broker = EmbeddedBroker(
                port=settings.embedded_broker_port,
                log_path=settings.data_dir / "logs" / "broker.log",
            )
            bootstrap = broker.start()
            cleanup.callback(broker.stop)
            broker_pid = broker.pid
            broker_desc = f"embedded tansu (pid {broker_pid}), memory storage"
        asyncio.run(ensure_topics(bootstrap, sized_topics(settings)))

        env = {**os.environ, "QBSYNC_KAFKA_BOOTSTRAP": bootstrap}
        worker_log = settings.data_dir / "logs" / "worker.log"
        web_port = _free_or_other(settings.worker_web_port)
        worker = spawn_child(
            [sys.executable, "-m", "qbsync", "worker", "--web-port", str(web_port)], env, worker_log
        )
        cleanup.callback(stop_child, worker)

        table = Table(title="qbsync is up", show_lines=False)
        table.add_column("part")
        table.add_column("where")
        table.add_row("Kafka bootstrap", f"{bootstrap}  ({broker_desc})")
        table.add_row("engine worker", f"pid {worker.pid}, web port {web_port}, log {worker_log}")
        table.add_row("topics", ", ".join(t.name for t in TOPICS))
        console.print(table)
        log.info("stack_up", bootstrap=bootstrap, broker_pid=broker_pid, worker_pid=worker.pid)
        console.print("Publish CRM events to qbsync.crm.changes.v1 keyed by tenant. Ctrl-C stops.")

        while not stop.wait(1.0):
            if worker.poll() is not None:
                log.error("worker_exited", code=worker.returncode, log=str(worker_log))
                return 1
        console.print("stopping…")
    return 0
