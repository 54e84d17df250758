"""`qbsync up`'s children: start one, wait until it answers HTTP, notice the first that exits.

Every wait has a deadline and gives up at once when a signal asks the stack to stop, or when the
child it waits for has exited (then the error names it and its log).
"""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from qbsync.processes import spawn_child, stop_child
from streams.broker import find_free_port

HOST = "127.0.0.1"
READY_TIMEOUT_S = 60.0
EXIT_UNKNOWN = 1000  # a part that is gone but whose exit status is not known


class StartFailed(Exception):
    """The stack could not come up; the message says which part and where its log is."""


class Stopped(Exception):
    """A signal asked the stack to stop while it was still starting."""


@dataclass(frozen=True)
class Part:
    name: str
    pid: int | None
    log: Path
    exit_code: Callable[[], int | None]  # None while it runs


def free_or_other(port: int) -> int:
    """The usual port if nothing listens on it, else a free one (a second `up` must work)."""
    with socket.socket() as probe:
        # As servers bind (uvicorn, tansu): a port held only by closed connections is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return find_free_port()
    return port


def how_it_ended(code: int) -> str:
    if code == EXIT_UNKNOWN:
        return "exited"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
    return f"exited with status {code}"


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Children:
    """The parts of the stack, stopped in reverse order of start when `cleanup` closes."""

    def __init__(
        self, env: Mapping[str, str], log_dir: Path, cleanup: ExitStack, stop: threading.Event
    ) -> None:
        self.env, self.log_dir, self.stop = dict(env), log_dir, stop
        self._cleanup = cleanup
        self.parts: list[Part] = []

    def add(self, part: Part) -> Part:
        self.parts.append(part)
        return part

    def spawn(
        self, name: str, qbsync_args: list[str], env: Mapping[str, str] | None = None
    ) -> Part:
        """`python -m qbsync ARGS` as a child that dies with us; output in logs/NAME.log."""
        log = self.log_dir / f"{name}.log"
        proc = spawn_child([sys.executable, "-m", "qbsync", *qbsync_args], env or self.env, log)
        self._cleanup.callback(stop_child, proc)
        return self.add(Part(name, proc.pid, log, proc.poll))

    def check(self, part: Part) -> None:
        if self.stop.is_set():
            raise Stopped
        code = part.exit_code()
        if code is not None:
            raise StartFailed(
                f"{part.name} {how_it_ended(code)} while starting; log {part.log}:\n"
                + log_tail(part.log)
            )

    def wait_http(self, part: Part, url: str, timeout: float = READY_TIMEOUT_S) -> Any:
        """Wait until GET `url` answers 200 (its JSON body is returned), at most `timeout` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check(part)
            try:
                answer = httpx.get(url, timeout=2.0)
                if answer.status_code == 200:
                    return answer.json()
            except httpx.TransportError:
                pass
            self.stop.wait(0.1)
        raise StartFailed(f"{part.name} did not answer {url} within {timeout:g} s; log {part.log}")


def watch(parts: list[Part], stop: threading.Event) -> tuple[Part, int] | None:
    """Block until a signal (None) or until a part exits on its own (that part, its code)."""
    while not stop.wait(0.5):
        for part in parts:
            code = part.exit_code()
            if code is not None and not stop.is_set():
                return part, code
    return None
