"""`qbsync up` (what `make run` starts): the whole stack comes up for the demo tenant, a change in
either sandbox reaches Kafka through the registered webhooks and `qbsync api`, the worker decides,
and SIGTERM stops everything without orphans or leaked secrets."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from adapters.qbo.vault import SqliteTokenVault
from sandbox.crm.config import CrmSandboxConfig
from tests.support.kafka import collect

pytestmark = pytest.mark.broker
TENANT = "demo"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def _wait_for_stack(proc: subprocess.Popen[str], timeout: float) -> tuple[dict, list[str]]:
    deadline = time.monotonic() + timeout
    assert proc.stderr is not None
    seen = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        if '"stack_up"' in line:
            return json.loads(line), seen
    pytest.fail("qbsync up did not come up:\n" + "".join(seen[-30:]))


def _for_demo(subject: str):
    def matching(records):
        return [r for (_t, key, r) in records if key == TENANT.encode() and r["subject"] == subject]

    return matching


async def _publish_crm_event(bootstrap: str) -> str:
    tenant, event_id = f"t-{uuid.uuid4().hex[:8]}", f"evt-{uuid.uuid4()}"
    event = {
        "specversion": "1.0",
        "id": event_id,
        "source": "/crm",
        "tenant": tenant,
        "type": "qbsync.crm.person.changed.v1",
        "time": "2026-11-25T10:00:00Z",
        "data": {"op": "created", "after": {"id": 1}, "updated_at": "2026-11-25T10:00:00Z"},
    }
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            "qbsync.crm.changes.v1", json.dumps(event).encode(), key=tenant.encode()
        )
    finally:
        await producer.stop()
    return event_id


def _crm_keys() -> dict[str, str]:
    crm = CrmSandboxConfig()  # the sandbox's defaults: the test runs without QBSYNC_* variables
    return {"api_key": crm.admin_api_key, "app_key": crm.app_key}


def _crm_person_created(crm_url: str) -> str:
    response = httpx.post(
        f"{crm_url}/api/v3/people.json",
        params=_crm_keys(),
        json={"person": {"full_name": f"Ada {uuid.uuid4().hex[:6]}", "phone": "555-0101"}},
    )
    response.raise_for_status()
    return str(response.json()["id"])


def _qbo_customer_created(qbo_url: str, realm_id: str) -> str:
    grant = httpx.post(f"{qbo_url}/_sandbox/oauth/grant", params={"realm_id": realm_id})
    grant.raise_for_status()
    response = httpx.post(
        f"{qbo_url}/v3/company/{realm_id}/customer",
        params={"minorversion": 75},
        headers={
            "Authorization": f"Bearer {grant.json()['access_token']}",
            "Accept": "application/json",
        },
        json={"DisplayName": f"Up {uuid.uuid4().hex[:6]}"},
    )
    response.raise_for_status()
    return str(response.json()["Customer"]["Id"])


def _delivered_to(sandbox_url: str, url_prefix: str) -> str | None:
    """The URL of a webhook the sandbox delivered (answered 200) to `url_prefix`..., if any."""
    deliveries = httpx.get(f"{sandbox_url}/_sandbox/webhooks/deliveries").json()["deliveries"]
    ok = [d["url"] for d in deliveries if d["url"].startswith(url_prefix) and d["status"] == 200]
    return ok[0] if ok else None


def _start_up(data_dir: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QBSYNC_")}
    env |= {"QBSYNC_DATA_DIR": str(data_dir), "QBSYNC_LOG_FORMAT": "json"}
    return subprocess.Popen(
        [sys.executable, "-m", "qbsync", "up", "--seed", "20"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _all_gone(pids: dict[str, int]) -> list[str]:
    """Names of the parts still alive after a grace period (PDEATHSIG or our SIGTERM)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids.values()):
        time.sleep(0.1)
    return [name for name, pid in pids.items() if _alive(pid)]


async def test_up_brings_the_whole_stack_up_syncs_both_sandboxes_and_stops_cleanly(
    tmp_path: Path,
):
    proc = _start_up(tmp_path)
    try:
        up, logged = _wait_for_stack(proc, timeout=60)
        bootstrap, pids = up["bootstrap"], up["pids"]
        assert {up["broker_pid"], up["worker_pid"], up["api_pid"]} <= set(pids.values())
        assert set(pids) == {"broker", "worker", "qbo-sandbox", "crm-sandbox", "api"}
        assert all(_alive(pid) for pid in pids.values()), pids
        assert set(up["api_parts"]) == {"crm-ingest", "crm-webhooks", "qbo-bridge"}

        event_id = await _publish_crm_event(bootstrap)
        person_id = _crm_person_created(up["crm_sandbox_url"])
        customer_id = _qbo_customer_created(up["qbo_sandbox_url"], up["qbo_realm_id"])

        person = _for_demo(f"crm/person/{person_id}")
        records = await collect(
            bootstrap, ["qbsync.crm.changes.v1"], lambda rs: bool(person(rs)), timeout=20
        )
        assert person(records)[0]["type"] == "qbsync.crm.person.changed.v1"
        crm_delivery = _delivered_to(up["crm_sandbox_url"], f"{up['api_url']}/v1/crm/webhooks/")
        assert crm_delivery and crm_delivery.startswith(
            f"{up['api_url']}/v1/crm/webhooks/{TENANT}?"
        )

        customer = _for_demo(f"qbo/customer/{customer_id}")
        records = await collect(
            bootstrap, ["qbsync.qbo.changes.v1"], lambda rs: bool(customer(rs)), timeout=20
        )
        assert customer(records)[0]["data"]["op"] == "created"
        assert _delivered_to(up["qbo_sandbox_url"], f"{up['api_url']}/v1/qbo/webhooks")

        hooks = httpx.get(
            f"{up['crm_sandbox_url']}/api/v3/admin/webhooks.json", params=_crm_keys()
        ).json()["webhooks"]
        assert len(hooks) == 9  # person/company/deal x create/update/destroy
        hook_token = parse_qs(urlsplit(crm_delivery).query)["token"][0]
        key = base64.urlsafe_b64decode((tmp_path / "secret.key").read_text().strip())
        vault = SqliteTokenVault.in_data_dir(tmp_path, key)  # the connect stored them encrypted
        tokens = await vault.load(TENANT, up["qbo_realm_id"])
        assert tokens is not None

        decided = await collect(
            bootstrap,
            ["qbsync.decisions.v1"],
            lambda rs: any(r["data"].get("input_id") == event_id for (_t, _k, r) in rs),
            timeout=30,
        )
        assert decided

        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 0, stderr[-2000:]
        assert not _all_gone(pids), "outlived qbsync up"

        assert "qbsync is up" in stdout and f"/v1/tenants/{TENANT}/crm-events" in stdout
        output = stdout + "".join(logged) + stderr
        secrets = {
            "secret key": (tmp_path / "secret.key").read_text().strip(),
            "CRM webhook token": hook_token,
            "QBO access token": tokens.access_token,
            "QBO refresh token": tokens.refresh_token,
        }
        assert not [name for name, value in secrets.items() if value in output]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_up_names_a_part_that_exits_stops_the_rest_and_fails(tmp_path: Path):
    proc = _start_up(tmp_path)
    try:
        up, _logged = _wait_for_stack(proc, timeout=60)
        pids = up["pids"]
        os.kill(pids["crm-sandbox"], signal.SIGKILL)
        _stdout, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 1
        exited = [json.loads(line) for line in stderr.splitlines() if '"part_exited"' in line]
        assert exited and exited[0]["part"] == "crm-sandbox"
        assert exited[0]["log"] == str(tmp_path / "logs" / "crm-sandbox.log")
        assert not _all_gone(pids), "outlived qbsync up"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
