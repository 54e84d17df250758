"""decide(): every input is accounted for, with the reason when it is ignored (SYNC-RULES 2, 5, 7).

People without a link: whatever the state, nothing but "not linked" can happen to them. The
rules for linked records (disabled, direction, echoes, conflicts) are in engine/test_decide_linked.

A table of (state, settings, event) → decision, as the functional core is meant to be tested.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.decide import decide
from engine.ids import derived_id
from engine.state import TenantState
from schemas.decisions import InputIgnored
from schemas.settings import IntegrationSettings
from tests.unit.factories import event_from_fixture, person_changed

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BOTH = IntegrationSettings(direction="both")
CRM_TO_QBO = IntegrationSettings(direction="crm_to_qbo")
QBO_TO_CRM = IntegrationSettings()


@pytest.mark.parametrize(
    ("state", "settings", "reason"),
    [
        (TenantState(), BOTH, "not_installed"),
        (TenantState(installed=True, enabled=False), BOTH, "not_linked"),
        (TenantState(installed=True, enabled=True), QBO_TO_CRM, "not_linked"),
        (TenantState(installed=True, enabled=True), BOTH, "not_linked"),
        (TenantState(installed=True, enabled=True), CRM_TO_QBO, "not_linked"),
    ],
    ids=[
        "not-installed",
        "disabled-unlinked",
        "qbo-to-crm-unlinked",
        "both-unlinked",
        "crm-to-qbo-unlinked",
    ],
)
def test_crm_person_change_is_accounted_for_with_its_reason(state, settings, reason):
    event = person_changed()
    decision = decide(state, event, settings, NOW)
    assert decision.commands == ()
    (ignored,) = decision.events
    assert isinstance(ignored, InputIgnored)
    assert ignored.data.reason == reason
    assert ignored.data.input_id == event.id
    assert ignored.data.input_type == "qbsync.crm.person.changed.v1"


def test_a_new_crm_person_never_creates_a_qbo_customer():
    state = TenantState(installed=True, enabled=True)
    decision = decide(state, person_changed(), BOTH, NOW)
    assert not any("customer.create" in c.type for c in decision.commands)


def test_decision_is_deterministic_so_a_redelivered_input_yields_the_same_decision():
    state = TenantState(installed=True, enabled=True)
    first = decide(state, person_changed(event_id="evt-42"), BOTH, NOW)
    again = decide(state, person_changed(event_id="evt-42"), BOTH, NOW)
    other = decide(state, person_changed(event_id="evt-43"), BOTH, NOW)
    assert first == again
    assert first.events[0].id == derived_id("evt-42", "decision")
    assert other.events[0].id != first.events[0].id


def test_decision_carries_tenant_subject_and_causation_of_its_input():
    event = person_changed(tenant="globex")
    (ignored,) = decide(TenantState(), event, BOTH, NOW).events
    assert ignored.tenant == "globex"
    assert ignored.subject == event.subject
    assert ignored.causationid == event.id
    assert ignored.correlationid == event.id
    assert ignored.time == NOW


def test_an_input_without_a_rule_yet_is_still_accounted_for():
    event = event_from_fixture("qbsync.qbo.item.changed.v1")
    (ignored,) = decide(TenantState(installed=True, enabled=True), event, BOTH, NOW).events
    assert ignored.data.reason == "not_handled"  # type: ignore[attr-defined]
    assert "qbsync.qbo.item.changed.v1" in ignored.data.detail  # type: ignore[attr-defined]


def test_derived_ids_differ_by_cause_and_by_action():
    assert derived_id("a", "x") == derived_id("a", "x")
    assert derived_id("a", "x") != derived_id("a", "y")
    assert derived_id("a", "x") != derived_id("b", "x")
    # the separator keeps ("ab", "c") and ("a", "bc") apart
    assert derived_id("ab", "c") != derived_id("a", "bc")
