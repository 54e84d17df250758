"""Customer sync, measured end to end on a real worker process, both sandboxes and the broker.

1. Import: 10,000 QBO customers (with their ~30,000 invoices and estimates) into a CRM seeded
   with 10,000 people sharing 60% of the emails. Wall time from the request to ImportFinished,
   events published per second, the QBO calls it used against the minimum (pages of 1,000).
2. Steady CRM → QBO updates (direction `both`): N CRM person changes published at once; the
   rate at which QBO acknowledges the writes, as a ratio to the raw aiokafka pipe measured in
   the same run (bench/decider_vs_pipe.py) on the same broker.
3. Latency: CRM changes paced at a steady rate; from publishing each event to QBO answering the
   write (the outcome's time), p50 and p99.
4. The worker's peak memory over all of it.

The sandboxes' rate limits are raised (QBO 1,000/s, CRM 1,000/s, and the engine's own limiters
with them) so the engine is what is measured, not Intuit's 10/s or Pipeline's 10/s; at the real
limits the same import is bound by the CRM's 10 writes a second (figures say so).
"""

from __future__ import annotations

import asyncio
import math
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import decider_vs_pipe
from bench.machine import peak_rss_mib
from engine.ids import derived_id
from sandbox.qbo.config import QboSandboxConfig, SandboxRealm, SandboxUser
from schemas.crm import CrmPersonChanged
from schemas.settings import IntegrationSettings
from tests.e2e import requests as req
from tests.support.stack import Stack, running_stack

TENANT = "bench-co"
FAST_ENGINE = {
    "QBSYNC_CRM_RATE_PER_SECOND": "1000",
    "QBSYNC_QBO_RATE_PER_SECOND": "1000",
    "QBSYNC_QBO_RATE_PER_MINUTE": "60000",
    "QBSYNC_LOG_LEVEL": "WARNING",
}


def _config(customers: int) -> QboSandboxConfig:
    realm = SandboxRealm(realm_id="9130357766900456", company_name="Bench Co")
    return QboSandboxConfig(
        realms=[realm],
        users=[SandboxUser(username="admin", realm_ids=[realm.realm_id])],
        seed_customers=customers,
        rate_per_second=1000,
        rate_per_minute=60_000,
    )


def _count_customers(stack: Stack) -> int:
    query = "SELECT COUNT(*) FROM Customer WHERE Active IN (true, false)"
    body = stack.qbo_api(TENANT, "GET", "query", params={"query": query})
    return int(body["QueryResponse"]["totalCount"])


def _count(stack: Stack, entity: str) -> int:
    body = stack.qbo_api(TENANT, "GET", "query", params={"query": f"SELECT COUNT(*) FROM {entity}"})
    return int(body["QueryResponse"]["totalCount"])


async def _import(stack: Stack, worker_pid: int) -> dict[str, Any]:
    # The least a reader can do: every customer (inactive ones too), invoice and estimate, in
    # pages of 1,000; an import reads all of them before it knows which are linked.
    everything = (
        _count_customers(stack),
        _count(stack, "Invoice"),
        _count(stack, "Estimate"),
    )
    run = req.run_import(TENANT)
    enable = req.enable(TENANT)
    await stack.publish(req.install(TENANT, stack.realms[TENANT]), enable)
    await stack.accounted(enable.id)
    started = time.monotonic()
    await stack.publish(run)
    records = await stack.decisions(
        lambda rs: any(
            r["type"] == "qbsync.decision.import.finished.v1" and r["data"]["request_id"] == run.id
            for r in rs
        ),
        timeout=3600,
    )
    wall = time.monotonic() - started
    finished = next(r for r in records if r["type"] == "qbsync.decision.import.finished.v1")
    summary = finished["data"]["summary"]
    progressed = [
        r["data"]["counts"]
        for r in records
        if r["type"] == "qbsync.decision.import.progressed.v1" and r["data"]["request_id"] == run.id
    ]
    counts = progressed[-1] if progressed else {}
    decisions = sum(1 for r in records if r["data"].get("import_request_id") == run.id)
    qbo_changes = len(await stack.read_all("qbsync.qbo.changes.v1"))
    invoices, estimates = summary["invoices_imported"], summary["estimates_imported"]
    minimum = sum(math.ceil(n / 1000) for n in everything)
    return {
        "customers": summary["customers_read"],
        "invoices_and_estimates_read": everything[1] + everything[2],
        "invoices_and_estimates_of_linked_customers": invoices + estimates,
        "linked_existing": summary["linked_existing"],
        "people_created": summary["people_created"],
        "companies_created": summary["companies_created"],
        "wall_s": round(wall, 1),
        "events_published": decisions + qbo_changes,
        "events_per_s": round((decisions + qbo_changes) / wall),
        "qbo_calls": counts.get("qbo_calls", summary["api_calls"]),
        "qbo_calls_minimum": minimum,
        "crm_calls": counts.get("crm_calls"),
        "worker_rss_mib_after_import": round(peak_rss_mib(worker_pid) or 0, 1),
    }


def _changes(stack: Stack, people: list[dict[str, Any]], tag: str) -> list[CrmPersonChanged]:
    now = datetime.now(UTC)
    events = []
    for n, person in enumerate(people):
        after = {**person, "phone": f"555-{tag}-{n:05d}"}
        events.append(
            CrmPersonChanged.model_validate(
                {
                    "id": f"bench-{tag}-{uuid.uuid4()}",
                    "source": "/bench",
                    "time": now,
                    "tenant": TENANT,
                    "data": {"op": "updated", "after": after, "updated_at": now.isoformat()},
                }
            )
        )
    return events


async def _outcomes(stack: Stack, n: int, since: int, timeout: float) -> list[dict[str, Any]]:
    def enough(records: list[dict[str, Any]]) -> bool:
        return len(_qbo_updates(records[since:])) >= n

    records = await stack.wait_for("qbsync.outcomes.v1", enough, timeout=timeout)
    return _qbo_updates(records[since:])


def _qbo_updates(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        r
        for r in records
        if r["type"] == "qbsync.outcome.succeeded.v1"
        and r["data"]["command_type"] == "qbsync.command.qbo.customer.update.v1"
    ]


async def _linked_people(stack: Stack) -> list[dict[str, Any]]:
    made = [
        r["data"]
        for r in await stack.read_all("qbsync.decisions.v1")
        if r["type"] == "qbsync.decision.link.made.v1"
    ]
    return [m["crm"] for m in made]


async def _steady(stack: Stack, updates: int, pipe_rate: float) -> dict[str, Any]:
    save = req.save_settings(TENANT, IntegrationSettings(direction="both"))
    await stack.publish(save)
    await stack.accounted(save.id)
    people = (await _linked_people(stack))[:updates]
    since = len(_qbo_updates(await stack.read_all("qbsync.outcomes.v1")))
    events = _changes(stack, people, "t")
    started = time.monotonic()
    await stack.publish(*events)
    done = await _outcomes(stack, len(events), since, timeout=1800)
    elapsed = time.monotonic() - started
    rate = len(done) / elapsed
    return {
        "updates": len(events),
        "crm_to_qbo_updates_per_s": round(rate, 1),
        "raw_pipe_msgs_per_s": round(pipe_rate),
        "ratio_to_raw_pipe": round(rate / pipe_rate, 4),
    }


async def _latency(stack: Stack, count: int, per_second: float) -> dict[str, Any]:
    people = (await _linked_people(stack))[:count]
    since = len(_qbo_updates(await stack.read_all("qbsync.outcomes.v1")))
    events = _changes(stack, people, "l")
    published: dict[str, float] = {}
    for event in events:
        await stack.publish(event)
        published[event.id] = time.time()
        await asyncio.sleep(1 / per_second)
    done = await _outcomes(stack, len(events), since, timeout=600)
    commands = {r["data"]["command_id"]: r for r in done}
    latencies = []
    for event in events:
        outcome = commands.get(derived_id(event.id, "update-qbo-customer"))
        if outcome is not None:
            acked = datetime.fromisoformat(outcome["time"]).timestamp()
            latencies.append((acked - published[event.id]) * 1000)
    latencies.sort()
    return {
        "events": count,
        "paced_per_s": per_second,
        "p50_ms": round(statistics.median(latencies)),
        "p99_ms": round(latencies[min(len(latencies) - 1, math.ceil(0.99 * len(latencies)) - 1)]),
    }


async def measure(customers: int, updates: int, pipe_events: int) -> dict[str, Any]:
    crm = {"seed_people": customers, "rate_limit_per_second": 1000}
    with (
        tempfile.TemporaryDirectory(prefix="qbsync-bench-sync-") as tmp,
        running_stack(
            Path(tmp), [TENANT], qbo_config=_config(customers), crm_overrides=crm
        ) as stack,
    ):
        # The baseline, on this stack's broker: a plain aiokafka consume → produce pipe.
        events = decider_vs_pipe.make_events(pipe_events)
        pipe_rate = await decider_vs_pipe.measure_pipe(stack.bootstrap, events)
        worker = stack.start_worker(FAST_ENGINE)
        imported = await _import(stack, worker.pid)
        steady = await _steady(stack, updates, pipe_rate)
        latency = await _latency(stack, min(200, updates), per_second=50)
        peak = peak_rss_mib(worker.pid)
    return {
        "import": imported,
        "steady_crm_to_qbo": steady,
        "latency_crm_event_to_qbo_ack": latency,
        "worker_peak_rss_mib": round(peak or 0, 1),
        "limits": "sandboxes and engine limiters at 1,000 calls/s (real QBO 10/s, CRM 10/s)",
    }
