"""The :class:`EmbeddedBroker` lifecycle: spawn tansu, wait until it is ours and ready, stop it.

See the :mod:`streams.broker` package docstring for the guarantees, and for the thread caveat
of ``start()``.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from streams.broker.errors import BrokerError, BrokerStartError, PortInUseError
from streams.broker.logfile import LOG_TAIL_BYTES, BrokerLog
from streams.broker.ports import (
    check_port_free,
    find_free_port,
    hostport,
    wait_for_socket_owner,
)
from streams.broker.readiness import run_coroutine_in_thread, wait_ready
from streams.broker.tansu import (
    ADDR_IN_USE_MARKERS,
    DEFAULT_STORAGE_ENGINE,
    cluster_id_for,
    kill_tansu,
    spawn_tansu,
    stop_tansu,
    tansu_command,
    tansu_env,
)

__all__ = ["EmbeddedBroker"]

log = logging.getLogger("streams.broker")  # the package's logger, as before the split


class EmbeddedBroker:
    """A tansu broker child process on a loopback port (memory storage unless told otherwise).

    ``port=None`` picks a free port at each start. ``log_path=None`` writes the broker's
    output to a temporary file that is removed on stop and after a failed start (whose error
    quotes its tail); a given ``log_path`` is appended to and kept. See the
    :mod:`streams.broker` package docstring for the thread caveat of ``start()``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int | None = None,
        log_path: Path | None = None,
        *,
        storage_engine: str = DEFAULT_STORAGE_ENGINE,
        advertised_host: str | None = None,
    ) -> None:
        if port is not None and not 0 < port < 65536:
            raise ValueError(f"port must be in 1..65535, got {port}")
        self.host = host
        self.storage_engine = storage_engine
        self.advertised_host = advertised_host or (
            "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        )
        self._requested_port = port
        self._port: int | None = port
        self.cluster_id: str | None = None  # set at each start
        self._log = BrokerLog(Path(log_path) if log_path is not None else None)
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.RLock()
        self._atexit_registered = False

    # -- properties ---------------------------------------------------------------------------

    @property
    def port(self) -> int | None:
        return self._port

    @property
    def bootstrap(self) -> str:
        """``host:port`` as clients should use it (the advertised address)."""
        if self._port is None:
            raise BrokerError("the embedded broker has no port yet: call start() first")
        return hostport(self.advertised_host, self._port)

    @property
    def pid(self) -> int | None:
        """Process id of the running broker, None when not started or stopped."""
        return self._proc.pid if self._proc is not None else None

    @property
    def log_path(self) -> Path | None:
        return self._log.path

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, limit: int = LOG_TAIL_BYTES) -> str:
        """The last ``limit`` bytes of this run's broker output (ANSI colours stripped)."""
        return self._log.tail(limit)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, timeout: float = 20.0) -> str:
        """Start the broker and wait until it answers Metadata; return the bootstrap string.

        Idempotent while running. Raises :class:`PortInUseError` when an explicit port is
        taken, and :class:`BrokerStartError` (with the tail of the broker's log) when the
        process exits during start or does not answer within ``timeout`` seconds.
        """
        with self._lock:
            if self.running:
                return self.bootstrap
            self._discard_process()
            attempts = 3 if self._requested_port is None else 1
            for attempt in range(1, attempts + 1):
                try:
                    return self._start_once(timeout)
                except PortInUseError:
                    # A free port chosen by us can be taken by someone else before tansu
                    # binds it; pick another one.
                    if attempt == attempts:
                        raise
                    log.info("port race on %s, retrying with another port", self._port)
            raise AssertionError("unreachable")  # pragma: no cover

    def _start_once(self, timeout: float) -> str:
        port = self._requested_port or find_free_port(self.host)
        check_port_free(self.host, port)
        self._port = port
        self.cluster_id = cluster_id_for(self.storage_engine)
        argv = tansu_command(
            listener=f"tcp://{hostport(self.host, port)}",
            advertised=f"tcp://{hostport(self.advertised_host, port)}",
            storage_engine=self.storage_engine,
            cluster_id=self.cluster_id,
        )
        env = tansu_env()

        log_file = self._log.open()
        started = time.monotonic()
        try:
            # Spawned from the calling thread on purpose: PR_SET_PDEATHSIG follows this thread.
            self._proc = spawn_tansu(argv, env, log_file)
        finally:
            log_file.close()
        self._register_atexit()
        log.debug("spawned tansu pid=%s: %s", self._proc.pid, " ".join(argv))

        proc = self._proc
        try:
            run_coroutine_in_thread(
                lambda: wait_ready(self.bootstrap, timeout, abort=self._start_abort_reason)
            )
            self._confirm_ownership(proc, port, deadline=started + timeout)
        except BaseException as exc:
            tail = self.log_tail()
            self._kill_now()
            self._log.drop_temp()  # its tail is in the error; a named log_path is kept
            if isinstance(exc, BrokerStartError):
                if any(marker in tail for marker in ADDR_IN_USE_MARKERS):
                    raise PortInUseError(
                        f"cannot start the embedded Kafka broker: {hostport(self.host, port)} "
                        f"is already in use (tansu could not bind it); {self._log.ref()}:\n"
                        f"{tail}"
                    ) from exc
                raise
            if isinstance(exc, TimeoutError):
                raise BrokerStartError(
                    f"the embedded Kafka broker (tansu) did not answer on {self.bootstrap} "
                    f"within {timeout:.1f}s; {self._log.ref()}:\n{tail}"
                ) from exc
            raise
        log.info(
            "embedded Kafka broker (tansu pid %s) ready at %s in %.0f ms, storage %s",
            proc.pid,
            self.bootstrap,
            (time.monotonic() - started) * 1000,
            self.storage_engine,
        )
        return self.bootstrap

    def _start_abort_reason(self) -> str | None:
        """Called by the readiness loop (helper thread): why to give up, or None."""
        proc = self._proc
        if proc is None:
            return "the embedded Kafka broker was stopped during start"
        code = proc.poll()
        if code is None:
            return None
        return self._exited_during_start(code)

    def _exited_during_start(self, code: int) -> str:
        time.sleep(0.05)  # let the last log lines land
        return (
            f"the embedded Kafka broker (tansu) exited with status {code} during start; "
            f"{self._log.ref()}:\n{self.log_tail()}"
        )

    def _confirm_ownership(self, proc: subprocess.Popen[bytes], port: int, deadline: float) -> None:
        """Make sure the broker that answered is ours, not another listener on the port.

        If another broker holds the port, ours fails to bind and exits within milliseconds;
        until then (or until ``deadline``, a ``time.monotonic()`` value) we keep looking.
        """
        if wait_for_socket_owner(proc, port, max(deadline, time.monotonic() + 1.0)):
            return
        if (code := proc.poll()) is not None:
            raise BrokerStartError(self._exited_during_start(code))
        raise BrokerStartError(
            f"a Kafka broker answers on {hostport(self.host, port)} but it is not the "
            f"embedded one (pid {proc.pid}); {self._log.ref()}:\n{self.log_tail()}"
        )

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM the broker, wait up to ``timeout`` s, then SIGKILL. Idempotent."""
        with self._lock:
            proc = self._proc
            if proc is None:
                return
            stop_tansu(proc, timeout)
            self._discard_process()
            self._log.drop_temp()
            if self._requested_port is None:
                self._port = None

    def _kill_now(self) -> None:
        if self._proc is not None:
            kill_tansu(self._proc)
            self._discard_process()

    def _discard_process(self) -> None:
        self._proc = None
        if self._atexit_registered:
            atexit.unregister(self._atexit_stop)
            self._atexit_registered = False

    def _register_atexit(self) -> None:
        if not self._atexit_registered:
            atexit.register(self._atexit_stop)
            self._atexit_registered = True

    def _atexit_stop(self) -> None:
        with contextlib.suppress(Exception):
            self.stop(timeout=2.0)

    # -- context manager ----------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid={self.pid} {self.bootstrap}" if self.running else "stopped"
        return f"<EmbeddedBroker {state} storage={self.storage_engine}>"
