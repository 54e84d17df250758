"""Contract cases: import runs (SYNC-RULES 4)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from store import InvalidTransition, NotAllowed
from store import import_run as runs
from store.import_run import IncompleteSummary
from store.import_summary import ImportSummary
from store.installation import NotConnected
from tests.store.helpers import ADMIN, BASIC, TENANT, full_summary, installed

STARTED = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


def _started(store, request_id: str = "req-1", dry_run: bool = False):
    installation = installed(store)
    event = runs.start_import(
        installation, ADMIN, request_id=request_id, dry_run=dry_run, started_at=STARTED
    )
    store.record(event)
    return store.import_run(TENANT, request_id)


class ImportCases:
    def test_an_import_run_progresses_and_finishes_with_every_summary_figure(self, store):
        run = _started(store, dry_run=True)
        assert (run.status, run.dry_run, run.requested_by, run.started_at) == (
            "running",
            True,
            ADMIN.user_id,
            STARTED,
        )
        store.record(runs.progress(run, {"customers_read": 500, "linked": 120}))
        store.record(runs.progress(store.import_run(TENANT, "req-1"), {"customers_read": 1000}))
        assert store.import_run(TENANT, "req-1").counts == {"customers_read": 1000, "linked": 120}
        store.record(runs.finish(store.import_run(TENANT, "req-1"), full_summary()))
        run = store.import_run(TENANT, "req-1")
        assert run.status == "finished"
        assert run.summary == ImportSummary.model_validate(full_summary())
        assert run.summary.model_dump(mode="json")["skipped"][0]["name"] == "No Mail Ltd"
        with pytest.raises(InvalidTransition, match="has finished"):
            runs.progress(run, {"customers_read": 1})

    def test_a_summary_missing_a_figure_is_refused(self, store):
        run = _started(store)
        summary = full_summary()
        del summary["api_calls"]
        with pytest.raises(IncompleteSummary, match="api_calls"):
            runs.finish(run, summary)

    def test_a_failed_import_keeps_the_reason_and_takes_no_more_changes(self, store):
        run = _started(store)
        store.record(runs.fail(run, "QBO token revoked"))
        run = store.import_run(TENANT, "req-1")
        assert (run.status, run.failure) == ("failed", "QBO token revoked")
        with pytest.raises(InvalidTransition, match="has failed"):
            runs.finish(run, full_summary())

    def test_only_an_admin_with_a_connection_may_start_an_import(self, store):
        installation = installed(store, connected=False)
        with pytest.raises(NotAllowed, match="only admins may import"):
            runs.start_import(
                installation, BASIC, request_id="r", dry_run=False, started_at=STARTED
            )
        with pytest.raises(NotConnected):
            runs.start_import(
                installation, ADMIN, request_id="r", dry_run=False, started_at=STARTED
            )

    def test_runs_are_kept_per_request(self, store):
        _started(store, request_id="req-1")
        event = runs.start_import(
            store.installation(TENANT), ADMIN, request_id="req-2", dry_run=False, started_at=STARTED
        )
        store.record(event)
        assert store.import_run(TENANT, "req-2").dry_run is False
        assert store.import_run(TENANT, "req-1").status == "running"
        assert store.import_run(TENANT, "req-3") is None
