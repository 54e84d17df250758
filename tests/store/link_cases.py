"""Contract cases: customer links (SYNC-RULES 1, 4.6, 5) and the index by customer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas.settings import FieldPair
from store import ConcurrentWriteError, CustomerAlreadyLinked, InvalidTransition
from store import link_commands as links
from store.customer_link import FieldConflict, Written, mutate_link
from store.link_commands import LinkEnded
from tests.store.helpers import REALM, TENANT, at, crm_person, linked, qbo_customer

PHONE = FieldPair(crm="phone", qbo="PrimaryPhone.FreeFormNumber")


def _conflict(kept: str = "crm") -> FieldConflict:
    return FieldConflict(
        pair=PHONE,
        crm_value="555-1234",
        qbo_value="555-9999",
        kept=kept,
        crm_changed_at=datetime(2026, 11, 20, 10, tzinfo=UTC),
        qbo_changed_at=datetime(2026, 11, 20, 11, tzinfo=UTC),
    )


class LinkCases:
    def test_a_link_is_found_by_person_and_by_customer(self, store):
        link = linked(store, person_id=101, customer_id="58")
        assert (link.customer_id, link.realm_id, link.via, link.status) == (
            "58",
            REALM,
            "import",
            "active",
        )
        assert link.crm == crm_person(101, phone="555-1234")
        assert (link.qbo, link.qbo_sync_token) == (qbo_customer("58"), "0")
        assert store.link_for_customer(TENANT, "58") == link
        assert store.link_for_customer("other-tenant", "58") is None
        assert store.link(TENANT, 102) is None

    def test_first_import_merges_records_conflicts_and_happens_once(self, store):
        link = linked(store)
        merged = {"phone": "555-1234", "last_name": "Smith", "work_city": "Springfield"}
        store.record(links.complete_first_import(link, merged, (_conflict(),)))
        link = store.link(TENANT, 101)
        assert link.first_import_done and link.conflicts == (_conflict(),)
        assert link.crm["work_city"] == "Springfield"
        assert link.written_to_crm == Written(values=merged)
        with pytest.raises(InvalidTransition, match="first import already"):
            links.complete_first_import(link, merged)

    def test_a_qbo_change_overwrites_and_clears_crm_fields_and_is_remembered(self, store):
        link = linked(store)
        renamed = qbo_customer("58", "3", GivenName="Jane")
        store.record(
            links.sync_from_qbo(
                link,
                crm_values={"first_name": "Jane", "custom_fields.custom_label_12": "x"},
                cleared=("phone",),
                qbo_sync_token="3",
                qbo=renamed,
                crm_version="2026/11/25 10:00:00 +0000",
            )
        )
        link = store.link(TENANT, 101)
        assert (link.crm["first_name"], link.crm["phone"]) == ("Jane", None)
        assert link.crm["custom_fields"] == {"custom_label_12": "x"}
        assert (link.qbo, link.qbo_sync_token) == (renamed, "3")
        assert link.written_to_crm.values == {
            "first_name": "Jane",
            "custom_fields.custom_label_12": "x",
            "phone": None,
        }
        assert link.written_to_crm.version == "2026/11/25 10:00:00 +0000"

    def test_a_crm_change_written_to_qbo_remembers_the_new_sync_token(self, store):
        link = linked(store)
        written = {"PrimaryPhone.FreeFormNumber": "555-0000", "BillAddr.City": "Shelbyville"}
        store.record(links.sync_from_crm(link, qbo_values=written, qbo_sync_token="1"))
        link = store.link(TENANT, 101)
        assert link.written_to_qbo == Written(values=written, version="1")
        assert link.qbo["PrimaryPhone"] == {"FreeFormNumber": "555-0000"}
        assert (link.qbo["BillAddr"], link.qbo_sync_token) == ({"City": "Shelbyville"}, "1")

    def test_a_conflict_is_recorded_with_both_values_and_the_kept_side(self, store):
        link = linked(store)
        store.record(links.record_conflict(link, _conflict(kept="qbo")))
        assert store.link(TENANT, 101).conflicts == (_conflict(kept="qbo"),)

    def test_an_inactive_qbo_customer_marks_the_link_inactive(self, store):
        link = linked(store)
        store.record(links.mark_inactive(link))
        link = store.link(TENANT, 101)
        assert link.status == "inactive"
        assert links.mark_inactive(link) is None
        assert store.link_for_customer(TENANT, "58") == link

    def test_a_qbo_merge_moves_the_link_to_the_surviving_customer(self, store):
        link = linked(store, customer_id="58")
        store.record(links.mark_inactive(link))
        survivor = qbo_customer("60", "4")
        store.record(
            links.move_to_customer(store.link(TENANT, 101), "60", qbo=survivor, qbo_sync_token="4")
        )
        link = store.link(TENANT, 101)
        assert (link.customer_id, link.status, link.former_customer_ids) == (
            "60",
            "active",
            ("58",),
        )
        assert (link.qbo, link.qbo_sync_token) == (survivor, "4")
        assert store.link_for_customer(TENANT, "60") == link
        assert store.link_for_customer(TENANT, "58") is None
        assert links.move_to_customer(link, "60") is None

    def test_a_deleted_person_ends_the_link_and_releases_the_customer(self, store):
        link = linked(store)
        store.record(links.unlink(link, "person_deleted"))
        ended = store.link(TENANT, 101)
        assert ended.status == "ended"
        assert store.link_for_customer(TENANT, "58") is None
        assert links.unlink(ended, "person_deleted") is None
        with pytest.raises(LinkEnded, match="person 101 has ended"):
            links.sync_from_crm(ended, qbo_values={}, qbo_sync_token="1")
        linked(store, person_id=202, customer_id="58")  # the customer is free again
        assert store.link_for_customer(TENANT, "58").person_id == 202

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

    def test_linking_a_person_twice_is_a_write_conflict(self, store):
        linked(store, person_id=101, customer_id="58")
        with pytest.raises(ConcurrentWriteError):
            linked(store, person_id=101, customer_id="59")
        assert store.link(TENANT, 101).customer_id == "58"
        assert store.link_for_customer(TENANT, "59") is None

    def test_one_input_may_change_a_link_twice_when_each_event_comes_from_the_folded_state(
        self, store
    ):
        link = linked(store)
        synced = links.sync_from_qbo(link, crm_values={"phone": "555-9999"}, qbo_sync_token="1")
        conflict = links.record_conflict(mutate_link(synced, link), _conflict(kept="qbo"))
        assert store.record(synced, conflict, position=at(3))
        link = store.link(TENANT, 101)
        assert (link.version, link.crm["phone"], link.conflicts) == (
            3,
            "555-9999",
            (_conflict("qbo"),),
        )
        with pytest.raises(ValueError, match="two events claim version 4"):
            store.record(links.mark_inactive(link), links.unlink(link, "person_deleted"))
