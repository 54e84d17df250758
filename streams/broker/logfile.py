"""The broker's output file: a temporary or a kept log, this run's tail, and clean-up."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from pathlib import Path
from typing import IO

__all__ = ["LOG_TAIL_BYTES", "BrokerLog", "read_tail"]

LOG_TAIL_BYTES = 4096
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def read_tail(path: Path | None, limit: int = LOG_TAIL_BYTES, start: int = 0) -> str:
    """The last ``limit`` bytes of ``path`` after offset ``start``, ANSI escapes removed."""
    if path is None:
        return ""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(start, size - limit))
            data = fh.read()
    except OSError:
        return ""
    text = _ANSI_ESCAPE.sub("", data.decode("utf-8", errors="replace"))
    return text.strip()


class BrokerLog:
    """Where one broker's output goes, run after run.

    ``requested=None`` writes each run to a new temporary file, removed by :meth:`drop_temp`;
    a ``requested`` path is appended to and kept. :attr:`path` is None until :meth:`open`.
    """

    def __init__(self, requested: Path | None) -> None:
        self.requested = requested
        self.path: Path | None = None
        self.is_temp = False
        self.offset = 0  # where this run starts in an appended log

    def open(self) -> IO[bytes]:
        """Open the log for a new run (after a header line); the caller closes the handle."""
        if self.requested is not None:
            self.requested.parent.mkdir(parents=True, exist_ok=True)
            self.path, self.is_temp = self.requested, False
            fh = self.requested.open("ab")
        else:
            fd, name = tempfile.mkstemp(prefix="qbsync-tansu-", suffix=".log")
            self.path, self.is_temp = Path(name), True
            fh = os.fdopen(fd, "wb")
        fh.write(f"--- qbsync: starting tansu at {time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n".encode())
        fh.flush()
        self.offset = fh.tell()  # earlier runs in an appended log are not this run's tail
        return fh

    def tail(self, limit: int = LOG_TAIL_BYTES) -> str:
        """The last ``limit`` bytes of this run's output (ANSI colours stripped)."""
        return read_tail(self.path, limit, self.offset)

    def ref(self) -> str:
        """How error messages name this log."""
        return "broker log" if self.is_temp else f"log {self.path}"

    def drop_temp(self) -> None:
        """Remove a temporary log (a requested one is kept)."""
        if self.is_temp and self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
            self.path = None
