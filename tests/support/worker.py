"""Run `qbsync worker` as a real child process against the test broker."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

from qbsync.processes import spawn_child, stop_child
from streams.broker import find_free_port


@contextlib.contextmanager
def running_worker(
    bootstrap: str, log_dir: Path, app_id: str | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A worker in its own consumer group (unique app id) so tests do not share offsets."""
    env = {
        **os.environ,
        "QBSYNC_KAFKA_BOOTSTRAP": bootstrap,
        "QBSYNC_APP_ID": app_id or f"qbsync-test-{uuid.uuid4().hex[:8]}",
        "QBSYNC_WORKER_WEB_PORT": str(find_free_port()),
        "QBSYNC_DATA_DIR": str(log_dir),
        "QBSYNC_LOG_FORMAT": "json",
    }
    log_path = log_dir / "worker.log"
    proc = spawn_child([sys.executable, "-m", "qbsync", "worker"], env, log_path)
    try:
        yield proc
    finally:
        stop_child(proc)


def log_tail(log_dir: Path, lines: int = 30) -> str:
    path = log_dir / "worker.log"
    return (
        "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""
    )
