"""`qbsync up` (what `make run` starts): the stack comes up, decides, and stops without orphans."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from tests.support.kafka import collect

pytestmark = pytest.mark.broker


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def _wait_for_stack(proc: subprocess.Popen[str], timeout: float) -> dict:
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
            return json.loads(line)
    pytest.fail("qbsync up did not come up:\n" + "".join(seen[-30:]))


async def test_up_brings_the_stack_up_decides_and_stops_cleanly(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("QBSYNC_")}
    env |= {"QBSYNC_DATA_DIR": str(tmp_path), "QBSYNC_LOG_FORMAT": "json"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "qbsync", "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        up = _wait_for_stack(proc, timeout=60)
        bootstrap, broker_pid, worker_pid = up["bootstrap"], up["broker_pid"], up["worker_pid"]
        assert _alive(broker_pid) and _alive(worker_pid)

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
        await producer.send_and_wait(
            "qbsync.crm.changes.v1", json.dumps(event).encode(), key=tenant.encode()
        )
        await producer.stop()
        records = await collect(
            bootstrap,
            ["qbsync.decisions.v1"],
            lambda rs: any(r["data"]["input_id"] == event_id for (_t, _k, r) in rs),
            timeout=60,
        )
        assert records

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (_alive(broker_pid) or _alive(worker_pid)):
            time.sleep(0.2)
        assert not _alive(broker_pid), "broker outlived qbsync up"
        assert not _alive(worker_pid), "worker outlived qbsync up"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
