"""Wiring from QBSYNC_* settings, and hygiene: the api_key and app_key ride in every URL, yet
no log line, error message or repr ever shows them."""

from __future__ import annotations

import io
import logging
import sys

import pytest
import structlog
from structlog.testing import capture_logs

from adapters.crm.connector import CrmConnector
from adapters.crm.errors import CrmError
from qbsync import logs
from qbsync.config import Settings
from tests.adapters.crm.conftest import make_client, unique

WRONG_KEY = f"wrongKey{unique()}"


def settings_for(sandbox, **overrides) -> Settings:
    return Settings(
        crm_base_url=sandbox.api_url,
        crm_api_key=sandbox.config.admin_api_key,
        crm_app_key=sandbox.config.app_key,
        **overrides,
    )


async def test_a_connector_built_from_settings_talks_to_the_crm(sandbox):
    connector = CrmConnector(settings_for(sandbox, crm_rate_per_second=7))
    try:
        client = connector.client()
        assert (await client.profile()).is_admin
        assert client.transport.limiter is connector.client().transport.limiter  # one per key
        assert client.transport.limiter.limits.per_second == 7
    finally:
        await connector.aclose()


def test_a_connector_without_keys_says_what_to_set():
    with pytest.raises(ValueError, match="QBSYNC_CRM_API_KEY and QBSYNC_CRM_APP_KEY"):
        CrmConnector(Settings(crm_api_key=None, crm_app_key=None))


async def exercise(client, sandbox) -> list[str]:
    """Successes, a retried 5xx, a 404 and a 401: every path that logs or raises."""
    texts = []
    await client.profile()
    sandbox.set_faults(script=["http_503"])
    await client.get_person(1)
    bad = make_client(sandbox, client.transport._http, api_key=WRONG_KEY)
    for failing in (bad.profile(), client.update_person(1, {"phone": "1"})):
        try:
            await failing
        except CrmError as error:
            texts += [str(error), repr(error), error.message]
    return [*texts, repr(client), repr(client.transport)]


async def test_no_log_line_error_or_repr_ever_contains_the_keys(sandbox, http):
    client = make_client(sandbox, http)
    with capture_logs() as events:  # our own events, before any redaction
        texts = await exercise(client, sandbox)
    assert any(e["event"] == "crm call failed; retrying" for e in events)
    everything = repr(events) + "\n".join(texts)
    for secret in (sandbox.config.admin_api_key, sandbox.config.app_key, WRONG_KEY):
        assert secret not in everything
    assert "api_key=" not in everything


@pytest.fixture
def rendered(monkeypatch):
    """Logging as `qbsync` configures it (JSON lines, library loggers included), captured."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    saved, level = structlog.get_config(), logging.getLogger().level
    logs.configure_logging("DEBUG", "json")
    structlog.configure(cache_logger_on_first_use=False)  # let later capture_logs() work
    yield stream
    logging.getLogger().handlers.clear()
    logging.getLogger().setLevel(level)
    structlog.configure(**saved)


async def test_httpx_logging_the_full_url_still_shows_no_key(sandbox, http, rendered):
    await exercise(make_client(sandbox, http), sandbox)
    text = rendered.getvalue()
    assert "HTTP Request: GET" in text  # httpx logged every URL, query string and all
    for secret in (sandbox.config.admin_api_key, sandbox.config.app_key, WRONG_KEY):
        assert secret not in text
