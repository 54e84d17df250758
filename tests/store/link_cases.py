"""Contract cases: customer links (SYNC-RULES 1, 4.6, 5) and the index by customer.

A link's events are the engine's link decisions; the store folds them with engine.link_state.
"""

from __future__ import annotations

import pytest

from schemas.decisions import AgreedValue, ConflictNote
from store import ConcurrentWriteError, CustomerAlreadyLinked, InvalidTransition
from store.customer_link import LinkEnded, mutate_link, record_link_decision
from tests.store.helpers import REALM, TENANT, at, crm_person, linked, qbo_customer
from tests.unit.engine.link_decisions import ended, inactive, moved, observed, synced

CONFLICT = ConflictNote(
    rule="concurrent_change",
    crm_field="phone",
    qbo_field="PrimaryPhone.FreeFormNumber",
    crm_value="555-1234",
    qbo_value="555-9999",
    kept="qbo",
)


def _record(store, decision, tenant=TENANT, person_id=101, **kwargs):
    return store.record(record_link_decision(store.link(tenant, person_id), decision), **kwargs)


class LinkCases:
    def test_a_link_is_found_by_person_and_by_customer(self, store):
        link = linked(store, person_id=101, customer_id="58")
        state = link.state
        assert (state.customer_id, state.realm_id, state.via, state.status) == (
            "58",
            REALM,
            "import",
            "active",
        )
        assert state.crm == crm_person(101, phone="555-1234")
        assert (state.qbo, state.qbo_sync_token) == (qbo_customer("58"), "0")
        assert state.first_import_done
        assert store.link_for_customer(TENANT, "58") == link
        assert store.link_for_customer("other-tenant", "58") is None
        assert store.link(TENANT, 102) is None

    def test_a_sync_replaces_both_snapshots_and_merges_agreed_values_and_conflicts(self, store):
        linked(store)
        crm = crm_person(101, first_name="Jane", phone=None)
        qbo = qbo_customer("58", "3", GivenName="Jane")
        agreed = {"first_name": AgreedValue(value="Jane", side="qbo", pending="cmd-1")}
        _record(
            store,
            synced("crm", crm=crm, qbo=qbo, sync_token="3", agreed=agreed, conflicts=(CONFLICT,)),
        )
        state = store.link(TENANT, 101).state
        assert (state.crm, state.qbo, state.qbo_sync_token) == (crm, qbo, "3")
        assert state.agreed == agreed
        assert (state.conflicts, state.last_written) == ((CONFLICT,), "crm")

    def test_an_outcome_observed_confirms_the_pending_write_and_keeps_the_newest_token(self, store):
        linked(store)
        agreed = {"phone": AgreedValue(value="555-0000", side="crm", pending="cmd-9")}
        _record(
            store,
            synced(
                "qbo",
                crm=crm_person(101),
                qbo=qbo_customer("58"),
                sync_token="0",
                agreed=agreed,
                command_id="cmd-9",
            ),
        )
        _record(store, observed("qbo", qbo_customer("58", "1"), version="1", confirms="cmd-9"))
        state = store.link(TENANT, 101).state
        assert state.agreed["phone"].pending is None
        assert (state.qbo_sync_token, state.qbo["SyncToken"]) == ("1", "1")

    def test_an_inactive_qbo_customer_marks_the_link_inactive(self, store):
        linked(store)
        _record(store, inactive())
        link = store.link(TENANT, 101)
        assert link.status == "inactive"
        assert store.link_for_customer(TENANT, "58") == link

    def test_a_qbo_merge_moves_the_link_to_the_surviving_customer(self, store):
        linked(store, customer_id="58")
        survivor = qbo_customer("60", "4")
        _record(store, moved("60", qbo=survivor, sync_token="4"))
        link = store.link(TENANT, 101)
        assert (link.customer_id, link.status, link.state.former_customer_ids) == (
            "60",
            "active",
            ("58",),
        )
        assert (link.state.qbo, link.state.qbo_sync_token) == (survivor, "4")
        assert store.link_for_customer(TENANT, "60") == link
        assert store.link_for_customer(TENANT, "58") is None

    def test_a_deleted_person_ends_the_link_and_releases_the_customer(self, store):
        linked(store)
        _record(store, ended())
        assert store.link(TENANT, 101).status == "ended"
        assert store.link_for_customer(TENANT, "58") is None
        with pytest.raises(LinkEnded, match="person 101 has ended"):
            record_link_decision(store.link(TENANT, 101), inactive())
        linked(store, person_id=202, customer_id="58")  # the customer is free again
        assert store.link_for_customer(TENANT, "58").person_id == 202

    def test_an_ended_link_may_be_made_again(self, store):
        linked(store)
        _record(store, ended())
        relinked = linked(store, person_id=101, customer_id="59")
        assert (relinked.status, relinked.customer_id, relinked.version) == ("active", "59", 3)
        assert store.link_for_customer(TENANT, "59") == relinked

    def test_a_decision_for_a_person_not_linked_is_refused(self, store):
        with pytest.raises(InvalidTransition, match="not linked"):
            record_link_decision(None, inactive())

    def test_a_customer_linked_to_one_person_cannot_be_linked_to_another(self, store):
        linked(store, person_id=101, customer_id="58")
        with pytest.raises(CustomerAlreadyLinked, match="already linked to person 101"):
            linked(store, person_id=102, customer_id="58")
        assert store.link(TENANT, 102) is None
        assert store.link_for_customer(TENANT, "58").person_id == 101

    def test_the_same_customer_id_in_two_tenants_are_two_links(self, store):
        linked(store, person_id=101, customer_id="58")
        linked(store, person_id=101, customer_id="58", tenant="beta-co")
        assert store.link_for_customer("beta-co", "58").tenant == "beta-co"
        assert store.link_for_customer(TENANT, "58").tenant == TENANT

    def test_linking_a_live_link_again_is_refused(self, store):
        linked(store, person_id=101, customer_id="58")
        with pytest.raises(InvalidTransition, match="linked already"):
            linked(store, person_id=101, customer_id="59")
        assert store.link(TENANT, 101).customer_id == "58"
        assert store.link_for_customer(TENANT, "59") is None

    def test_one_input_may_change_a_link_twice_when_each_event_comes_from_the_folded_state(
        self, store
    ):
        link = linked(store)
        first = record_link_decision(link, observed("crm", crm_person(101, phone="1")))
        second = record_link_decision(mutate_link(first, link), inactive())
        assert store.record(first, second, position=at(3))
        link = store.link(TENANT, 101)
        assert (link.version, link.state.crm["phone"], link.status) == (3, "1", "inactive")
        with pytest.raises(ValueError, match="two events claim version 4"):
            store.record(
                record_link_decision(link, inactive()), record_link_decision(link, ended())
            )

    def test_two_writers_of_one_link_conflict(self, store):
        link = linked(store)
        stale = record_link_decision(link, inactive())
        _record(store, observed("crm", crm_person(101, phone="2")))
        with pytest.raises(ConcurrentWriteError):
            store.record(stale)
