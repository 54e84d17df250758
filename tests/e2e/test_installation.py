"""SYNC-RULES 2 end to end: install, save, enable/disable; only admins; on the real broker."""

from __future__ import annotations

import pytest

from schemas.settings import IntegrationSettings
from tests.e2e import requests as req
from tests.support.stack import running_stack

pytestmark = pytest.mark.broker


async def test_rule_2_admin_lifecycle_and_a_basic_user_is_denied(tmp_path):
    with running_stack(tmp_path, ["acme-co"]) as stack:
        stack.start_worker()
        realm = stack.realms["acme-co"]
        install = req.install("acme-co", realm)
        basic_enable = req.enable("acme-co", req.BASIC)
        both = req.save_settings("acme-co", IntegrationSettings(direction="both"))
        enable = req.enable("acme-co")
        await stack.publish(install, basic_enable, both, enable)
        denied = await stack.accounted(basic_enable.id)
        assert denied["type"] == "qbsync.decision.request.denied.v1"
        assert denied["data"]["code"] == "not_allowed"
        changes = await stack.decisions(
            lambda rs: sum(r["type"].endswith("installation.changed.v1") for r in rs) >= 4
        )
        kinds = [
            r["data"]["change"] for r in changes if r["type"].endswith("installation.changed.v1")
        ]
        assert kinds == ["installed", "connected", "settings_saved", "enabled"]
        installation = stack.store.installation("acme-co")
        assert (installation.enabled, installation.realm_id) == (True, realm)
        assert installation.settings.direction == "both"


async def test_rule_3_a_mapping_naming_an_unknown_field_is_refused_when_saved(tmp_path):
    import json

    from aiokafka import AIOKafkaProducer

    with running_stack(tmp_path, ["acme-co"]) as stack:
        stack.start_worker()
        save = json.loads(req.save_settings("acme-co", IntegrationSettings()).model_dump_json())
        save["data"]["settings"]["field_mapping"].append({"crm": "shoe_size", "qbo": "Notes"})
        producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(
                "qbsync.requests.v1", json.dumps(save).encode(), key=b"acme-co"
            )
        finally:
            await producer.stop()
        [letter] = await stack.wait_for("qbsync.deadletter.v1", lambda rs: len(rs) >= 1)
        assert letter["data"]["stage"] == "parse"
        assert "shoe_size" in letter["data"]["reason"]
        assert stack.store.installation("acme-co") is None
