"""`make bench`: run every benchmark against one broker and print (and save) the figures."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import customer_sync, decider_vs_pipe, documents, qbo_burst, replay, seed_speed
from bench.machine import describe
from qbsync.logs import configure_logging
from streams.broker import EmbeddedBroker

RESULTS = Path(__file__).parent / "results" / "latest.json"


async def run(bootstrap: str, n: int) -> dict[str, object]:
    events = decider_vs_pipe.make_events(n)
    pipe_rate = await decider_vs_pipe.measure_pipe(bootstrap, events)
    engine = await decider_vs_pipe.measure_engine(bootstrap, decider_vs_pipe.make_events(n))
    customers = int(os.environ.get("QBSYNC_BENCH_CUSTOMERS", "10000"))
    updates = int(os.environ.get("QBSYNC_BENCH_UPDATES", "2000"))
    sync = await customer_sync.measure(customers, updates, n)
    return {
        "customer_sync": sync,
        "events": n,
        "raw_pipe_msgs_per_s": round(pipe_rate),
        "decider_events_per_s": round(engine["rate"]),
        "decider_over_pipe": round(engine["rate"] / pipe_rate, 4),
        "worker_peak_rss_mib": round(engine["peak_rss_mib"], 1),
    }


def main() -> int:
    configure_logging("WARNING", "console")
    n = int(os.environ.get("QBSYNC_BENCH_EVENTS", "10000"))
    bootstrap = os.environ.get("QBSYNC_KAFKA_BOOTSTRAP")
    broker = None
    if not bootstrap:
        broker = EmbeddedBroker()
        bootstrap = broker.start()
    try:
        figures = asyncio.run(run(bootstrap, n))
    finally:
        if broker is not None:
            broker.stop()
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "broker": "embedded tansu (memory)" if broker else f"Kafka at {bootstrap}",
        "machine": describe(),
        "decider_vs_pipe": figures,
        "documents": documents.run(),
        "qbo_burst": qbo_burst.run(),
        "seed_speed": seed_speed.run(),
        "replay": replay.run(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
