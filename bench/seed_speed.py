"""How fast the sandboxes build a realistic company: 10,000 QBO customers (~30,000 documents)
and 10,000 CRM people. Later benchmarks (the import of issue 5) start from these."""

from __future__ import annotations

import time

from sandbox.crm.config import CrmSandboxConfig
from sandbox.crm.seed import seed_account
from sandbox.crm.store import CrmStore
from sandbox.qbo.clock import SandboxClock
from sandbox.qbo.seed import seed_realm
from sandbox.qbo.store import QboStore

SIZE = 10_000


def run() -> dict[str, object]:
    qbo = QboStore(SandboxClock())
    qbo.add_realm("1", "Bench Company")
    started = time.perf_counter()
    counts = seed_realm(qbo, "1", SIZE, 42)
    qbo_s = time.perf_counter() - started
    crm = CrmStore(CrmSandboxConfig(), SandboxClock())
    started = time.perf_counter()
    seed_account(crm, SIZE, 42)
    crm_s = time.perf_counter() - started
    return {
        "qbo_customers": SIZE,
        "qbo_documents": counts.get("Invoice", 0) + counts.get("Estimate", 0),
        "qbo_seed_s": round(qbo_s, 2),
        "crm_people": SIZE,
        "crm_seed_s": round(crm_s, 2),
    }
