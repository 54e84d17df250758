"""Contract cases: the Kafka position of an input is recorded with its changes (ADR 0003)."""

from __future__ import annotations

import pytest

from store import ConcurrentWriteError
from store import installation as inst
from tests.store.helpers import (
    ADMIN,
    CLUSTER,
    INPUT_TOPIC,
    REALM,
    TENANT,
    at,
    installed,
)
from tests.store.installation_cases import CUSTOM


class TrackingCases:
    def test_a_redelivered_position_changes_nothing(self, store):
        installation = installed(store, connected=False)
        assert store.record(inst.connect(installation, ADMIN, REALM), position=at(5))
        before = store.installation(TENANT)
        redelivered = inst.save_settings(before, ADMIN, CUSTOM)
        assert store.record(redelivered, position=at(5)) is False
        assert store.record(redelivered, position=at(4)) is False
        assert store.installation(TENANT) == before
        assert store.record(redelivered, position=at(6)) is True
        assert store.installation(TENANT).settings == CUSTOM

    def test_positions_are_tracked_per_topic_and_partition_from_offset_zero(self, store):
        assert not store.already_processed(at(0, partition=0, topic=INPUT_TOPIC))
        assert store.record(position=at(0))
        assert store.already_processed(at(0, partition=0, topic=INPUT_TOPIC))
        assert not store.already_processed(at(0, partition=1, topic=INPUT_TOPIC))
        assert not store.already_processed(at(0, partition=0, topic="qbsync.outcome"))
        assert store.record(position=at(3, partition=1))
        assert store.record(position=at(2, topic="qbsync.outcome"))
        assert store.processed_offset(CLUSTER, INPUT_TOPIC, 1) == 3
        assert store.processed_offset(CLUSTER, "qbsync.outcome", 0) == 2
        assert store.processed_offset(CLUSTER, "qbsync.outcome", 7) is None

    def test_the_same_offsets_in_a_new_log_are_new_inputs(self, store):
        # An embedded in-memory broker restarts its log at offset 0 under a new cluster id.
        assert store.record(position=at(5))
        assert store.already_processed(at(5))
        assert not store.already_processed(at(5, cluster="restarted-broker"))
        assert store.record(position=at(0, cluster="restarted-broker"))
        assert store.processed_offset("restarted-broker", INPUT_TOPIC, 0) == 0
        assert store.processed_offset(CLUSTER, INPUT_TOPIC, 0) == 5

    def test_a_position_without_a_cluster_id_is_refused(self, store):
        with pytest.raises(ValueError, match="cluster id"):
            store.record(position=at(1, cluster=""))

    def test_a_redelivery_that_races_past_the_check_is_refused_by_the_transaction(
        self, store, monkeypatch
    ):
        installation = installed(store, connected=False)
        store.record(inst.connect(installation, ADMIN, REALM), position=at(8))
        before = store.installation(TENANT)
        stale_answers = [False]  # as if another worker recorded offset 8 just after our check
        real = store.already_processed
        monkeypatch.setattr(
            store,
            "already_processed",
            lambda *p: stale_answers.pop() if stale_answers else real(*p),
        )
        assert store.record(inst.enable(before, ADMIN), position=at(8)) is False
        assert store.installation(TENANT) == before

    def test_changes_and_their_position_are_one_transaction(self, store, open_):
        other = open_()
        installation = installed(store)
        other.record(inst.enable(installation, ADMIN))  # changes it after we loaded it
        with pytest.raises(ConcurrentWriteError):
            store.record(inst.save_settings(installation, ADMIN, CUSTOM), position=at(11))
        assert not store.already_processed(
            at(11, partition=0, topic=INPUT_TOPIC)
        )  # so a retry is not skipped
        assert store.record(
            inst.save_settings(store.installation(TENANT), ADMIN, CUSTOM), position=at(11)
        )
        assert store.installation(TENANT).enabled and store.already_processed(
            at(11, partition=0, topic=INPUT_TOPIC)
        )
