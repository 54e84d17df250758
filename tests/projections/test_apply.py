"""The projector on SQLite and PostgreSQL: events from the golden fixtures in, rows out."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from engine.ids import derived_id
from projections.db import ProjectionDb, ProjectionUrlError
from projections.projector import Position, Projector
from projections.queries import ProjectionReader
from schemas.imports import ImportSummary
from tests.projections.events import dump, event, golden, qbo_customer_changed

TENANT, OTHER = "acme-co", "beta-co"
T0 = datetime(2026, 11, 24, 21, 2, 12, tzinfo=UTC)
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

MADE = "qbsync.decision.link.made.v1"
OBSERVED = "qbsync.decision.link.observed.v1"
SYNCED = "qbsync.decision.link.synced.v1"
INACTIVE = "qbsync.decision.link.inactive.v1"
MOVED = "qbsync.decision.link.moved.v1"
ENDED = "qbsync.decision.link.ended.v1"
APPLIED = "qbsync.decision.input.applied.v1"
IGNORED = "qbsync.decision.input.ignored.v1"
CRM_CHANGED = "qbsync.crm.person.changed.v1"
QBO_DELETED = "qbsync.qbo.customer.deleted.v1"
QBO_MERGED = "qbsync.qbo.customer.merged.v1"
UPDATE_CUSTOMER = "qbsync.command.qbo.customer.update.v1"
RUN_IMPORT = "qbsync.command.import.run.v1"
SUCCEEDED = "qbsync.outcome.succeeded.v1"
FAILED = "qbsync.outcome.failed.v1"
DEAD_LETTER = "qbsync.deadletter.v1"
STARTED = "qbsync.decision.import.started.v1"
PROGRESSED = "qbsync.decision.import.progressed.v1"
FINISHED = "qbsync.decision.import.finished.v1"
IMPORT_FAILED = "qbsync.decision.import.failed.v1"


def reader(db: ProjectionDb) -> ProjectionReader:
    return ProjectionReader(db, clock=lambda: NOW)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def conflict(field: str, crm: str, qbo: str, kept: str = "qbo") -> dict[str, object]:
    return {
        "rule": "concurrent_change",
        "crm_field": field,
        "qbo_field": "Q." + field,
        "crm_value": crm,
        "qbo_value": qbo,
        "kept": kept,
    }


def dead_letter(dl_id: str, original: dict[str, object] | None, topic: str, **data: object):
    text = json.dumps(original) if original is not None else "{not json"
    return event(
        DEAD_LETTER,
        id=dl_id,
        data={
            "source_topic": topic,
            "value_text": text,
            "value_b64": base64.b64encode(text.encode()).decode(),
            **data,
        },
    )


# --- links and the records behind them --------------------------------------------------------


def test_a_link_made_by_import_shows_both_records_its_conflict_and_when_it_was_made(feed, db):
    made = event(MADE)
    assert feed(made) == [True]

    page = reader(db).links(TENANT)
    assert page.total == 1
    (link,) = page.items
    assert (link.person_id, link.customer_id, link.realm_id, link.via, link.status) == (
        4211,
        "58",
        "9130357992221046",
        "import",
        "active",
    )
    assert link.first_linked_at == link.last_synced_at == made.time
    assert (link.last_input_id, link.last_decision_id) == ("req-77e1-import", made.id)
    assert link.conflicts == 1 and link.former_customer_ids == []

    detail = reader(db).link(TENANT, 4211)
    assert detail is not None
    assert detail.engine.crm == made.data.crm and detail.engine.qbo == made.data.qbo
    assert detail.engine.qbo_sync_token == "3"
    notes = [(c.crm_field, c.crm_value, c.qbo_value, c.kept, c.at) for c in detail.conflict_notes]
    assert notes == [("phone", "555-1234", "555-9999", "crm", made.time)]

    customer = reader(db).customer(TENANT, "58")
    assert customer is not None and customer.linked and customer.latest_qbo is None
    assert customer.link == link and customer.engine == detail.engine
    person = reader(db).person(TENANT, 4211)
    assert person is not None and person.linked and person.link == link


def test_each_link_decision_changes_the_link_as_it_says(feed, db):
    feed(event(MADE, time=at(0)))
    crm_snapshot = {"id": 4211, "first_name": "Janet", "updated_at": "2026/11/24 16:05:00 -0500"}
    feed(
        event(
            OBSERVED,
            id="obs-crm",
            time=at(1),
            data={"side": "crm", "snapshot": crm_snapshot, "version": None, "changed_at": None},
        )
    )
    link = reader(db).link(TENANT, 4211)
    assert link.engine.crm == crm_snapshot
    assert link.engine.crm_changed_at == datetime(2026, 11, 24, 21, 5, tzinfo=UTC)
    assert link.last_synced_at == at(0), "observing a side writes nothing"
    assert link.engine.qbo_sync_token == "3"

    lost = conflict("phone", "555-1", "555-2", kept="crm")
    feed(event(OBSERVED, time=at(2), data={"conflicts": [lost]}))  # the QBO side at SyncToken 4
    link = reader(db).link(TENANT, 4211)
    assert (link.engine.qbo_sync_token, link.conflicts) == ("4", 2)

    feed(event(SYNCED, time=at(3), data={"conflicts": [conflict("email", "a@x", "b@x")]}))
    link = reader(db).link(TENANT, 4211)
    assert link.last_synced_at == at(3) and link.engine.qbo_sync_token == "5"
    assert link.engine.crm["phone"] is None
    assert link.engine.qbo_changed_at == datetime(2026, 11, 24, 21, 2, 11, tzinfo=UTC)
    assert link.conflicts == 3
    assert [n.crm_field for n in link.conflict_notes] == ["email", "phone", "phone"]  # newest first

    feed(event(INACTIVE, time=at(4)))
    link = reader(db).link(TENANT, 4211)
    assert (link.status, link.status_reason) == ("inactive", "customer_inactive")
    assert reader(db).person(TENANT, 4211).linked, "an inactive link is still a link"

    survivor = {"Id": "12", "SyncToken": "9", "DisplayName": "Jane Smith"}
    feed(event(MOVED, time=at(5), data={"qbo": survivor, "qbo_sync_token": "9"}))
    link = reader(db).link(TENANT, 4211)
    assert (link.customer_id, link.former_customer_ids) == ("12", ["58"])
    assert link.engine.qbo == survivor and link.engine.qbo_sync_token == "9"
    assert reader(db).customer(TENANT, "58") is None
    assert reader(db).customer(TENANT, "12").linked

    feed(event(ENDED, time=at(6), data={"customer_id": "12"}))
    link = reader(db).link(TENANT, 4211)
    assert (link.status, link.status_reason) == ("ended", "person_deleted")
    assert link.last_input_id == "crm-person-4211-deleted" and link.updated_at == at(6)
    assert link.first_linked_at == at(0) and link.conflicts == 3
    assert not reader(db).person(TENANT, 4211).linked
    assert not reader(db).customer(TENANT, "12").linked
    assert [i.status for i in reader(db).links(TENANT, status="ended").items] == ["ended"]
    assert reader(db).links(TENANT, status="active").total == 0


def test_links_are_paged_in_person_order_and_filtered_by_status(feed, db):
    for person in (5, 3, 9, 7):
        feed(
            event(MADE, id=f"made-{person}", data={"person_id": person, "customer_id": str(person)})
        )
    feed(event(ENDED, data={"person_id": 9, "customer_id": "9"}))
    page = reader(db).links(TENANT, limit=2, offset=1)
    assert (page.total, [i.person_id for i in page.items]) == (4, [5, 7])
    active = reader(db).links(TENANT, status="active")
    assert (active.total, [i.person_id for i in active.items]) == (3, [3, 5, 7])


def test_an_unlinked_qbo_customer_is_visible_as_sent_and_an_older_version_never_replaces_a_newer(
    feed, db
):
    feed(qbo_customer_changed("77", "5", DisplayName="Acme Ltd"))
    feed(qbo_customer_changed("77", "3", DisplayName="Acme (old)"))
    customer = reader(db).customer(TENANT, "77")
    assert customer is not None and not customer.linked and customer.link is None
    record = customer.latest_qbo
    assert (record.sync_token, record.event_id, record.active) == ("5", "qbo-customer-77-v5", True)
    assert record.snapshot["DisplayName"] == "Acme Ltd"
    assert record.snapshot["PreferredDeliveryMethod"] == "Print", "unknown keys are kept"
    assert "PrimaryPhone" not in record.snapshot, "nothing QBO did not send is added"
    assert record.last_updated_at == datetime(2026, 11, 24, 21, 4, 5, tzinfo=UTC)

    feed(qbo_customer_changed("77", "6", Active=False))
    assert reader(db).customer(TENANT, "77").latest_qbo.active is False

    deleted_at = "2026-11-25T10:00:00Z"
    feed(event(QBO_DELETED, data={"id": "77", "deleted_at": deleted_at}))
    record = reader(db).customer(TENANT, "77").latest_qbo
    assert record.deleted_at == datetime(2026, 11, 25, 10, tzinfo=UTC)
    assert record.sync_token == "6", "a deletion keeps the last snapshot"

    feed(event(QBO_MERGED, data={"merged_id": "77", "surviving_id": "80", "surviving": None}))
    record = reader(db).customer(TENANT, "77").latest_qbo
    assert (record.merged_into, record.sync_token) == ("80", "6")
    assert reader(db).customer(TENANT, "80") is None, "a merge without the survivor adds none"

    feed(event(QBO_MERGED))  # the golden merge: 61 into 58, with the survivor as it is now
    assert reader(db).customer(TENANT, "61").latest_qbo.merged_into == "58"
    survivor = reader(db).customer(TENANT, "58").latest_qbo
    assert (survivor.sync_token, survivor.snapshot["CompanyName"]) == ("3", "Smith Tools")


def test_the_latest_crm_person_is_kept_by_the_crms_updated_at_and_a_deletion_is_marked(feed, db):
    newer = golden(CRM_CHANGED)["data"]["after"] | {"phone": "555-2000"}
    older = golden(CRM_CHANGED)["data"]["after"] | {"phone": "555-1000"}
    feed(
        event(CRM_CHANGED, id="p-new", data={"after": newer, "updated_at": "2026-11-24T22:00:00Z"})
    )
    feed(
        event(CRM_CHANGED, id="p-old", data={"after": older, "updated_at": "2026-11-24T21:00:00Z"})
    )
    person = reader(db).person(TENANT, 4211)
    assert person is not None and not person.linked and person.link is None
    assert person.latest_crm.snapshot["phone"] == "555-2000"
    assert person.latest_crm.snapshot["custom_fields"] == {"custom_label_12": "gold"}
    assert person.latest_crm.event_id == "p-new"
    assert person.latest_crm.updated_at == datetime(2026, 11, 24, 22, tzinfo=UTC)

    feed(event("qbsync.crm.person.deleted.v1"))
    person = reader(db).person(TENANT, 4211)
    assert person.latest_crm.deleted_at is not None
    assert person.latest_crm.snapshot["phone"] == "555-2000"
    assert reader(db).person(TENANT, 999) is None


# --- imports -----------------------------------------------------------------------------------


def test_an_import_run_goes_from_running_to_finished_and_nothing_late_reopens_it(feed, db):
    feed(event(STARTED, time=at(0)))
    run = reader(db).import_run(TENANT, "req-77e1-import")
    assert (run.status, run.requested_by, run.started_at, run.dry_run) == (
        "running",
        7,
        at(0),
        False,
    )
    feed(event(PROGRESSED, id="p1", time=at(1)))
    feed(event(PROGRESSED, id="p2", time=at(2), data={"counts": {"customers_done": 4000}}))
    run = reader(db).import_run(TENANT, "req-77e1-import")
    assert (run.counts, run.total, run.updated_at) == ({"customers_done": 4000}, 10000, at(2))

    feed(event(FINISHED, time=at(3)))
    feed(event(PROGRESSED, id="p3", time=at(4), data={"counts": {"customers_done": 1}}))
    feed(event(IMPORT_FAILED, time=at(5)))
    run = reader(db).import_run(TENANT, "req-77e1-import")
    assert (run.status, run.finished_at, run.failure_reason) == ("finished", at(3), None)
    assert run.counts == {"customers_done": 4000}
    assert run.summary == ImportSummary.model_validate(golden(FINISHED)["data"]["summary"])


def test_a_failed_import_keeps_its_reason_and_a_resumed_one_runs_again(feed, db):
    feed(event(STARTED, time=at(0), data={"request_id": "r-1", "dry_run": True}))
    feed(event(IMPORT_FAILED, time=at(1), data={"request_id": "r-1", "dry_run": True}))
    run = reader(db).import_run(TENANT, "r-1")
    assert (run.status, run.finished_at, run.dry_run) == ("failed", at(1), True)
    assert run.failure_reason == "QuickBooks connection revoked: an admin must reconnect"

    feed(event(STARTED, id="again", time=at(2), data={"request_id": "r-1", "dry_run": True}))
    run = reader(db).import_run(TENANT, "r-1")
    assert (run.status, run.failure_reason, run.started_at) == ("running", None, at(0))

    feed(event(STARTED, id="s2", time=at(9), data={"request_id": "r-2"}))
    page = reader(db).imports(TENANT)
    assert (page.total, [r.request_id for r in page.items]) == (2, ["r-2", "r-1"])
    assert reader(db).import_run(TENANT, "nope") is None


# --- health --------------------------------------------------------------------------------


def test_a_command_is_pending_until_its_outcome_whichever_arrives_first(feed, db):
    def command(command_id: str, minutes: float):
        return event(UPDATE_CUSTOMER, id=command_id, time=at(minutes))

    def outcome(command_id: str, kind: str = SUCCEEDED):
        return event(kind, id=f"out-{command_id}", data={"command_id": command_id})

    feed(command("c-a", 0))
    feed(outcome("c-a"))
    feed(outcome("c-b", FAILED))  # the outcome topic was read first
    feed(command("c-b", 1))
    feed(command("c-c", 2))
    feed(event(RUN_IMPORT, time=at(3)))

    pending = reader(db).health(TENANT).pending_commands
    assert pending.count == 2
    assert [(p.command_id, p.issued_at) for p in pending.oldest] == [
        ("c-c", at(2)),
        ("6a0e4b1c-3f1d-5b7a-8c2e-0d9f1a2b3c4d", at(3)),
    ]
    assert pending.oldest[1].command_type == RUN_IMPORT
    assert pending.oldest_age_s == (NOW - at(2)).total_seconds()

    feed(outcome("c-c", FAILED))
    # A dead-lettered command (the executor could not take it) is accounted for, not pending.
    run_import = golden(RUN_IMPORT)
    feed(dead_letter("dl-job", run_import, "qbsync.jobs.v1", stage="execute"))
    assert reader(db).health(TENANT).pending_commands.count == 0


def test_failures_dead_letters_and_conflicts_have_totals_and_the_most_recent_first(feed, db):
    for n in range(3):
        feed(
            event(
                FAILED,
                id=f"fail-{n}",
                time=at(n),
                data={"command_id": f"c-{n}", "reason": f"boom {n}", "code": str(6000 + n)},
            )
        )
    feed(event(SUCCEEDED))
    feed(dead_letter("dl-1", None, "qbsync.crm.changes.v1", offset=7, partition=2))
    feed(event(MADE))
    feed(event(SYNCED, data={"conflicts": [conflict("phone", "1", "2"), conflict("x", "3", "4")]}))

    health = reader(db).health(TENANT, recent=2)
    failures = health.failures
    assert failures.failed_commands_total == 3
    assert [(f.command_id, f.reason, f.code) for f in failures.recent_failed_commands] == [
        ("c-2", "boom 2", "6002"),
        ("c-1", "boom 1", "6001"),
    ]
    assert failures.recent_failed_commands[0].retryable is False
    assert failures.dead_letters_total == 1
    (letter,) = failures.recent_dead_letters
    assert (letter.stage, letter.source_topic, letter.partition, letter.offset) == (
        "parse",
        "qbsync.crm.changes.v1",
        2,
        7,
    )
    assert letter.reason.startswith("invalid event") and letter.original_id is None
    assert letter.errors == [{"field": "data.after.id", "message": "Field required"}]
    assert health.conflicts.total == 3
    assert len(health.conflicts.recent) == 2
    assert {(c.person_id, c.kept) for c in health.conflicts.recent} <= {
        (4211, "qbo"),
        (4211, "crm"),
    }
    assert health.links.active == 1


def test_lag_counts_inputs_without_a_decision_and_a_dead_letter_accounts_for_its_input(feed, db):
    crm = event(CRM_CHANGED, id="in-crm", time=at(0))
    qbo = qbo_customer_changed("58", "3")
    request = event("qbsync.request.import.v1", id="in-req", time=at(10))
    feed(crm, qbo, request)
    feed(event(IGNORED, id="d-crm", time=at(1), data={"input_id": "in-crm"}))

    lag = reader(db).health(TENANT).lag
    assert (lag.inputs, lag.undecided_inputs) == (3, 2)
    assert (lag.newest_input_at, lag.newest_decision_at) == (at(10), at(1))
    assert lag.lag_s == 9 * 60
    assert lag.oldest_undecided_at == qbo.time

    # The decider could not decide on the request: it is dead-lettered, so accounted for.
    original = golden("qbsync.request.import.v1") | {"id": "in-req"}
    feed(dead_letter("dl-req", original, "qbsync.requests.v1", stage="decide"))
    lag = reader(db).health(TENANT).lag
    assert (lag.undecided_inputs, lag.oldest_undecided_at) == (1, qbo.time)
    assert reader(db).health(TENANT).decisions.dead_lettered_inputs == 1

    feed(event(APPLIED, id="d-qbo", time=at(20), data={"input_id": qbo.id}))
    lag = reader(db).health(TENANT).lag
    assert (lag.undecided_inputs, lag.lag_s, lag.oldest_undecided_at) == (0, 0.0, None)


def test_a_decision_projected_before_its_input_leaves_nothing_undecided(feed, db):
    feed(event(IGNORED, data={"input_id": "early"}))
    feed(event(CRM_CHANGED, id="early"))
    lag = reader(db).health(TENANT).lag
    assert (lag.inputs, lag.undecided_inputs, lag.lag_s) == (1, 0, 0.0)


def test_decisions_are_counted_by_verdict_and_reason_once_per_decision_id(feed, db):
    for n, reason in enumerate(["not_linked", "echo", "not_linked", "disabled"]):
        feed(event(IGNORED, id=f"ign-{n}", data={"input_id": f"i-{n}", "reason": reason}))
    feed(event(APPLIED))
    feed(event(APPLIED))  # published twice (at-least-once): same decision id, a new offset
    feed(event("qbsync.decision.request.denied.v1"))
    decisions = reader(db).health(TENANT).decisions
    assert decisions.ignored_by_reason == {"disabled": 1, "echo": 1, "not_linked": 2}
    assert (decisions.ignored, decisions.applied, decisions.denied) == (4, 1, 1)


def test_admin_requests_are_accounted_for_by_what_they_changed(feed, db):
    install = event("qbsync.request.install.v1", id="req-install")
    start = event("qbsync.request.import.v1", id="req-import")
    feed(install, start, event("qbsync.request.enable.v1", id="req-enable"))
    changed = "qbsync.decision.installation.changed.v1"
    feed(
        event(changed, id="d-installed", data={"input_id": "req-install", "change": "installed"}),
        event(changed, id="d-connected", data={"input_id": "req-install", "change": "connected"}),
        event(STARTED, data={"request_id": "req-import"}),
    )
    health = reader(db).health(TENANT)
    assert (health.lag.inputs, health.lag.undecided_inputs) == (3, 1)
    assert health.decisions.applied == 2, "one install request, however many changes it made"


def test_a_decision_published_twice_counts_its_conflicts_once(feed, db):
    feed(event(MADE))
    feed(event(MADE))
    assert reader(db).link(TENANT, 4211).conflicts == 1
    assert reader(db).health(TENANT).conflicts.total == 1


def test_a_decision_published_again_after_later_ones_does_not_take_the_link_back(feed, db):
    made = event(MADE, time=at(0))
    feed(made, event(SYNCED, time=at(1)))
    feed(made)  # its input was retried: the decider publishes the first outputs again (ADR 0009)
    link = reader(db).link(TENANT, 4211)
    assert (link.last_decision_id, link.engine.qbo_sync_token, link.last_synced_at) == (
        "dec-qbo-58-5-synced",
        "5",
        at(1),
    )


def test_an_import_progress_published_again_does_not_take_the_counts_back(feed, db):
    first = event(PROGRESSED, id="p-1", data={"counts": {"customers_done": 10}})
    feed(event(STARTED), first, event(PROGRESSED, id="p-2", data={"counts": {"done": 20}}))
    feed(first)
    assert reader(db).import_run(TENANT, "req-77e1-import").counts == {"done": 20}


def test_an_empty_tenant_has_empty_health(db):
    health = reader(db).health("nobody")
    assert health.lag.lag_s is None and health.lag.inputs == 0
    assert health.pending_commands.count == 0 and health.pending_commands.oldest_age_s is None
    assert health.failures.failed_commands_total == 0 and health.conflicts.total == 0


# --- positions, idempotency, isolation -------------------------------------------------------


def _a_bit_of_everything() -> list:
    return [
        event(CRM_CHANGED),
        qbo_customer_changed("58", "3"),
        event(MADE),
        event(SYNCED),
        event(MOVED),
        event(IGNORED),
        event(UPDATE_CUSTOMER),
        event(FAILED),
        event(STARTED),
        event(PROGRESSED),
        event(FINISHED),
        event(DEAD_LETTER),
        event("qbsync.qbo.invoice.changed.v1"),
        event("qbsync.decision.document.created.v1"),
        event("qbsync.decision.document.sent.v1"),
        event(
            "qbsync.decision.installation.changed.v1",
            data={"change": "installed", "crm_account_id": 42},
        ),
    ]


def test_applying_the_same_batch_twice_changes_nothing(feed, projector, db):
    assert all(feed(*_a_bit_of_everything()))
    before = dump(db)
    counts = {name.removeprefix("proj_"): len(rows) for name, rows in before.items()}
    assert counts == {
        "accountings": 3,  # InputIgnored, ImportStarted and InstallationChanged (requests)
        "commands": 1,
        "conflicts": 1,
        "crm_people": 1,
        "dead_letters": 1,
        "decisions_seen": 10,  # every decision of the list, by id
        "document_visibility": 1,
        "documents": 2,  # invoice 130 and the estimate 101 it was converted from
        # person and customer changes: CRM and QBO change (1 each), link made and moved (2
        # each), synced (1, the written side)
        "history": 7,
        "history_heads": 2,  # the CRM person and the QBO customer, as their systems said
        "history_mappings": 1,  # the field mapping installed with the tenant
        "imports": 1,
        "inputs": 3,
        "links": 1,
        "outcomes": 2,  # the failed command, and the import job ended by ImportFinished
        "positions": 6,  # crm, qbo, decisions, commands, outcomes, dead letters
        "qbo_customers": 1,
        "request_documents": 2,  # created by one request, sent by another
    }

    assert projector.apply_batch(feed.log) == [False] * len(feed.log)
    assert dump(db) == before
    assert not any(projector.apply(item, position) for item, position in feed.log[:3])
    assert dump(db) == before


def test_a_message_at_an_applied_position_is_skipped_whatever_it_says(projector, db):
    position = Position("qbsync.decisions.v1", 3, 41, "cluster-a")
    first = event(PROGRESSED, id="p-1", data={"counts": {"customers_done": 10}})
    other = event(PROGRESSED, id="p-2", data={"counts": {"customers_done": 20}})
    assert projector.apply(first, position)
    assert not projector.apply(other, position)
    assert not projector.apply(other, Position("qbsync.decisions.v1", 3, 40, "cluster-a"))
    assert reader(db).import_run(TENANT, "req-77e1-import").counts == {"customers_done": 10}

    assert projector.apply(other, Position("qbsync.decisions.v1", 3, 42, "cluster-a"))
    assert reader(db).import_run(TENANT, "req-77e1-import").counts == {"customers_done": 20}
    assert projector.positions("cluster-a") == {("qbsync.decisions.v1", 3): 42}


def test_positions_are_kept_per_cluster_partition_and_consumer(projector, db):
    projector.apply(None, Position("qbsync.decisions.v1", 0, 100, "old-log"))
    # A restarted embedded broker is a new log: offset 0 there is new.
    assert projector.apply(event(MADE), Position("qbsync.decisions.v1", 0, 0, "new-log"))
    assert projector.apply(None, Position("qbsync.decisions.v1", 1, 0, "new-log"))
    assert projector.positions("old-log") == {("qbsync.decisions.v1", 0): 100}
    assert projector.positions("new-log") == {
        ("qbsync.decisions.v1", 0): 0,
        ("qbsync.decisions.v1", 1): 0,
    }
    replay = Projector(db, consumer="replay")
    assert replay.positions("new-log") == {}
    assert replay.apply(event(MADE), Position("qbsync.decisions.v1", 0, 0, "new-log"))


def test_an_undecodable_message_only_moves_the_position(projector, db):
    position = Position("qbsync.crm.changes.v1", 0, 5, "c")
    assert projector.apply(None, position)
    assert not projector.apply(event(CRM_CHANGED), position)
    assert reader(db).person(TENANT, 4211) is None


def test_one_tenants_events_never_show_in_another_tenants_answers(feed, db):
    feed(*_a_bit_of_everything())
    feed(
        event(MADE, tenant=OTHER, id="b-made", data={"customer_id": "99", "person_id": 5}),
        qbo_customer_changed("99", "1", tenant=OTHER),
        event(FAILED, tenant=OTHER, id="b-fail"),
        event(FAILED, tenant=OTHER, id="b-fail-2", data={"command_id": "x"}),
        event(STARTED, tenant=OTHER, data={"request_id": "b-import"}),
    )
    mine, theirs = reader(db).health(TENANT), reader(db).health(OTHER)
    assert mine.failures.failed_commands_total == 1
    assert theirs.failures.failed_commands_total == 2
    assert (mine.conflicts.total, theirs.conflicts.total) == (1, 1)
    assert [i.person_id for i in reader(db).links(OTHER).items] == [5]
    assert [i.person_id for i in reader(db).links(TENANT).items] == [4211]
    assert reader(db).customer(TENANT, "99") is None
    assert reader(db).customer(OTHER, "58") is None
    assert reader(db).link(OTHER, 4211) is None
    assert reader(db).import_run(TENANT, "b-import") is None
    assert [r.request_id for r in reader(db).imports(OTHER).items] == ["b-import"]
    assert theirs.pending_commands.count == 0 and mine.pending_commands.count == 1


def test_reset_empties_every_projection_and_position(feed, projector, db):
    feed(*_a_bit_of_everything())
    db.reset()
    assert all(rows == [] for rows in dump(db).values())
    assert all(projector.apply_batch(feed.log))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///:memory:", "name a database file"),
        ("mysql://root@localhost/db", "expected sqlite"),
        ("postgresql://postgres@127.0.0.1/test?schema=bad-name", "plain SQL identifier"),
        ("postgresql:///test", "expected postgresql://user@host"),
    ],
)
def test_a_url_we_cannot_use_is_refused_with_the_reason(url, message):
    with pytest.raises(ProjectionUrlError, match=message):
        ProjectionDb.open(url)


def test_an_import_job_is_pending_until_the_import_ends(feed, db):
    request_id = "req-77e1-import"  # the golden ImportFinished's request
    job = event(RUN_IMPORT, id=derived_id(request_id, "run-import"), tenant="acme-co")
    feed(job)
    assert reader(db).health("acme-co").pending_commands.count == 1
    feed(event(FINISHED, tenant="acme-co"))
    assert reader(db).health("acme-co").pending_commands.count == 0
