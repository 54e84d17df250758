"""The store's critical sections, as context-manager classes.

Not @contextmanager generators: QboFault is a frozen dataclass, and contextlib's generator
wrapper assigns `__traceback__` on the exception it re-raises, which a frozen instance refuses.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from types import TracebackType

from sandbox.qbo.changes import EntityChange
from sandbox.qbo.clock import SandboxClock
from sandbox.qbo.realm import RealmState


class Locked:
    """`with Locked(lock, lookup) as realm:` a company's state under the store lock."""

    def __init__(self, lock: threading.RLock, lookup: Callable[[], RealmState]) -> None:
        self._lock = lock
        self._lookup = lookup

    def __enter__(self) -> RealmState:
        self._lock.acquire()
        try:
            return self._lookup()
        except BaseException:
            self._lock.release()
            raise

    def __exit__(self, *_: object) -> None:
        self._lock.release()


class Mutation:
    """One write: the lock, the time of the write, and the changes it reports (`pending`),
    handed to `emit` once the lock is released, or dropped if the write failed."""

    def __init__(
        self,
        locked: Locked,
        clock: SandboxClock,
        pending: list[EntityChange],
        emit: Callable[[list[EntityChange]], None],
    ) -> None:
        self._locked = locked
        self._clock = clock
        self._pending = pending
        self._emit = emit
        self._start = 0

    def __enter__(self) -> tuple[RealmState, datetime]:
        realm = self._locked.__enter__()
        self._start = len(self._pending)
        return realm, self._clock.now_precise()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        changes = self._pending[self._start :]
        del self._pending[self._start :]
        self._locked.__exit__()
        if exc is None:
            self._emit(changes)
