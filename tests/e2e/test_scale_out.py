"""Scale-out: two worker processes in one consumer group, on one broker and a PostgreSQL store,
split the tenants between them and reach the same end state as one worker alone.

The same scenario runs twice on fresh stacks (sandboxes seeded alike): import every tenant, then
rename one linked customer per tenant in QBO (the change arrives as the bridge publishes it).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sandbox.qbo.config import QboSandboxConfig, SandboxRealm, SandboxUser
from schemas.qbo import QboCustomerChanged
from tests.e2e import requests as req
from tests.store.backends import postgres_backend
from tests.support.stack import Stack, running_stack

pytestmark = pytest.mark.broker
# Keyed by tenant, these land on partitions 3, 0 and 1 of 4: both workers get some.
TENANTS = ["t-alpha", "t-beta", "t-gamma"]
SEEDED = 40


def _qbo_config() -> QboSandboxConfig:
    realms = [
        SandboxRealm(realm_id=str(9130357766900456 + n), company_name=f"Co {n}")
        for n in range(len(TENANTS))
    ]
    return QboSandboxConfig(
        realms=realms,
        users=[SandboxUser(username="admin", realm_ids=[r.realm_id for r in realms])],
        seed_customers=SEEDED,
        rate_per_second=500,
        rate_per_minute=50_000,
    )


def _people(stack: Stack, tenant: str) -> list[dict[str, Any]]:
    body = stack.crm[tenant].api("GET", "people.json", params={"per_page": 200})
    return body["entries"]


async def _scenario(stack: Stack) -> dict[str, Any]:
    imports = [req.run_import(tenant) for tenant in TENANTS]
    setup = []
    for tenant, run in zip(TENANTS, imports, strict=True):
        setup += [req.install(tenant, stack.realms[tenant]), req.enable(tenant), run]
    await stack.publish(*setup)
    ids = {run.id for run in imports}
    await stack.decisions(
        lambda rs: (
            {r["data"]["request_id"] for r in rs if r["type"].endswith("import.finished.v1")} >= ids
        ),
        timeout=120,
    )
    renamed: dict[str, str] = {}
    changes = []
    for tenant in TENANTS:
        link = next(r for r in await _links(stack, tenant) if r["qbo"].get("PrimaryEmailAddr"))
        customer = stack.qbo_customer(tenant, link["customer_id"])
        body = {
            "Id": customer["Id"],
            "SyncToken": customer["SyncToken"],
            "sparse": True,
            "GivenName": "Renamed",
        }
        after = stack.qbo_api(tenant, "POST", "customer", json=body)["Customer"]
        changes.append(
            QboCustomerChanged.model_validate(
                {
                    "id": f"qbo-{tenant}-{after['Id']}-{after['SyncToken']}",
                    "source": "/tests/bridge",
                    "time": datetime.now(UTC),
                    "tenant": tenant,
                    "data": {"realm_id": stack.realms[tenant], "op": "updated", "entity": after},
                }
            )
        )
        renamed[tenant] = link["email"]
    await stack.publish(*changes)
    for change in changes:
        await stack.accounted(change.id)
    for tenant, email in renamed.items():
        for _ in range(100):
            person = next(p for p in _people(stack, tenant) if p["email"] == email)
            if person["first_name"] == "Renamed":
                break
            await asyncio.sleep(0.2)
    return {tenant: _end_state(stack, tenant) for tenant in TENANTS}


async def _links(stack: Stack, tenant: str) -> list[dict[str, Any]]:
    records = await stack.read_all("qbsync.decisions.v1")
    made = [
        r["data"] for r in records if r["type"].endswith("link.made.v1") and r["tenant"] == tenant
    ]
    return [
        {**m, "email": m["crm"].get("email")}
        for m in sorted(made, key=lambda m: int(m["customer_id"]))
    ]


def _end_state(stack: Stack, tenant: str) -> dict[str, Any]:
    """What a user would compare: the CRM's people and which QBO customer each is linked to
    (by email: person ids depend on the order creates happened in)."""
    people = _people(stack, tenant)
    links = []
    for person in people:
        link = stack.store.link(tenant, person["id"])
        if link is not None:
            links.append((link.customer_id, person["email"], link.status))
    return {
        "people": sorted(json.dumps([p["email"], p["first_name"], p["phone"]]) for p in people),
        "links": sorted(links),
        "renamed": sorted(p["email"] for p in people if p["first_name"] == "Renamed"),
    }


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    with postgres_backend(tmp_path) as url:
        yield url


@pytest.mark.timeout(300)
async def test_two_workers_split_the_tenants_and_end_as_one_worker_does(tmp_path, postgres_url):
    crm = {"seed_people": SEEDED, "rate_limit_per_second": 500}
    env = {"QBSYNC_CRM_RATE_PER_SECOND": "300"}
    with running_stack(
        tmp_path / "two", TENANTS, store_url=postgres_url, qbo_config=_qbo_config(),
        crm_overrides=crm,
    ) as stack:  # fmt: skip
        first, second = stack.start_worker(env), stack.start_worker(env)
        two = await _scenario(stack)
        logs = {
            proc.pid: (tmp_path / "two" / f"worker-{n}.log").read_text()
            for n, proc in enumerate((first, second))
        }
    with running_stack(
        tmp_path / "one", TENANTS, qbo_config=_qbo_config(), crm_overrides=crm
    ) as stack:
        stack.start_worker(env)
        one = await _scenario(stack)

    assert two == one
    for tenant in TENANTS:
        assert len(two[tenant]["renamed"]) == 1
        assert two[tenant]["links"]  # the import linked people in every tenant
    handled = {
        pid: {t for t in TENANTS if f'"tenant": "{t}", "request_id"' in log}
        for pid, log in logs.items()
    }
    assert all(handled.values()), f"one worker imported no tenant: {handled}"
    assert set().union(*handled.values()) == set(TENANTS)
    assert not set.intersection(*handled.values()), handled
