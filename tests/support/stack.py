"""The whole engine for end-to-end tests: its own embedded broker, both sandboxes as real HTTP
servers, a real store, `qbsync worker` processes, and the webhook bridges of `qbsync api`.

Each stack has its own broker, so its workers, topics and consumer groups see nothing of other
tests. Changes made in a sandbox reach the engine the production way: the sandbox sends its
webhook, the bridge (in this process, served by uvicorn) fetches the record and publishes it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from adapters.kafka import KafkaPublisher
from adapters.qbo.secret_key import load_secret_key
from adapters.qbo.tokens import TokenSet
from adapters.qbo.vault import SqliteTokenVault
from qbsync.config import Settings
from qbsync.processes import spawn_child, stop_child
from sandbox.crm.config import CrmSandboxConfig
from sandbox.crm.server import create_app as create_crm_app
from sandbox.qbo.config import QboSandboxConfig, SandboxRealm, SandboxUser
from schemas.envelope import Envelope
from schemas.requests import Actor
from schemas.topics import TOPICS, topic_for
from store import QbsyncStore, open_store
from streams.admin import ensure_topics
from streams.broker import EmbeddedBroker, find_free_port
from tests.support.qbo_sandbox import RunningSandbox, running_sandbox
from tests.support.servers import serving

ADMIN = Actor(user_id=1, is_admin=True)
SECRET_KEY = "q0d6qJcS8G2K0c0m3cQxVf5y1yH3bX9s4mQwQd0n3nM="
Record = dict[str, Any]
TOPIC_PARTITIONS = 4


@dataclass
class CrmAccount:
    base_url: str
    config: CrmSandboxConfig

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v3"

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        params = {
            "api_key": self.config.admin_api_key,
            "app_key": self.config.app_key,
            **kwargs.pop("params", {}),
        }
        for _ in range(20):
            answer = httpx.request(
                method, f"{self.api_url}/{path}", params=params, timeout=10, **kwargs
            )
            if answer.status_code != 429:
                break
            time.sleep(0.2)
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = httpx.request(method, f"{self.base_url}/_sandbox{path}", timeout=30, **kwargs)
        answer.raise_for_status()
        return answer.json() if answer.content else None


@dataclass
class Stack:
    bootstrap: str
    data_dir: Path
    store_url: str
    qbo: RunningSandbox
    crm: dict[str, CrmAccount]
    realms: dict[str, str]  # tenant → realm id
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    app_id: str = field(default_factory=lambda: f"qbsync-e2e-{uuid.uuid4().hex[:8]}")
    _store: QbsyncStore | None = None

    # --- the engine ----------------------------------------------------------------------------

    def worker_env(self) -> dict[str, str]:
        crm_urls = ",".join(f"{t}={a.api_url}" for t, a in self.crm.items())
        crm_keys = ",".join(f"{t}={a.config.admin_api_key}" for t, a in self.crm.items())
        app_key = next(iter(self.crm.values())).config.app_key
        return {
            **os.environ,
            "QBSYNC_KAFKA_BOOTSTRAP": self.bootstrap,
            "QBSYNC_APP_ID": self.app_id,
            "QBSYNC_DATA_DIR": str(self.data_dir),
            "QBSYNC_STORE_URL": self.store_url,
            "QBSYNC_SECRET_KEY": SECRET_KEY,
            "QBSYNC_LOG_FORMAT": "json",
            "QBSYNC_TOPIC_PARTITIONS": str(TOPIC_PARTITIONS),
            "QBSYNC_DECIDER_BATCH_WAIT_MS": "20",
            "QBSYNC_BROKER_SESSION_TIMEOUT_S": "6",
            "QBSYNC_QBO_BASE_URL": self.qbo.base_url,
            "QBSYNC_QBO_DISCOVERY_URL": self.qbo.discovery_url,
            "QBSYNC_QBO_CLIENT_ID": self.qbo.config.client_id,
            "QBSYNC_QBO_CLIENT_SECRET": self.qbo.config.client_secret,
            "QBSYNC_QBO_THROTTLE_PAUSE_S": "0.2",
            "QBSYNC_CRM_BASE_URLS": crm_urls,
            "QBSYNC_CRM_API_KEYS": crm_keys,
            "QBSYNC_CRM_APP_KEY": app_key,
        }

    def start_worker(self, extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        env = {
            **self.worker_env(),
            "QBSYNC_WORKER_WEB_PORT": str(find_free_port()),
            **(extra_env or {}),
        }
        log = self.data_dir / f"worker-{len(self.workers)}.log"
        proc = spawn_child([sys.executable, "-m", "qbsync", "worker"], env, log)
        self.workers.append(proc)
        return proc

    def kill_worker(self, proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def worker_logs(self, lines: int = 40) -> str:
        tails = []
        for path in sorted(self.data_dir.glob("worker-*.log")):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            tails.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n".join(tails)

    @property
    def store(self) -> QbsyncStore:
        if self._store is None:
            self._store = open_store(self.store_url)
        return self._store

    # --- Kafka ---------------------------------------------------------------------------------

    async def publish(self, *events: Envelope) -> None:
        publisher = KafkaPublisher(self.bootstrap)
        await publisher.start()
        try:
            for event in events:
                await publisher.publish(topic_for(type(event)), event)
            await publisher.flush()
        finally:
            await publisher.stop()

    async def wait_for(
        self,
        topic: str,
        until: Callable[[list[Record]], bool],
        timeout: float = 60.0,
    ) -> list[Record]:
        """Read `topic` from the beginning until `until(records)` holds."""
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=self.bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=100,
        )
        await consumer.start()
        records: list[Record] = []
        deadline = time.monotonic() + timeout
        try:
            while not until(records):
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{topic}: condition not met in {timeout}s after {len(records)} records"
                        f"\n{self.worker_logs()}"
                    )
                batch = await consumer.getmany(timeout_ms=200)
                for messages in batch.values():
                    records += [json.loads(m.value) for m in messages]
        finally:
            await consumer.stop()
        return records

    async def read_all(self, topic: str) -> list[Record]:
        """Every record on `topic` now (up to its end offsets at the time of the call)."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=100,
        )
        await consumer.start()
        try:
            partitions = [TopicPartition(topic, p) for p in range(TOPIC_PARTITIONS)]
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            records: list[Record] = []

            async def behind() -> bool:
                return any([await consumer.position(tp) < end for tp, end in ends.items()])

            while await behind():
                batch = await consumer.getmany(timeout_ms=200)
                for messages in batch.values():
                    records += [json.loads(m.value) for m in messages]
            return records
        finally:
            await consumer.stop()

    async def decisions(
        self, until: Callable[[list[Record]], bool], timeout: float = 60.0
    ) -> list[Record]:
        return await self.wait_for("qbsync.decisions.v1", until, timeout)

    async def accounted(self, input_id: str, timeout: float = 60.0) -> Record:
        """The decision that accounts for `input_id`: applied, ignored, denied, or (requests) the
        installation change / import start it caused."""
        kinds = {
            "qbsync.decision.input.applied.v1",
            "qbsync.decision.input.ignored.v1",
            "qbsync.decision.request.denied.v1",
            "qbsync.decision.installation.changed.v1",
            "qbsync.decision.import.started.v1",
        }

        def about(record: Record) -> bool:
            data = record["data"]
            cause = data.get("input_id", data.get("request_id"))
            return record["type"] in kinds and cause == input_id

        records = await self.decisions(lambda rs: any(about(r) for r in rs), timeout)
        return next(r for r in records if about(r))

    async def outcome_of(self, command_id: str, timeout: float = 60.0) -> Record:
        def found(records: list[Record]) -> bool:
            return any(r["data"]["command_id"] == command_id for r in records)

        records = await self.wait_for("qbsync.outcomes.v1", found, timeout)
        return next(r for r in records if r["data"]["command_id"] == command_id)

    # --- QBO -----------------------------------------------------------------------------------

    def qbo_api(self, tenant: str, method: str, path: str, **kwargs: Any) -> Any:
        realm = self.realms[tenant]
        access, _ = self.qbo.grant(realm)
        answer = httpx.request(
            method,
            f"{self.qbo.base_url}/v3/company/{realm}/{path}",
            headers={"Authorization": f"Bearer {access}", "Accept": "application/json"},
            params={"minorversion": "75", **kwargs.pop("params", {})},
            timeout=10,
            **kwargs,
        )
        answer.raise_for_status()
        return answer.json()

    def qbo_customer(self, tenant: str, customer_id: str) -> Record:
        return self.qbo_api(tenant, "GET", f"customer/{customer_id}")["Customer"]

    def qbo_query(self, tenant: str, select: str) -> list[Record]:
        body = self.qbo_api(tenant, "GET", "query", params={"query": select})
        response = body["QueryResponse"]
        return next((v for k, v in response.items() if isinstance(v, list)), [])


def _blocking(coroutine: Any) -> Any:
    """Run a coroutine to the end from sync code, even inside an async test's running loop."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _save_tokens(data_dir: Path, tenant: str, sandbox: RunningSandbox, realm: str) -> None:
    access, refresh = sandbox.grant(realm)
    now = datetime.now(UTC)
    vault = SqliteTokenVault.in_data_dir(data_dir, load_secret_key(SECRET_KEY, data_dir))
    tokens = TokenSet(
        tenant_id=tenant,
        realm_id=realm,
        access_token=access,
        refresh_token=refresh,
        access_expires_at=now + timedelta(minutes=55),
        refresh_expires_at=now + timedelta(days=100),
    )
    _blocking(vault.save(tokens))


@contextlib.contextmanager
def running_stack(
    tmp_path: Path,
    tenants: list[str],
    *,
    store_url: str | None = None,
    qbo_config: QboSandboxConfig | None = None,
    crm_overrides: dict[str, Any] | None = None,
) -> Iterator[Stack]:
    """Broker, topics, the QBO sandbox (one realm per tenant), one CRM account per tenant, the
    tenants' QBO tokens in the vault. Workers are started by the test (`start_worker`)."""
    broker = EmbeddedBroker(port=find_free_port(), log_path=tmp_path / "broker.log")
    bootstrap = broker.start()
    realms_config = qbo_config or _qbo_config(len(tenants))
    with contextlib.ExitStack() as stack:
        stack.callback(broker.stop)
        specs = [spec.sized(TOPIC_PARTITIONS, 1) for spec in TOPICS]
        _blocking(ensure_topics(bootstrap, specs))
        qbo = stack.enter_context(running_sandbox(realms_config))
        crm: dict[str, CrmAccount] = {}
        for index, tenant in enumerate(tenants):
            config = CrmSandboxConfig(
                **{
                    "account_id": 482622 + index,
                    "webhook_delay_s": 0.05,
                    "time_scale": 0.01,
                    **(crm_overrides or {}),
                }
            )
            url = stack.enter_context(serving(create_crm_app(config)))
            crm[tenant] = CrmAccount(url, config)
        realms = {
            tenant: realm.realm_id
            for tenant, realm in zip(tenants, realms_config.realms, strict=False)
        }
        for tenant, realm in realms.items():
            _save_tokens(tmp_path, tenant, qbo, realm)
        url = store_url or f"sqlite:///{tmp_path}/store.db"
        result = Stack(bootstrap, tmp_path, url, qbo, crm, realms)
        try:
            yield result
        finally:
            for proc in result.workers:
                stop_child(proc)
            if result._store is not None:
                result._store.close()


def _qbo_config(count: int) -> QboSandboxConfig:
    realms = [
        SandboxRealm(realm_id=str(9130357766900456 + n), company_name=f"Sandbox Company {n + 1}")
        for n in range(count)
    ]
    return QboSandboxConfig(
        realms=realms,
        users=[SandboxUser(username="admin", realm_ids=[r.realm_id for r in realms])],
        rate_per_second=200,
        rate_per_minute=20_000,
        webhook_batch_window_s=0.2,
        time_scale=0.01,
    )


def bridge_settings(stack: Stack, tenant: str, data_dir: Path) -> Settings:
    """`qbsync api` settings for one tenant: QBO webhook bridge + CDC, CRM webhooks."""
    crm = stack.crm[tenant]
    return Settings(
        kafka_bootstrap=stack.bootstrap,
        data_dir=data_dir,
        secret_key=SECRET_KEY,
        qbo_base_url=stack.qbo.base_url,
        qbo_discovery_url=stack.qbo.discovery_url,
        qbo_client_id=stack.qbo.config.client_id,
        qbo_client_secret=stack.qbo.config.client_secret,
        qbo_webhook_verifier_token=stack.qbo.config.webhook_verifier_token,
        qbo_realm_tenants=f"{stack.realms[tenant]}={tenant}",
        crm_base_url=crm.api_url,
        crm_api_key=crm.config.admin_api_key,
        crm_app_key=crm.config.app_key,
        crm_tenant=tenant,
        crm_webhook_tokens=f"{tenant}={WEBHOOK_TOKEN}",
        ingest_keys=f"{tenant}={INGEST_KEY}",
    )


WEBHOOK_TOKEN = "e2e-crm-webhook-token-0001"
INGEST_KEY = "e2e-ingest-key-0001"


@contextlib.contextmanager
def serving_bridges(stack: Stack, tenant: str) -> Iterator[str]:
    """`qbsync api` (in this process) with both sandboxes' webhooks pointed at it."""
    from adapters.http_api import build_api

    data_dir = stack.data_dir  # shares the vault with the workers
    app = build_api(bridge_settings(stack, tenant, data_dir), stack.bootstrap)
    with serving(app) as url:
        httpx.put(
            f"{stack.qbo.base_url}/_sandbox/webhooks", json={"urls": [f"{url}/v1/qbo/webhooks"]}
        ).raise_for_status()
        crm = stack.crm[tenant]
        hook = f"{url}/v1/crm/webhooks/{tenant}?token={WEBHOOK_TOKEN}"
        for model in ("person", "company"):
            for action in ("create", "update", "destroy"):
                crm.api(
                    "POST",
                    "admin/webhooks.json",
                    json={
                        "webhook": {
                            "event_model": model,
                            "event_action": action,
                            "url": hook,
                            "failure_email": crm.config.admin_email,
                        }
                    },
                )
        yield url
