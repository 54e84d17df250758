"""CRM changes reach Kafka from the real CRM sandbox, through `qbsync api`, on a real broker.

One CRM change, seen once through the webhook bridge and once through the poller (two api
processes' worth of parts), gives two records on the topic with the same id, subject and `after`;
a hard delete with no webhook is found by the poller's sweep.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from adapters.http_api import build_api
from qbsync.config import Settings
from sandbox.crm.config import CrmSandboxConfig
from sandbox.crm.server import create_app
from tests.support.kafka import collect
from tests.support.servers import serving

pytestmark = pytest.mark.broker
TOPIC = "qbsync.crm.changes.v1"
TOKEN = "crm-hook-token-1234"


@pytest.fixture(scope="module")
def crm() -> Iterator[tuple[str, CrmSandboxConfig]]:
    config = CrmSandboxConfig(rate_limit_per_second=1000, webhook_delay_s=0.05)
    with serving(create_app(config)) as base:
        yield base, config


def _settings(crm_base: str, config: CrmSandboxConfig, tenant: str, tmp, **parts) -> Settings:
    return Settings(
        data_dir=tmp,
        crm_base_url=f"{crm_base}/api/v3",
        crm_api_key=config.admin_api_key,
        crm_app_key=config.app_key,
        crm_tenant=tenant,
        crm_rate_per_second=500,
        **parts,
    )


def _crm(
    crm_base: str, config: CrmSandboxConfig, method: str, path: str, **kwargs
) -> httpx.Response:
    params = {"api_key": config.admin_api_key, "app_key": config.app_key}
    response = httpx.request(method, f"{crm_base}/api/v3/{path}", params=params, **kwargs)
    response.raise_for_status()
    return response


async def test_webhook_and_poller_give_equivalent_events_and_the_sweep_finds_a_hard_delete(
    crm, kafka_bootstrap, tmp_path_factory
):
    crm_base, config = crm
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    hooks = _settings(
        crm_base,
        config,
        tenant,
        tmp_path_factory.mktemp("hooks"),
        crm_webhook_tokens=f"{tenant}={TOKEN}",
    )
    poller = _settings(
        crm_base,
        config,
        tenant,
        tmp_path_factory.mktemp("poller"),
        crm_poll_interval_s=0.3,
        crm_sweep_every=1,
    )
    with (
        serving(build_api(hooks, kafka_bootstrap)) as hooks_url,
        serving(build_api(poller, kafka_bootstrap)),
    ):
        for action in ("create", "update"):  # no destroy webhook: deletes must come from the sweep
            _crm(
                crm_base,
                config,
                "POST",
                "admin/webhooks.json",
                json={
                    "webhook": {
                        "event_model": "person",
                        "event_action": action,
                        "url": f"{hooks_url}/v1/crm/webhooks/{tenant}?token={TOKEN}",
                        "failure_email": "ops@x",
                    }
                },
            )
        person = _crm(
            crm_base,
            config,
            "POST",
            "people.json",
            json={"person": {"full_name": f"Grace {uuid.uuid4().hex[:6]}", "phone": "555-0101"}},
        ).json()
        updated = _crm(
            crm_base,
            config,
            "PUT",
            f"people/{person['id']}.json",
            json={"person": {"phone": "555-0202"}},
        ).json()
        subject = f"crm/person/{person['id']}"

        def versions(records):
            return [
                r
                for (_t, key, r) in records
                if key == tenant.encode()
                and r["subject"] == subject
                and r["type"] == "qbsync.crm.person.changed.v1"
                and r["data"]["after"]["phone"] == "555-0202"
            ]

        records = await collect(
            kafka_bootstrap, [TOPIC], lambda rs: len(versions(rs)) >= 2, timeout=60
        )
        by_webhook, by_poller = versions(records)[:2]
        assert by_webhook["id"] == by_poller["id"]
        assert by_webhook["subject"] == by_poller["subject"]
        assert by_webhook["data"]["after"] == by_poller["data"]["after"]
        assert (
            by_webhook["data"]["after"]["updated_at"] is not None and updated["phone"] == "555-0202"
        )

        _crm(crm_base, config, "DELETE", f"people/{person['id']}.json")

        def deletions(records):
            return [
                r
                for (_t, key, r) in records
                if key == tenant.encode()
                and r["subject"] == subject
                and r["type"] == "qbsync.crm.person.deleted.v1"
            ]

        records = await collect(
            kafka_bootstrap, [TOPIC], lambda rs: bool(deletions(rs)), timeout=60
        )
        assert deletions(records)[0]["data"]["detected_by"] == "poll_sweep"
