"""Contract cases: optimistic concurrency, concurrent opening, persistence across a reopen."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from eventsourcing.persistence import IntegrityError

from store import ConcurrentWriteError, open_store
from store import import_run as runs
from store import installation as inst
from store.customer_link import record_link_decision
from tests.store.helpers import (
    ADMIN,
    CLUSTER,
    INPUT_TOPIC,
    TENANT,
    at,
    full_summary,
    installed,
    linked,
)
from tests.store.installation_cases import CUSTOM
from tests.unit.engine.link_decisions import inactive, observed


class ConcurrencyCases:
    def test_concurrent_writers_to_one_aggregate_conflict_clearly(self, store, open_):
        other = open_()
        link = linked(store)
        mine, theirs = store.link(TENANT, 101), other.link(TENANT, 101)
        other.record(record_link_decision(theirs, inactive()))
        with pytest.raises(ConcurrentWriteError, match=str(link.id)) as raised:
            store.record(record_link_decision(mine, observed("qbo", {"Id": "58"}, version="1")))
        assert isinstance(raised.value, IntegrityError)  # the library's error, made specific
        assert raised.value.aggregate_ids == [link.id]
        assert store.link(TENANT, 101).status == "inactive"
        assert store.link(TENANT, 101).state.qbo_sync_token == "0"

    def test_concurrent_threads_lose_no_update_when_they_retry(self, store, open_):
        installation = installed(store)
        start = datetime(2026, 11, 25, tzinfo=UTC)
        store.record(
            runs.start_import(installation, ADMIN, request_id="r", dry_run=False, started_at=start)
        )
        writers, rounds, conflicts = 4, 5, []
        stores = [open_() for _ in range(writers)]

        def write(number: int) -> None:
            for round_ in range(1, rounds + 1):
                while True:
                    run = stores[number].import_run(TENANT, "r")
                    try:
                        stores[number].record(runs.progress(run, {f"writer{number}": round_}))
                        break
                    except ConcurrentWriteError:
                        conflicts.append(number)

        threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        run = store.import_run(TENANT, "r")
        assert run.counts == {f"writer{n}": rounds for n in range(writers)}
        assert run.version == 1 + writers * rounds

    def test_reopening_the_store_reads_everything_back(self, store, open_):
        installation = installed(store)
        store.record(inst.save_settings(installation, ADMIN, CUSTOM), position=at(41))
        link = linked(store)
        store.record(
            record_link_decision(link, observed("crm", {"id": 101, "phone": "1"})), position=at(42)
        )
        start = datetime(2026, 11, 25, tzinfo=UTC)
        run = runs.start_import(
            store.installation(TENANT), ADMIN, request_id="r", dry_run=True, started_at=start
        )
        store.record(run)
        store.record(runs.finish(store.import_run(TENANT, "r"), full_summary()), position=at(43))
        expected = (
            store.installation(TENANT),
            store.link(TENANT, 101),
            store.import_run(TENANT, "r"),
        )
        store.close()
        reopened = open_()
        assert (
            reopened.installation(TENANT),
            reopened.link_for_customer(TENANT, "58"),
            reopened.import_run(TENANT, "r"),
        ) == expected
        assert reopened.processed_offset(CLUSTER, INPUT_TOPIC, 0) == 43

    def test_workers_opening_a_new_database_at_once_all_succeed(self, store_url):
        opened, failures = [], []

        def open_one() -> None:
            try:
                opened.append(open_store(store_url))
            except Exception as error:
                failures.append(error)

        threads = [threading.Thread(target=open_one) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        for store in opened:
            store.close()
        assert failures == [] and len(opened) == 4
