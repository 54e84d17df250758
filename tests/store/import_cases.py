"""Contract cases: import runs (SYNC-RULES 4)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from store import ConcurrentWriteError, InvalidTransition, NotAllowed
from store import import_run as runs
from store.import_run import (
    CompanyResult,
    IncompleteSummary,
    ItemIntent,
    ItemOutcome,
    PlannedImport,
    import_item_id,
    project_import_item,
)
from store.import_summary import ImportSummary, SkippedCustomer
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

    # --- what a resumed import reads back (streams/importing/attempt.py) -----------------------

    def test_a_run_is_planned_once_and_remembers_its_companies_and_how_far_it_published(
        self, store
    ):
        run = _started(store)
        planned = PlannedImport(
            total=3,
            skipped=(SkippedCustomer(customer_id="77", name="No Mail Ltd"),),
            companies=("Acme",),
        )
        store.record(runs.plan(run, planned))
        run = store.import_run(TENANT, "req-1")
        with pytest.raises(InvalidTransition, match="planned already"):
            runs.plan(run, planned)
        store.record(runs.resolve_company(run, "acme", CompanyResult(name="Acme", company_id=5)))
        run = store.import_run(TENANT, "req-1")
        store.record(runs.progress(run, {"processed": 2}, published_through=58))
        run = store.import_run(TENANT, "req-1")
        store.record(runs.progress(run, {"processed": 3}))
        run = store.import_run(TENANT, "req-1")
        assert (run.planned, run.companies["acme"].company_id) == (planned, 5)
        assert (run.published_through, run.counts) == (58, {"processed": 3})
        with pytest.raises(InvalidTransition, match="published through 58"):
            runs.progress(run, {}, published_through=57)

    def test_the_notification_is_recorded_once_and_only_after_the_run_finished(self, store):
        run = _started(store)
        with pytest.raises(InvalidTransition, match="has not finished"):
            runs.notification_posted(run, 1)
        store.record(runs.finish(run, full_summary(), at=STARTED))
        run = store.import_run(TENANT, "req-1")
        assert (run.finished_at, run.notification_posted) == (STARTED, False)
        store.record(runs.notification_posted(run, 146))
        run = store.import_run(TENANT, "req-1")
        assert run.notification_posted
        with pytest.raises(InvalidTransition, match="posted already"):
            runs.notification_posted(run, 146)

    def test_an_item_is_planned_then_done_and_takes_nothing_after(self, store):
        intent = ItemIntent(person_id=101, crm_updates={"mobile": "555"}, qbo_sync_token="0")
        store.record(runs.plan_item(None, TENANT, "req-1", "58", intent))
        item = store.load(import_item_id(TENANT, "req-1", "58"), project_import_item)
        assert (item.intent, item.outcome) == (intent, None)
        with pytest.raises(InvalidTransition, match="is planned"):
            runs.plan_item(item, TENANT, "req-1", "58", intent)
        outcome = ItemOutcome(status="linked", person_id=101)
        store.record(runs.finish_item(item, TENANT, "req-1", "58", outcome))
        item = store.load(import_item_id(TENANT, "req-1", "58"), project_import_item)
        assert (item.intent, item.outcome, item.version) == (intent, outcome, 2)
        with pytest.raises(InvalidTransition, match="done already"):
            runs.finish_item(item, TENANT, "req-1", "58", outcome)
        failed = ItemOutcome(status="failed", error="CRM answered 404")
        store.record(runs.finish_item(None, TENANT, "req-1", "59", failed))  # no intent needed
        assert store.load(import_item_id(TENANT, "req-1", "59"), project_import_item).outcome == (
            failed
        )
        assert store.load(import_item_id(TENANT, "req-2", "58"), project_import_item) is None

    def test_two_attempts_racing_for_one_customer_cannot_both_plan_it(self, store, open_):
        other = open_()
        intent = ItemIntent(qbo_sync_token="0", create_fields={"email": "a@x.test"})
        store.record(runs.plan_item(None, TENANT, "req-1", "60", intent))
        with pytest.raises(ConcurrentWriteError):
            other.record(runs.plan_item(None, TENANT, "req-1", "60", intent))
