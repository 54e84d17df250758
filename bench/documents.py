"""Document creation throughput against the QBO sandbox at QBO's real limits (SYNC-RULES 6, 7).

The QBO sandbox enforces Intuit's 10 requests/s and 500/min per realm and the engine runs with
its own limiter at the same figures, so what is measured is how much of the limit the engine
turns into documents. Two phases on one worker, one tenant:

1. First documents: `people` CRM people share an email with a QBO customer and have no link;
   one estimate each. Each should cost a QBO email query and the create (2 QBO calls), plus
   reading the person and the deal from the CRM.
2. Linked: `invoices` invoice requests for the now-linked people, published at once. Each should
   cost one QBO call. The figure is QBO calls per second ÷ the 10/s limit, with the calls
   counted by the sandbox, so a wasted call shows as calls per document above the minimum.

Counted from publishing the requests to the last `DocumentCreated`. The sandbox's 429 count says
whether the engine kept to the limit itself (it should never be throttled).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from sandbox.qbo.config import QboSandboxConfig, SandboxRealm, SandboxUser
from schemas.envelope import Envelope
from tests.e2e import requests as req
from tests.support.stack import Stack, running_stack

TENANT = "docs-bench"
QBO_LIMIT_PER_S = 10  # Intuit's per-realm limit; the sandbox enforces it (and 500/min)
ENGINE = {"QBSYNC_LOG_LEVEL": "WARNING"}  # the engine's QBO limiter at its defaults: 10/s, 500/min


def _config(customers: int) -> QboSandboxConfig:
    realm = SandboxRealm(realm_id="9130357766900456", company_name="Docs Bench Co")
    return QboSandboxConfig(
        realms=[realm],
        users=[SandboxUser(username="admin", realm_ids=[realm.realm_id])],
        seed_customers=customers,
        rate_per_second=QBO_LIMIT_PER_S,
        rate_per_minute=500,
    )


def _customers_with_email(stack: Stack, count: int) -> list[dict[str, Any]]:
    found = stack.qbo_query(TENANT, "select * from Customer maxresults 1000")
    with_email = [c for c in found if (c.get("PrimaryEmailAddr") or {}).get("Address")]
    emails = [c["PrimaryEmailAddr"]["Address"].lower() for c in with_email]
    unique = [c for c in with_email if emails.count(c["PrimaryEmailAddr"]["Address"].lower()) == 1]
    return unique[:count]


def _people_and_deals(stack: Stack, customers: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """A CRM person with each customer's email, each on a deal of their own: (person, deal)."""
    crm = stack.crm[TENANT]
    pairs = []
    for customer in customers:
        person = crm.api(
            "POST",
            "people.json",
            json={
                "person": {
                    "first_name": customer.get("GivenName") or "Pat",
                    "last_name": customer.get("FamilyName") or "Doe",
                    "email": customer["PrimaryEmailAddr"]["Address"],
                }
            },
        )
        deal = crm.api(
            "POST",
            "deals.json",
            json={"deal": {"name": f"Deal {person['id']}", "person_ids": [person["id"]]}},
        )
        pairs.append((person["id"], deal["id"]))
    return pairs


async def _created_all(stack: Stack, requests: list[Envelope], timeout: float) -> int:
    """Wait for a DocumentCreated (or a failure) for each request; how many were created."""
    wanted = {r.id for r in requests}

    def answered(records: list[dict[str, Any]]) -> set[str]:
        return {
            r["data"]["request_id"]
            for r in records
            if r["type"] == "qbsync.decision.document.created.v1"
            and r["data"]["request_id"] in wanted
        }

    records = await stack.decisions(lambda rs: answered(rs) >= wanted, timeout=timeout)
    return len(answered(records))


def _throttle(stack: Stack) -> dict[str, Any]:
    """The sandbox's own count of this realm's QBO calls: accepted and throttled (429)."""
    realm = stack.realms[TENANT]
    stats = httpx.get(f"{stack.qbo.base_url}/_sandbox/realms/{realm}/stats").json()
    return dict(stats.get("throttle", {}))


async def _phase(stack: Stack, requests: list[Envelope], timeout: float) -> dict[str, Any]:
    """Publish the requests at once; time to the last DocumentCreated, and the QBO calls made."""
    calls_before = _throttle(stack).get("accepted", 0)
    started = time.monotonic()
    await stack.publish(*requests)
    created = await _created_all(stack, requests, timeout)
    seconds = time.monotonic() - started
    calls = _throttle(stack).get("accepted", 0) - calls_before
    return {
        "documents": created,
        "seconds": round(seconds, 1),
        "documents_per_s": round(created / seconds, 2),
        "qbo_calls": calls,
        "qbo_calls_per_document": round(calls / max(created, 1), 2),
        # QBO calls per second against the per-realm limit: the share of the limit used.
        "of_limit": round(calls / seconds / QBO_LIMIT_PER_S, 3),
    }


async def measure(people: int = 40, invoices: int = 200) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="qbsync-bench-docs-") as tmp,
        running_stack(
            Path(tmp),
            [TENANT],
            qbo_config=_config(people * 3),
            crm_overrides={"rate_limit_per_second": 1000},  # setup only; see the note below
        ) as stack,
    ):
        items = {i["Name"]: i["Id"] for i in stack.qbo_query(TENANT, "select * from Item")}
        line: list[tuple[str, str, str, str | None]] = [(items["Services"], "1", "100.00", "Bench")]
        pairs = _people_and_deals(stack, _customers_with_email(stack, people))
        install, enable = req.install(TENANT, stack.realms[TENANT]), req.enable(TENANT)
        await stack.publish(install, enable)
        stack.start_worker(ENGINE)
        await stack.accounted(enable.id, timeout=120)
        await asyncio.sleep(61)  # setup's QBO calls out of the sandbox's one-minute window

        first = [
            req.create_document("estimate", TENANT, deal_id=deal, person_id=person, lines=line)
            for person, deal in pairs
        ]
        first_phase = await _phase(stack, first, timeout=300)
        await asyncio.sleep(61)  # a fresh minute: the 500/min budget is not what is measured
        linked = [
            req.create_document("invoice", TENANT, deal_id=deal, person_id=person, lines=line)
            for n in range(invoices)
            for person, deal in [pairs[n % len(pairs)]]
        ]
        linked_phase = await _phase(stack, linked, timeout=300)
        throttled = int(_throttle(stack).get("throttled", 0))
    return {
        "qbo_limit_per_s": QBO_LIMIT_PER_S,
        "first_documents": first_phase,
        "linked_invoices": linked_phase,
        "qbo_429s": throttled,
        "limits": "QBO sandbox and engine at 10/s, 500/min per realm; CRM sandbox 1,000/s",
    }


def run() -> dict[str, Any]:
    return asyncio.run(measure())
