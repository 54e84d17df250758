"""`qbsync up`: the whole local stack for one demo tenant, syncing until stopped.

1. the Kafka-protocol broker (embedded tansu unless QBSYNC_KAFKA_BOOTSTRAP) and the topics;
2. the QBO and Pipeline CRM sandboxes, seeded with matching data (up_sandboxes.py);
3. the demo tenant connected to QBO through our own OAuth connect flow;
4. the engine worker and `qbsync api` with every bridge on (up_api.py);
5. the sandboxes' webhooks pointed at the api, so a change in either reaches Kafka;
6. a table of where each part listens (up_table.py) and a `stack_up` log event.

A supervisor, not a framework: each part is a child process that dies with this one
(qbsync/processes.py). A signal stops everything (exit 0); a part that exits on its own is
named with its log, the rest is stopped and the exit status is 1.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from contextlib import ExitStack
from types import FrameType

import httpx
from rich.console import Console

from qbsync.config import Settings
from qbsync.logs import configure_logging, get_logger
from qbsync.up_api import DemoKeys, qbo_app_env, settings_with, start_api
from qbsync.up_children import (
    EXIT_UNKNOWN,
    Children,
    Part,
    StartFailed,
    Stopped,
    free_or_other,
    how_it_ended,
    log_tail,
    watch,
)
from qbsync.up_sandboxes import (
    connect_qbo,
    crm_account_env,
    register_crm_webhooks,
    register_qbo_webhook,
    start_sandboxes,
)
from qbsync.up_table import Stack, print_stack
from qbsync.up_tenant import DEMO_CRM_ACCOUNT, install_demo_tenant
from streams.admin import ensure_topics
from streams.app import sized_topics
from streams.broker import BrokerError, EmbeddedBroker

log = get_logger(__name__)

DEMO_TENANT = "demo"
DEMO_SEED = 200  # customers per QBO company and people in the CRM (`qbsync up --seed N`)


def _stop_on_signals(stop: threading.Event) -> None:
    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)


def run_up(settings: Settings, seed: int = DEMO_SEED) -> int:
    """Start everything, set the demo tenant up (install, enable, import), sync until stopped."""
    configure_logging(settings.log_level, settings.log_format)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise here
    console = Console(width=None if sys.stdout.isatty() else 120)
    stop = threading.Event()
    _stop_on_signals(stop)
    with ExitStack() as cleanup:
        try:
            stack = start_stack(settings, seed, cleanup, stop)
        except Stopped:
            console.print("stopping…")
            return 0
        except (StartFailed, BrokerError, httpx.HTTPError) as exc:
            log.error("stack_start_failed", reason=str(exc))
            return 1
        log.info(
            "stack_up",
            tenant=stack.tenant,
            bootstrap=stack.bootstrap,
            broker_pid=_pid(stack, "broker"),
            worker_pid=stack.worker.pid,
            qbo_sandbox_pid=stack.qbo.part.pid,
            qbo_sandbox_url=stack.qbo.url,
            qbo_discovery_url=stack.qbo.discovery_url,
            qbo_realm_id=stack.realm_id,
            crm_sandbox_pid=stack.crm.part.pid,
            crm_sandbox_url=stack.crm.url,
            api_pid=stack.api.part.pid,
            api_url=stack.api.url,
            api_parts=stack.api.parts,
            pids={p.name: p.pid for p in stack.parts if p.pid is not None},
            logs=str(stack.log_dir),
        )
        asyncio.run(
            install_demo_tenant(stack.bootstrap, stack.tenant, stack.realm_id, DEMO_CRM_ACCOUNT)
        )
        print_stack(console, stack)  # last, so the table is what a terminal shows
        exited = watch(stack.parts, stop)
        if exited is not None:
            part, code = exited
            log.error("part_exited", part=part.name, code=code, log=str(part.log))
            console.print(
                f"{part.name} {how_it_ended(code)}; its log, {part.log}, ends:", markup=False
            )
            console.print(log_tail(part.log), markup=False, highlight=False, soft_wrap=True)
            console.print("stopping the rest…")
            return 1
        console.print("stopping…")
    console.print("stopped.")
    return 0


def _exit_code_of(broker: EmbeddedBroker) -> Callable[[], int | None]:
    """The broker's liveness as an exit code (its launcher does not show the real status)."""
    return lambda: None if broker.running else EXIT_UNKNOWN


def _pid(stack: Stack, name: str) -> int | None:
    return next((p.pid for p in stack.parts if p.name == name), None)


def start_stack(settings: Settings, seed: int, cleanup: ExitStack, stop: threading.Event) -> Stack:
    data_dir = settings.data_dir.resolve()
    log_dir = data_dir / "logs"
    bootstrap, broker_desc, broker = settings.kafka_bootstrap, "", None
    if bootstrap:
        broker_desc = "external Kafka (QBSYNC_KAFKA_BOOTSTRAP)"
    else:
        broker = EmbeddedBroker(port=settings.embedded_broker_port, log_path=log_dir / "broker.log")
        bootstrap = broker.start()
        cleanup.callback(broker.stop)
        broker_desc = f"embedded tansu, pid {broker.pid}, memory storage"
        if not settings.store_url:
            # The embedded broker and the sandboxes start empty, so the default store does too:
            # a store that remembers links the sandboxes no longer hold would be a lie.
            for stale in data_dir.glob("store.db*"):
                stale.unlink()
    asyncio.run(ensure_topics(bootstrap, sized_topics(settings)))

    env = {**os.environ, "QBSYNC_KAFKA_BOOTSTRAP": bootstrap, "QBSYNC_DATA_DIR": str(data_dir)}
    children = Children(env, log_dir, cleanup, stop)
    if broker is not None:
        children.add(Part("broker", broker.pid, log_dir / "broker.log", _exit_code_of(broker)))

    qbo, crm = start_sandboxes(children, seed)
    api_port = free_or_other(settings.http_port)
    connect_settings = settings_with(
        {**qbo_app_env(qbo, api_port), "QBSYNC_DATA_DIR": str(data_dir)}
    )
    realm_id = connect_qbo(connect_settings, DEMO_TENANT)
    # The worker acts for the demo tenant: our QBO app (its tokens are in the vault) and the
    # tenant's CRM account.
    web_port = free_or_other(settings.worker_web_port)
    worker_env = {**env, **qbo_app_env(qbo, api_port), **crm_account_env(DEMO_TENANT, crm)}
    worker = children.spawn("worker", ["worker", "--web-port", str(web_port)], worker_env)
    keys = DemoKeys()
    api = start_api(
        children, api_port, tenant=DEMO_TENANT, qbo=qbo, realm_id=realm_id, crm=crm, keys=keys
    )
    register_qbo_webhook(qbo, api.qbo_webhook_url)
    crm_hook = f"{api.crm_webhook_url(DEMO_TENANT)}?token={keys.crm_webhook_token}"
    register_crm_webhooks(crm, crm_hook, children)
    children.check(worker)
    return Stack(
        DEMO_TENANT, seed, bootstrap, broker_desc, qbo, realm_id, crm, api, keys, worker,
        web_port, log_dir, children.parts,
    )  # fmt: skip
