"""Addresses and ports: ``host:port`` strings, free ports, port-in-use and socket ownership."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import subprocess
import time
from pathlib import Path

from streams.broker.errors import PortInUseError

__all__ = [
    "check_port_free",
    "find_free_port",
    "hostport",
    "socket_owned_by",
    "split_bootstrap",
    "wait_for_socket_owner",
]


def hostport(host: str, port: int) -> str:
    """``host:port``, with an IPv6 ``host`` in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def split_bootstrap(bootstrap: str) -> list[tuple[str, int]]:
    """``(host, port)`` pairs of a comma-separated bootstrap string (port 9092 by default)."""
    hosts: list[tuple[str, int]] = []
    for item in bootstrap.split(","):
        item = item.strip()
        if not item:
            continue
        if item.startswith("["):  # [v6]:port
            host, _, port = item[1:].partition("]:")
        else:
            host, _, port = item.rpartition(":")
        hosts.append((host or "localhost", int(port or 9092)))
    if not hosts:
        raise ValueError(f"empty bootstrap string: {bootstrap!r}")
    return hosts


def find_free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now (the OS picks it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def check_port_free(host: str, port: int) -> None:
    """Raise :class:`PortInUseError` if something already listens on ``host:port``.

    SO_REUSEADDR mirrors what tansu (tokio) does, so a TIME_WAIT leftover does not count as
    taken, while a live listener does.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUseError(
                    f"cannot start the embedded Kafka broker: {hostport(host, port)} is already "
                    "in use by another process (choose another port, or leave the port unset to "
                    "get a free one)"
                ) from exc
            raise


def socket_owned_by(pid: int, port: int) -> bool | None:
    """Does process ``pid`` hold a TCP socket listening on ``port``?

    None when this cannot be known (no Linux ``/proc``); False also when ``pid`` is gone.
    """
    if not Path("/proc/self/net/tcp").exists():
        return None
    inodes: set[str] = set()
    try:
        for table in ("tcp", "tcp6"):
            path = Path(f"/proc/{pid}/net/{table}")
            if not path.exists():
                continue
            for line in path.read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) < 10:
                    continue
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A = LISTEN
                    inodes.add(inode)
        if not inodes:
            return False
        wanted = {f"socket:[{inode}]" for inode in inodes}
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) in wanted:
                    return True
        return False
    except OSError:  # the process went away while we looked
        return False
    except ValueError:  # an unexpected /proc format
        return None


def wait_for_socket_owner(proc: subprocess.Popen[bytes], port: int, deadline: float) -> bool:
    """Wait until ``proc`` holds the socket listening on ``port``.

    True once it does, or at once where this cannot be known (no Linux ``/proc``). False when
    ``proc`` exits first, or when ``deadline`` (a ``time.monotonic()`` value) passes.
    """
    while True:
        if proc.poll() is not None:
            return False
        owned = socket_owned_by(proc.pid, port)
        if owned is None or owned:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
