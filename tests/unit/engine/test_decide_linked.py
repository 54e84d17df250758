"""decide() on linked records: SYNC-RULES 2.6, 5 and 7, one test per rule, over the pure core.

A `Story` holds one link and folds every decision decide() returns into it, as the store does,
so sequences of changes (a write, its echo, a concurrent change) are decided as in production.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.decide import Decision, decide
from engine.link_state import LINK_DECISION_TYPES, LinkState, fold_link
from engine.state import TenantState
from schemas.commands import UpdateCrmPerson, UpdateQboCustomer
from schemas.crm import CrmPersonChanged, CrmPersonDeleted
from schemas.decisions import AgreedValue, InputApplied, InputIgnored, LinkSynced
from schemas.envelope import Envelope
from schemas.outcomes import CommandSucceeded
from schemas.qbo import QboCustomerChanged, QboCustomerMerged
from schemas.settings import IntegrationSettings
from tests.unit.engine.builders import BOTH, CRM_TO_QBO, QBO_TO_CRM

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
JOHN_CRM = {
    "id": 4211,
    "first_name": "John",
    "last_name": "Smith",
    "full_name": "John Smith",
    "email": "john.smith@example.com",
    "phone": "555-1234",
    "website": "https://smith.example",
    "work_address_1": "1 Main St",
    "work_city": "Springfield",
}
JOHN_QBO = {
    "Id": "58",
    "SyncToken": "0",
    "DisplayName": "John Smith",
    "GivenName": "John",
    "FamilyName": "Smith",
    "PrimaryEmailAddr": {"Address": "john.smith@example.com"},
    "PrimaryPhone": {"FreeFormNumber": "555-1234"},
    "WebAddr": {"URI": "https://smith.example"},
    "BillAddr": {"Line1": "1 Main St", "City": "Springfield"},
    "MetaData": {"LastUpdatedTime": T0.isoformat()},
}


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _agreed(settings: IntegrationSettings) -> dict[str, AgreedValue]:
    from engine.fields import crm_value

    return {
        pair.crm: AgreedValue(value=crm_value(JOHN_CRM, pair.crm), at=T0, side="import")
        for pair in settings.field_mapping
    }


def _qbo(**changes: Any) -> dict[str, Any]:
    from engine.snapshots import with_values

    return with_values(JOHN_QBO, changes)


class Story:
    """One tenant with one link (John Smith, both sides equal after the import)."""

    def __init__(self, settings: IntegrationSettings, *, enabled: bool = True) -> None:
        self.settings = settings
        self.enabled = enabled
        self.link: LinkState | None = LinkState(
            tenant="acme-co",
            person_id=4211,
            customer_id="58",
            realm_id="9130357",
            via="import",
            crm=dict(JOHN_CRM),
            qbo=dict(JOHN_QBO),
            qbo_sync_token="0",
            crm_changed_at=T0,
            qbo_changed_at=T0,
            agreed=_agreed(settings),
            first_import_done=True,
            last_input_id="import-1",
            updated_at=T0,
        )
        self.inputs = 0

    def decide(self, event: Envelope) -> Decision:
        state = TenantState(
            installed=True,
            enabled=self.enabled,
            settings=self.settings,
            realm_id="9130357",
            link=self.link,
        )
        decision = decide(state, event, self.settings, NOW)
        for output in decision.events:
            if isinstance(output, LINK_DECISION_TYPES):
                self.link = fold_link(self.link, output)
        return decision

    def _envelope(self, cls: type[Envelope], data: dict[str, Any], when: datetime) -> Envelope:
        self.inputs += 1
        return cls.model_validate(
            {
                "id": f"input-{self.inputs}",
                "source": "/test",
                "time": when,
                "tenant": "acme-co",
                "data": data,
            }
        )

    def crm_change(self, when: datetime, **fields: Any) -> Decision:
        after = {**(self.link.crm if self.link else JOHN_CRM), **fields}
        return self.decide(
            self._envelope(
                CrmPersonChanged,
                {"op": "updated", "after": after, "updated_at": when.isoformat()},
                when,
            )
        )

    def qbo_change(self, when: datetime, token: str, **paths: Any) -> Decision:
        entity = _qbo(**paths) if self.link is None else {**self.link.qbo}
        from engine.snapshots import with_values

        entity = with_values(entity, paths)
        entity["SyncToken"] = token
        entity["MetaData"] = {"LastUpdatedTime": when.isoformat()}
        return self.decide(
            self._envelope(
                QboCustomerChanged,
                {"realm_id": "9130357", "op": "updated", "entity": entity},
                when,
            )
        )

    def succeeded(self, command: Envelope, result: dict[str, Any]) -> Decision:
        return self.decide(
            self._envelope(
                CommandSucceeded,
                {
                    "command_id": command.id,
                    "command_type": command.type,
                    "attempts": 1,
                    "result": result,
                },
                NOW,
            )
        )


def only(decision: Decision, cls: type[Envelope]) -> Envelope:
    [found] = [c for c in decision.commands if isinstance(c, cls)]
    return found


def ignored(decision: Decision) -> InputIgnored:
    [found] = [e for e in decision.events if isinstance(e, InputIgnored)]
    return found


# --- SYNC-RULES 5: QBO → CRM -------------------------------------------------------------------


def test_rule_5_qbo_change_overwrites_every_mapped_crm_field_and_clears_the_empty_ones():
    story = Story(QBO_TO_CRM)
    decision = story.qbo_change(
        at(5),
        "1",
        GivenName="Jane",
        DisplayName="Jane Smith",
        PrimaryPhone=None,
        WebAddr=None,
        BillAddr=None,
    )
    update = only(decision, UpdateCrmPerson)
    assert update.data.person_id == 4211
    assert update.data.fields == {
        "first_name": "Jane",
        "phone": None,
        "website": None,
        "work_address_1": None,
        "work_city": None,
    }
    [synced] = [e for e in decision.events if isinstance(e, LinkSynced)]
    cleared = {c.field: c.before for c in synced.data.changes if c.after is None}
    assert cleared == {
        "phone": "555-1234",
        "website": "https://smith.example",
        "work_address_1": "1 Main St",
        "work_city": "Springfield",
    }
    [applied] = [e for e in decision.events if isinstance(e, InputApplied)]
    assert applied.data.command_ids == (update.id,)


def test_rule_5_with_qbo_to_crm_a_crm_change_is_recorded_but_not_sent_to_qbo():
    story = Story(QBO_TO_CRM)
    decision = story.crm_change(at(5), phone="555-0000")
    assert decision.commands == ()
    assert ignored(decision).data.reason == "direction"
    assert story.link.crm["phone"] == "555-0000"  # observed: the link knows the CRM's value


def test_rule_5_crm_change_is_a_sparse_qbo_update_with_the_current_sync_token():
    story = Story(CRM_TO_QBO)
    story.qbo_change(at(1), "3")  # QBO moved on (an unmapped change): the token is now 3
    decision = story.crm_change(at(5), phone="555-0000", website=None)
    update = only(decision, UpdateQboCustomer)
    assert update.data.fields == {"PrimaryPhone.FreeFormNumber": "555-0000", "WebAddr.URI": None}
    assert update.data.sync_token == "3"
    assert update.data.base == {
        "PrimaryPhone.FreeFormNumber": "555-1234",
        "WebAddr.URI": "https://smith.example",
    }


def test_rule_5_display_name_is_never_emptied_in_qbo():
    story = Story(CRM_TO_QBO)
    decision = story.crm_change(at(5), full_name=None, first_name=None, last_name=None)
    update = only(decision, UpdateQboCustomer)
    assert "DisplayName" not in update.data.fields
    assert update.data.fields["GivenName"] is None


def test_rule_5_with_crm_to_qbo_a_qbo_change_is_recorded_but_not_sent_to_the_crm():
    story = Story(CRM_TO_QBO)
    decision = story.qbo_change(at(5), "1", GivenName="Jane")
    assert decision.commands == ()
    assert ignored(decision).data.reason == "direction"


# --- echoes -----------------------------------------------------------------------------------


def test_rule_5_echo_the_crm_record_coming_back_after_our_write_is_not_sent_back():
    story = Story(BOTH)
    decision = story.qbo_change(at(5), "1", PrimaryPhone={"FreeFormNumber": "555-9999"})
    update = only(decision, UpdateCrmPerson)
    echo = story.crm_change(at(6), phone="555-9999")
    assert echo.commands == ()
    assert ignored(echo).data.reason == "echo"
    assert update.data.fields == {"phone": "555-9999"}


def test_rule_5_echo_the_qbo_record_after_our_write_is_not_sent_back():
    story = Story(BOTH)
    update = only(story.crm_change(at(5), phone="555-0000"), UpdateQboCustomer)
    customer = _qbo(**{"PrimaryPhone.FreeFormNumber": "555-0000"}, SyncToken="1")
    story.succeeded(update, {"customer": customer, "applied": update.data.fields})
    assert story.link.agreed["phone"].pending is None  # confirmed by the outcome
    echo = story.qbo_change(at(6), "1", **{"PrimaryPhone.FreeFormNumber": "555-0000"})
    assert echo.commands == ()
    assert ignored(echo).data.reason == "echo"


def test_rule_5_echo_of_a_superseded_write_puts_the_agreed_value_back():
    story = Story(BOTH)
    decision = story.qbo_change(at(5), "1", **{"PrimaryPhone.FreeFormNumber": "555-1111"})
    write = only(decision, UpdateCrmPerson)  # to the CRM: 1111
    story.crm_change(at(7), phone="555-2222")  # a user edit, later: agreed 2222, to QBO
    # Our earlier write of 1111 lands in the CRM after the user's edit (its outcome says so)...
    landed = {**story.link.crm, "phone": "555-1111", "updated_at": at(8).isoformat()}
    story.succeeded(write, {"person": landed})
    # ...and the CRM reports that version of the record:
    decision = story.crm_change(at(8), phone="555-1111")
    assert only(decision, UpdateCrmPerson).data.fields == {"phone": "555-2222"}
    assert [c for c in decision.commands if isinstance(c, UpdateQboCustomer)] == []


def test_rule_5_a_person_setting_a_field_back_to_an_old_value_is_a_change_not_an_echo():
    story = Story(BOTH)
    write = only(
        story.qbo_change(at(5), "1", **{"PrimaryPhone.FreeFormNumber": "555-1111"}),
        UpdateCrmPerson,
    )
    landed = {**story.link.crm, "phone": "555-1111", "updated_at": at(6).isoformat()}
    story.succeeded(write, {"person": landed})
    story.crm_change(at(7), phone="555-2222")
    decision = story.crm_change(at(9), phone="555-1111")  # the person puts the old number back
    update = only(decision, UpdateQboCustomer)
    assert update.data.fields == {"PrimaryPhone.FreeFormNumber": "555-1111"}
    assert [c for c in decision.commands if isinstance(c, UpdateCrmPerson)] == []


# --- both: latest change wins, conflicts recorded -------------------------------------------


def test_rule_5_both_the_later_change_wins_and_the_older_one_is_a_recorded_conflict():
    story = Story(BOTH)
    story.qbo_change(at(9), "1", **{"PrimaryPhone.FreeFormNumber": "555-QBO"})
    late_news = story.crm_change(at(5), phone="555-CRM")  # made earlier, arrives later
    assert [c for c in late_news.commands if isinstance(c, UpdateQboCustomer)] == []
    [conflict] = story.link.conflicts
    assert (conflict.kept, conflict.crm_value, conflict.qbo_value) == ("qbo", "555-CRM", "555-QBO")


def test_rule_5_both_an_older_qbo_change_loses_and_qbo_is_told_the_crm_value_again():
    story = Story(BOTH)
    story.crm_change(at(9), phone="555-CRM")
    decision = story.qbo_change(at(5), "1", **{"PrimaryPhone.FreeFormNumber": "555-QBO"})
    update = only(decision, UpdateQboCustomer)
    assert update.data.fields == {"PrimaryPhone.FreeFormNumber": "555-CRM"}
    assert update.data.base == {"PrimaryPhone.FreeFormNumber": "555-QBO"}
    assert update.data.sync_token == "1"
    assert story.link.conflicts[-1].kept == "crm"


def test_rule_5_both_ties_go_to_qbo():
    story = Story(BOTH)
    story.crm_change(at(5), phone="555-CRM")
    decision = story.qbo_change(at(5), "1", **{"PrimaryPhone.FreeFormNumber": "555-QBO"})
    assert only(decision, UpdateCrmPerson).data.fields == {"phone": "555-QBO"}
    [conflict] = story.link.conflicts  # the CRM value was still being written: it lost
    assert (conflict.kept, conflict.crm_value) == ("qbo", "555-CRM")


def test_rule_5_both_a_change_of_another_field_does_not_undo_a_one_sided_change():
    story = Story(BOTH)
    story.crm_change(at(5), phone="555-CRM")
    decision = story.qbo_change(at(9), "1", **{"BillAddr.City": "Shelbyville"})
    assert only(decision, UpdateCrmPerson).data.fields == {"work_city": "Shelbyville"}
    assert story.link.agreed["phone"].value == "555-CRM"


# --- not linked, disabled, stale, lifecycle ---------------------------------------------------


def test_rule_5_not_linked_a_new_crm_person_creates_nothing_in_qbo():
    story = Story(BOTH)
    story.link = None
    decision = story.crm_change(at(5), phone="555-0000")
    assert decision.commands == ()
    assert ignored(decision).data.reason == "not_linked"


def test_rule_5_not_linked_a_new_qbo_customer_does_not_appear_in_the_crm():
    story = Story(BOTH)
    story.link = None
    decision = story.qbo_change(at(5), "0")
    assert decision.commands == ()
    assert ignored(decision).data.reason == "not_linked"


def test_rule_2_6_while_disabled_changes_are_recorded_but_no_command_is_issued():
    story = Story(QBO_TO_CRM, enabled=False)
    decision = story.qbo_change(at(5), "1", GivenName="Jane")
    assert decision.commands == ()
    assert ignored(decision).data.reason == "disabled"
    assert story.link.qbo["GivenName"] == "Jane"


def test_rule_7_an_older_qbo_version_is_ignored_as_stale():
    story = Story(QBO_TO_CRM)
    story.qbo_change(at(5), "4", GivenName="Jane")
    decision = story.qbo_change(at(4), "3", GivenName="Joan")
    assert decision.commands == ()
    assert ignored(decision).data.reason == "stale"


def test_rule_5_a_deleted_crm_person_ends_the_link_and_leaves_the_customer_alone():
    story = Story(BOTH)
    deleted = CrmPersonDeleted.model_validate(
        {
            "id": "del-1",
            "source": "/test",
            "time": NOW,
            "tenant": "acme-co",
            "data": {"id": 4211, "deleted_at": NOW.isoformat()},
        }
    )
    decision = story.decide(deleted)
    assert decision.commands == ()
    assert story.link.status == "ended"
    assert ignored(story.crm_change(at(9), phone="1")).data.reason == "link_ended"


def test_rule_5_an_inactive_qbo_customer_marks_the_link_inactive():
    story = Story(QBO_TO_CRM)
    decision = story.qbo_change(at(5), "1", Active=False)
    assert decision.commands == ()
    assert story.link.status == "inactive"


def test_rule_5_a_qbo_merge_moves_the_link_to_the_surviving_customer():
    story = Story(QBO_TO_CRM)
    merged = QboCustomerMerged.model_validate(
        {
            "id": "merge-1",
            "source": "/test",
            "time": NOW,
            "tenant": "acme-co",
            "data": {
                "realm_id": "9130357",
                "merged_id": "58",
                "surviving_id": "60",
                "merged_at": NOW.isoformat(),
            },
        }
    )
    story.decide(merged)
    assert (story.link.customer_id, story.link.former_customer_ids) == ("60", ("58",))


def test_rule_7_a_redelivered_input_gets_the_same_decision_and_command_ids():
    first, second = Story(QBO_TO_CRM), Story(QBO_TO_CRM)
    a = first.qbo_change(at(5), "1", GivenName="Jane")
    b = second.qbo_change(at(5), "1", GivenName="Jane")
    assert [e.id for e in a.events] == [e.id for e in b.events]
    assert [c.id for c in a.commands] == [c.id for c in b.commands]


@pytest.mark.parametrize("settings", [QBO_TO_CRM, CRM_TO_QBO, BOTH], ids=lambda s: s.direction)
def test_rule_7_every_input_is_accounted_for_once(settings):
    story = Story(settings)
    for decision in (
        story.crm_change(at(5), phone="1"),
        story.qbo_change(at(6), "1", GivenName="Jane"),
    ):
        accounted = [e for e in decision.events if isinstance(e, InputApplied | InputIgnored)]
        assert len(accounted) == 1
