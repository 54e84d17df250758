"""`qbsync replay` throughput ÷ a plain consume of the same topics, measured in one run on one
broker.

1. Publish N events (QBSYNC_BENCH_REPLAY_EVENTS, default 1,000,000) to the catalog's topics
   under bench names (8 partitions each): the engine's usual traffic for many tenants. Per sync
   flow: a CRM person change, the decision applying it, the QBO update command, its outcome, the
   link decision (made the first time a person is seen, synced after), QBO's echo of the write
   and the decision ignoring it; every 20th flow a QBO invoice change, every 200th an import
   (request, started, finished), every 1,000th a dead letter.
2. Baseline: a plain aiokafka consumer reads every partition from the beginning to the end,
   decoding nothing, with the replay's fetch settings: messages/s.
3. The replay of every projection into a fresh SQLite file, in a child process (so its peak RSS
   is its own): events/s, the ratio to the baseline, peak RSS, wall time.

`python -m bench.replay` runs it alone (on QBSYNC_KAFKA_BOOTSTRAP, else an embedded broker).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.machine import describe, peak_rss_mib
from schemas.catalog import decode
from schemas.topics import TOPICS, TopicSpec
from streams.admin import ensure_topics
from streams.broker import EmbeddedBroker

FIXTURES = Path(__file__).parents[1] / "schemas" / "fixtures"
TENANTS = 500
PEOPLE = 200  # per tenant: 100,000 links
Message = tuple[str, bytes, bytes]  # catalog topic, key, value


# --- the events --------------------------------------------------------------------------------


def _template(wire_type: str, **paths: str) -> str:
    """The golden event as JSON text, with `@NAME@` placeholders at the given dotted paths (a
    number's placeholder is quoted: `'"@P@"'` is replaced by digits)."""
    doc = json.loads((FIXTURES / f"{wire_type}.json").read_text())
    doc.update(id="@ID@", tenant="@T@")
    for path, name in paths.items():
        *parents, last = path.split(".")
        node = doc
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = f"@{name}@"
    return json.dumps(doc)


TEMPLATES = {
    "crm": _template(
        "qbsync.crm.person.changed.v1",
        subject="SUBJ",
        **{"data.after.id": "P", "data.before.id": "P", "data.after.last_name": "NAME"},
    ),
    "applied": _template(
        "qbsync.decision.input.applied.v1",
        subject="SUBJ",
        **{"data.input_id": "IN", "data.command_ids.0": "CMD"},
    ),
    "command": _template(
        "qbsync.command.qbo.customer.update.v1", subject="QSUBJ", **{"data.customer_id": "C"}
    ),
    "outcome": _template(
        "qbsync.outcome.succeeded.v1",
        subject="QSUBJ",
        **{"data.command_id": "CMD", "data.result.Id": "C", "data.result.SyncToken": "V"},
    ),
    "made": _template(
        "qbsync.decision.link.made.v1",
        subject="SUBJ",
        **{"data.input_id": "IN", "data.person_id": "P", "data.customer_id": "C"},
    ),
    "synced": _template(
        "qbsync.decision.link.synced.v1",
        subject="SUBJ",
        **{
            "data.input_id": "IN",
            "data.person_id": "P",
            "data.customer_id": "C",
            "data.command_id": "CMD",
            "data.qbo_sync_token": "V",
        },
    ),
    "qbo": _template(
        "qbsync.qbo.customer.changed.v1",
        subject="QSUBJ",
        **{"data.entity.Id": "C", "data.entity.SyncToken": "V"},
    ),
    "ignored": _template(
        "qbsync.decision.input.ignored.v1",
        subject="QSUBJ",
        **{"data.input_id": "IN", "data.input_type": "ITYPE"},
    ),
    "invoice": _template(
        "qbsync.qbo.invoice.changed.v1",
        subject="ISUBJ",
        **{"data.entity.Id": "INV", "data.entity.CustomerRef.value": "C"},
    ),
    "import": _template("qbsync.request.import.v1"),
    "started": _template(
        "qbsync.decision.import.started.v1", **{"data.request_id": "IN", "causationid": "IN"}
    ),
    "finished": _template(
        "qbsync.decision.import.finished.v1", **{"data.request_id": "IN", "causationid": "IN"}
    ),
    "deadletter": _template("qbsync.deadletter.v1"),
}
TOPIC = {
    "crm": "qbsync.crm.changes.v1",
    "qbo": "qbsync.qbo.changes.v1",
    "invoice": "qbsync.qbo.changes.v1",
    "import": "qbsync.requests.v1",
    "command": "qbsync.commands.v1",
    "outcome": "qbsync.outcomes.v1",
    "deadletter": "qbsync.deadletter.v1",
}  # the rest: decisions


def _fill(kind: str, **values: object) -> Message:
    text = TEMPLATES[kind]
    for name, value in values.items():
        marker = f"@{name}@"
        text = text.replace(f'"{marker}"' if isinstance(value, int) else marker, str(value))
    tenant = str(values["T"])
    return TOPIC.get(kind, "qbsync.decisions.v1"), tenant.encode(), text.encode()


def flow(i: int) -> list[Message]:
    """The events of sync flow `i`."""
    tenant, person = f"bench-{i % TENANTS:04d}", 1000 + (i // TENANTS) % PEOPLE
    customer, cmd, out, qbo = str(person + 5000), f"cmd-{i}", f"out-{i}", f"qbo-{i}"
    common: dict[str, Any] = {"T": tenant, "P": person, "C": customer, "CMD": cmd, "V": str(i)}
    subjects = {"SUBJ": f"crm/person/{person}", "QSUBJ": f"qbo/customer/{customer}"}
    common |= subjects
    link = "made" if i < TENANTS * PEOPLE else "synced"
    events = [
        _fill("crm", ID=f"crm-{i}", NAME=f"Smith {i}", **common),
        _fill("applied", ID=f"dec-{i}-applied", IN=f"crm-{i}", **common),
        _fill("command", ID=cmd, **common),
        _fill("outcome", ID=out, **common),
        _fill(link, ID=f"dec-{i}-{link}", IN=out, **common),
        _fill("qbo", ID=qbo, **common),
        _fill(
            "ignored",
            ID=f"dec-{i}-ignored",
            IN=qbo,
            ITYPE="qbsync.qbo.customer.changed.v1",
            **common,
        ),
    ]
    if i % 20 == 0:
        invoice = {"INV": str(100_000 + i), "ISUBJ": f"qbo/invoice/{100_000 + i}"}
        events.append(_fill("invoice", ID=f"inv-{i}", **invoice, **common))
    if i % 200 == 0:
        request = f"req-{i}"
        events += [
            _fill("import", ID=request, T=tenant),
            _fill("started", ID=f"dec-{i}-import-started", IN=request, T=tenant),
            _fill("finished", ID=f"dec-{i}-import-finished", IN=request, T=tenant),
        ]
    if i % 1000 == 0:
        events.append(_fill("deadletter", ID=f"dl-{i}", T=tenant))
    return events


def messages(n: int) -> Iterator[Message]:
    """The first `n` messages of flows 0, 1, 2, ..."""
    sent, i = 0, 0
    while sent < n:
        for message in flow(i)[: n - sent]:
            yield message
            sent += 1
        i += 1


def check_events() -> None:
    """Every kind of message decodes as the catalog says, keyed by its tenant."""
    for i in (0, TENANTS * PEOPLE):
        for topic, key, value in flow(i):
            event = decode(value)
            assert event.tenant == key.decode(), (topic, value[:200])
            assert any(type(event) in spec.value_types for spec in TOPICS if spec.name == topic)


# --- publishing and the baseline ---------------------------------------------------------------


def bench_specs(suffix: str) -> tuple[TopicSpec, ...]:
    return tuple(dataclasses.replace(spec, name=f"{spec.name}.{suffix}") for spec in TOPICS)


async def publish(bootstrap: str, suffix: str, n: int) -> float:
    """Publish `n` messages; seconds taken."""
    await ensure_topics(bootstrap, bench_specs(suffix), clamp_replication=True)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=512 * 1024
    )
    await producer.start()
    started = time.monotonic()
    try:
        pending = []
        for topic, key, value in messages(n):
            pending.append(await producer.send(f"{topic}.{suffix}", value, key=key))
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.monotonic() - started


async def plain_consume(bootstrap: str, suffix: str, n: int) -> float:
    """Read the `n` messages from the beginning, decoding nothing; messages/s."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        fetch_max_wait_ms=100,  # as the replay
    )
    await consumer.start()
    try:
        await consumer.topics()
        tps = [
            TopicPartition(spec.name, p)
            for spec in bench_specs(suffix)
            for p in sorted(consumer.partitions_for_topic(spec.name) or ())
        ]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        started, seen = time.monotonic(), 0
        while seen < n:
            batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
            seen += sum(len(records) for records in batch.values())
            if time.monotonic() - started > 1800:
                raise TimeoutError(f"read {seen}/{n}")
        return seen / (time.monotonic() - started)
    finally:
        await consumer.stop()


# --- the replay, in a child process ------------------------------------------------------------


def child(bootstrap: str, suffix: str, url: str) -> dict[str, Any]:
    """`python -m bench.replay child ...`: replay every projection into `url`; the result."""
    from projections.db import ProjectionDb
    from projections.replay import replay

    names = {spec.name: f"{spec.name}.{suffix}" for spec in TOPICS}
    last = [time.monotonic()]

    def progress(stats: Any) -> None:
        if time.monotonic() - last[0] > 30:
            last[0] = time.monotonic()
            print(
                f"replay: {stats.read:,}/{stats.total:,} at {stats.events_per_s:,.0f}/s",
                file=sys.stderr,
                flush=True,
            )

    db = ProjectionDb.open(url)
    try:
        result = asyncio.run(
            replay(bootstrap, db, ["all"], topic_names=names, on_progress=progress)
        )
    finally:
        db.close()
    return result.as_json() | {"peak_rss_mib": round(peak_rss_mib(os.getpid()) or 0, 1)}


def measure_replay(bootstrap: str, suffix: str, directory: Path) -> dict[str, Any]:
    url = f"sqlite:///{directory}/replay.db"
    args = [sys.executable, "-m", "bench.replay", "child", bootstrap, suffix, url]
    started = time.monotonic()
    done = subprocess.run(args, stdout=subprocess.PIPE, check=True, timeout=7200)
    wall = time.monotonic() - started
    figures: dict[str, Any] = json.loads(done.stdout)
    size = Path(directory / "replay.db").stat().st_size
    return figures | {"wall_s": round(wall, 1), "sqlite_mib": round(size / 2**20, 1)}


def run(bootstrap: str | None = None, n: int | None = None) -> dict[str, Any]:
    """The figures (see the module docstring), on `bootstrap` or QBSYNC_KAFKA_BOOTSTRAP, else on
    an embedded broker of its own."""
    n = n or int(os.environ.get("QBSYNC_BENCH_REPLAY_EVENTS", "1000000"))
    bootstrap = bootstrap or os.environ.get("QBSYNC_KAFKA_BOOTSTRAP")
    broker = None
    if not bootstrap:
        broker = EmbeddedBroker()
        bootstrap = broker.start()
    check_events()
    suffix = f"bench-replay-{uuid.uuid4().hex[:6]}"
    try:
        publish_s = asyncio.run(publish(bootstrap, suffix, n))
        plain_rate = asyncio.run(plain_consume(bootstrap, suffix, n))
        with tempfile.TemporaryDirectory(prefix="qbsync-bench-replay-") as directory:
            replayed = measure_replay(bootstrap, suffix, Path(directory))
    finally:
        if broker is not None:
            broker.stop()
    assert replayed["read"] == n and replayed["failed"] == 0, replayed
    return {
        "events": n,
        "tenants": TENANTS,
        "broker": "embedded tansu (memory)" if broker else f"Kafka at {bootstrap}",
        "publish_s": round(publish_s, 1),
        "plain_consume_msgs_per_s": round(plain_rate),
        "replay_events_per_s": round(replayed["events_per_s"]),
        "replay_over_plain_consume": round(replayed["events_per_s"] / plain_rate, 4),
        "replay_peak_rss_mib": replayed["peak_rss_mib"],
        "replay_wall_s": replayed["wall_s"],
        "replay_seconds": replayed["seconds"],
        "replay_applied": replayed["applied"],
        "replay_undecodable": replayed["undecodable"],
        "projections": replayed["projections"],
        "sqlite_mib": replayed["sqlite_mib"],
    }


def main() -> int:
    if sys.argv[1:2] == ["child"]:
        print(json.dumps(child(*sys.argv[2:5])))
        return 0
    figures = run()
    json.dump({"machine": describe(), "replay": figures}, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
