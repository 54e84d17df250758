"""The runner against both REAL sandboxes (uvicorn servers on free ports), connected as the
production wiring would: a QBO client per (tenant, realm) over stored OAuth tokens, a CRM client
with the admin's api_key."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from adapters.crm.client import CrmClient
from adapters.executor import CommandRunner
from adapters.executor.ports import CrmNotConfiguredError
from adapters.qbo.client import QboClient
from tests.adapters.crm.conftest import Sandbox as CrmSandbox
from tests.adapters.crm.conftest import make_client
from tests.adapters.crm.conftest import start_sandbox as start_crm_sandbox
from tests.adapters.executor.builders import NOW, TENANT
from tests.adapters.qbo.conftest import REALM, Adapter, make_adapter
from tests.adapters.qbo.conftest import Sandbox as QboSandbox
from tests.adapters.qbo.conftest import start_sandbox as start_qbo_sandbox


@pytest.fixture(scope="module")
def qbo_sandbox() -> Iterator[QboSandbox]:
    yield from start_qbo_sandbox()


@pytest.fixture(scope="module")
def crm_sandbox() -> Iterator[CrmSandbox]:
    yield from start_crm_sandbox()


@pytest.fixture(autouse=True)
def no_faults_left_behind(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "qbo_sandbox" in request.fixturenames:
        request.getfixturevalue("qbo_sandbox").control("POST", "/_sandbox/faults/reset")
    if "crm_sandbox" in request.fixturenames:
        request.getfixturevalue("crm_sandbox").control("POST", "/faults/reset")


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
async def qbo_adapter(qbo_sandbox: QboSandbox, tmp_path: Path, http: httpx.AsyncClient) -> Adapter:
    adapter = make_adapter(qbo_sandbox, tmp_path, http)
    await adapter.connect_directly(REALM, tenant_id=TENANT)
    return adapter


@pytest.fixture
def qbo(qbo_adapter: Adapter) -> QboClient:
    """The tenant's QBO client, for arranging and checking what is in QBO."""
    return qbo_adapter.client(REALM, TENANT)


@pytest.fixture
def crm(crm_sandbox: CrmSandbox, http: httpx.AsyncClient) -> CrmClient:
    return make_client(crm_sandbox, http)


def runner_for(qbo_adapter: Adapter, crm: CrmClient, **options: int) -> CommandRunner:
    def crm_for(tenant: str) -> CrmClient:
        if tenant != TENANT:
            raise CrmNotConfiguredError(f"no CRM key for {tenant}")
        return crm

    def qbo_for(tenant: str, realm_id: str) -> QboClient:
        return qbo_adapter.client(realm_id, tenant)

    return CommandRunner(qbo_for, crm_for, lambda: NOW, **options)


@pytest.fixture
def runner(qbo_adapter: Adapter, crm: CrmClient) -> CommandRunner:
    return runner_for(qbo_adapter, crm)
