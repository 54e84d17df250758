"""The import job against the real QBO and CRM sandboxes (HTTP servers on free ports), the real
executor's CommandRunner, a real SQLite store and a recording publisher.

Each test gets both sandboxes reset, a store of its own, tenant `acme` installed and connected to
the sandbox realm with tokens granted through the sandbox's hook."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.crm.client import CrmClient
from adapters.executor import CommandRunner
from adapters.qbo.client import QboClient
from engine.ids import derived_id
from schemas.commands import RunImport, RunImportData
from schemas.crm import CrmPerson
from schemas.envelope import Envelope
from schemas.outcomes import CommandFailed, CommandSucceeded
from schemas.qbo import QboCustomer
from schemas.requests import Actor
from schemas.settings import IntegrationSettings, SyncDirection
from store import QbsyncStore, open_store
from store import import_run as runs
from store import installation as inst
from streams.importer import ImportJob
from streams.importing.ports import ImportGateways
from tests.adapters.crm import conftest as crm_conf
from tests.adapters.qbo import conftest as qbo_conf
from tests.support.fakes import RecordingPublisher

TENANT = qbo_conf.TENANT  # the tenant the QBO tokens are stored for
REALM = qbo_conf.REALM
ADMIN = Actor(user_id=7, is_admin=True)


@pytest.fixture(scope="module")
def qbo_sandbox() -> Iterator[qbo_conf.Sandbox]:
    yield from qbo_conf.start_sandbox()


@pytest.fixture(scope="module")
def crm_sandbox() -> Iterator[crm_conf.Sandbox]:
    yield from crm_conf.start_sandbox()


class CountingRunner:
    """The real CommandRunner; counts commands, and can die before the n-th one is sent or
    after it has run (its write happened, nothing after it was recorded): a worker killed at
    that moment."""

    def __init__(self, runner: CommandRunner) -> None:
        self.runner = runner
        self.commands: list[Envelope] = []
        self.die_after: int | None = None
        self.die_before: int | None = None
        self.before: Callable[[Envelope], Awaitable[None]] | None = None  # meanwhile, elsewhere

    async def run(self, command: Envelope) -> CommandSucceeded | CommandFailed:
        if self.before is not None:
            await self.before(command)
        if self.die_before is not None and len(self.commands) + 1 >= self.die_before:
            self.die_before = None
            raise Killed(f"killed before command {len(self.commands) + 1} ({command.type})")
        outcome = await self.runner.run(command)
        self.commands.append(command)
        if self.die_after is not None and len(self.commands) >= self.die_after:
            self.die_after = None
            raise Killed(f"killed after command {len(self.commands)} ({command.type})")
        return outcome


class Killed(Exception):
    pass


class DyingPublisher(RecordingPublisher):
    """Dies at the n-th publish: after a record, before its events reached Kafka."""

    def __init__(self) -> None:
        super().__init__()
        self.published = 0
        self.die_at: int | None = None

    async def publish(self, topic: Any, event: Envelope) -> None:
        self.published += 1
        if self.die_at is not None and self.published >= self.die_at:
            self.die_at = None
            self._pending.clear()  # unflushed events die with the worker
            raise Killed(f"killed at publish {self.published}")
        await super().publish(topic, event)


@dataclass
class World:
    qbo_sandbox: qbo_conf.Sandbox
    crm_sandbox: crm_conf.Sandbox
    qbo: QboClient
    crm: CrmClient
    store: QbsyncStore
    publisher: DyingPublisher
    runner: CountingRunner
    job: ImportJob
    refresh_token: str
    requests: list[str] = field(default_factory=list)

    # --- setting the scene ------------------------------------------------------------------
    async def customer(self, **fields: str | None) -> QboCustomer:
        return await self.qbo.create_customer(
            fields, derived_id("test", repr(sorted(fields.items())))
        )

    async def person(self, company_id: int | None = None, **fields: str | None) -> CrmPerson:
        return await self.crm.create_person(fields, company_id=company_id)

    def settings(self, direction: SyncDirection) -> None:
        installation = self.store.installation(TENANT)
        settings = IntegrationSettings(direction=direction)
        self.store.record(inst.save_settings(installation, ADMIN, settings))

    def revoke_qbo(self) -> None:
        """The admin revoked the app in QBO: the stored tokens no longer work."""
        config = self.qbo_sandbox.config
        response = httpx.post(
            f"{self.qbo_sandbox.base_url}/v2/oauth2/tokens/revoke",
            json={"token": self.refresh_token},
            auth=(config.client_id, config.client_secret),
        )
        response.raise_for_status()

    def start(self, *, dry_run: bool = False) -> RunImport:
        """What the decider does for an ImportRequested: record Started, emit RunImport."""
        request_id = f"req-{len(self.requests) + 1}"
        self.requests.append(request_id)
        self.store.record(
            runs.start_import(
                self.store.installation(TENANT),
                ADMIN,
                request_id=request_id,
                dry_run=dry_run,
                started_at=datetime.now(UTC),
            )
        )
        return RunImport(
            id=derived_id(request_id, "run-import"),
            source="/qbsync/engine",
            time=datetime.now(UTC),
            tenant=TENANT,
            data=RunImportData(request_id=request_id, dry_run=dry_run, requested_by=ADMIN.user_id),
        )

    # --- looking at the result ----------------------------------------------------------------
    async def people(self) -> list[CrmPerson]:
        return [person async for person in self.crm.iter_people()]

    async def companies(self) -> list[Any]:
        return [company async for company in self.crm.iter_companies()]

    async def customers(self) -> list[QboCustomer]:
        select = "SELECT * FROM Customer WHERE Active IN (true, false)"
        return [row async for row in self.qbo.query(select)]

    def notifications(self) -> list[dict[str, Any]]:
        return self.crm_sandbox.control("GET", "/account_notifications")["entries"]

    def qbo_rows(self) -> dict[str, Any]:
        return self.qbo_sandbox.control("GET", f"/_sandbox/realms/{REALM}/stats")

    def events(self, kind: type[Envelope]) -> list[Any]:
        return [event for event in self.publisher.events() if isinstance(event, kind)]


def reset_sandboxes(qbo_sandbox: qbo_conf.Sandbox, crm_sandbox: crm_conf.Sandbox) -> None:
    """Both sandboxes empty; QBO keeps its 12 items (for invoices and estimates)."""
    qbo_sandbox.control("POST", f"/_sandbox/realms/{REALM}/reset")
    qbo_sandbox.control("POST", f"/_sandbox/realms/{REALM}/seed", params={"customers": 0})
    crm_sandbox.control("POST", "/reset")


def seed_sandboxes(world: World, records: int, seed: int) -> None:
    """The sandboxes' own overlapping seed data: 60% of QBO's emails are CRM people, with
    different phones and addresses, duplicates, customers without email, inactive ones."""
    world.qbo_sandbox.control(
        "POST", f"/_sandbox/realms/{REALM}/seed", params={"customers": records, "seed": seed}
    )
    world.crm_sandbox.control("POST", "/seed", params={"people": records, "seed": seed})


async def make_world(
    qbo_sandbox: qbo_conf.Sandbox,
    crm_sandbox: crm_conf.Sandbox,
    http: httpx.AsyncClient,
    path: Path,
) -> World:
    """A fresh store (tenant installed and connected) and a job over both sandboxes."""
    path.mkdir(parents=True, exist_ok=True)
    adapter = qbo_conf.make_adapter(qbo_sandbox, path, http)
    tokens = await adapter.connect_directly()
    qbo = adapter.client()
    crm = crm_conf.make_client(crm_sandbox, http)
    store = open_store(f"sqlite:///{path}/store.db")
    store.record(inst.install(TENANT, 4242, ADMIN))
    store.record(inst.connect(store.installation(TENANT), ADMIN, REALM))
    runner = CountingRunner(
        CommandRunner(lambda tenant, realm: qbo, lambda tenant: crm, lambda: datetime.now(UTC))
    )
    publisher = DyingPublisher()
    gateways = ImportGateways(qbo=lambda tenant, realm: qbo, crm=lambda tenant: crm)
    job = ImportJob(store, publisher, runner, gateways, progress_every=3)
    return World(
        qbo_sandbox, crm_sandbox, qbo, crm, store, publisher, runner, job, tokens.refresh_token
    )


@pytest.fixture
async def world(
    qbo_sandbox: qbo_conf.Sandbox, crm_sandbox: crm_conf.Sandbox, tmp_path: Path
) -> AsyncIterator[World]:
    reset_sandboxes(qbo_sandbox, crm_sandbox)
    async with httpx.AsyncClient(timeout=10) as http:
        made = await make_world(qbo_sandbox, crm_sandbox, http, tmp_path / "world")
        yield made
        made.store.close()
