"""``qbsync broker``: run an embedded broker in the foreground until a signal."""

from __future__ import annotations

import signal
import threading
from types import FrameType

from streams.broker.errors import BrokerError
from streams.broker.launcher import EmbeddedBroker

__all__ = ["serve_forever"]


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
