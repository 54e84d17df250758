"""No secret in a log line: by key, inside text, registered values, and in library (stdlib) logs."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from qbsync import logs


@pytest.fixture
def captured(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    logs.configure_logging("DEBUG", "json")
    yield stream
    logging.getLogger().handlers.clear()


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_log_lines_are_json_when_not_on_a_terminal(captured):
    logs.get_logger("t").info("hello", tenant="acme-co")
    (line,) = _lines(captured)
    assert line["event"] == "hello"
    assert line["tenant"] == "acme-co"
    assert line["level"] == "info"


def test_secret_keys_are_redacted_at_any_depth(captured):
    logs.get_logger("t").info(
        "token_refreshed",
        access_token="eyJhbGciOi.secret.value",
        nested={"refresh_token": "RT-123456789", "realm": "9130"},
        webhook_verifier="verifier-abcdef",
        api_key="crm-key-abcdef",
    )
    text = captured.getvalue()
    for secret in ("eyJhbGciOi.secret.value", "RT-123456789", "verifier-abcdef", "crm-key-abcdef"):
        assert secret not in text
    (line,) = _lines(captured)
    assert line["nested"]["realm"] == "9130"
    assert line["access_token"] == logs.REDACTED


def test_secrets_inside_free_text_and_urls_are_redacted(captured):
    logs.get_logger("t").warning(
        "request failed",
        url="https://api.pipelinecrm.com/api/v3/people.json?api_key=K0123456&app_key=A9876543&page=2",
        header="Authorization: Bearer abcdefghijklmnopqrstuvwxyz",
    )
    text = captured.getvalue()
    assert "K0123456" not in text and "A9876543" not in text
    assert "abcdefghijklmnopqrstuvwxyz" not in text
    assert "page=2" in text


def test_a_registered_secret_value_is_redacted_wherever_it_appears(captured):
    logs.register_secret("rotated-refresh-token-value-42")
    logs.get_logger("t").info("something", detail="got rotated-refresh-token-value-42 from QBO")
    assert "rotated-refresh-token-value-42" not in captured.getvalue()


def test_stdlib_library_logs_are_redacted_too(captured):
    logging.getLogger("aiokafka.conn").error(
        "POST %s failed", "https://oauth.example/tokens?code=AUTHCODE999&state=x"
    )
    (line,) = _lines(captured)
    assert "AUTHCODE999" not in json.dumps(line)
    assert line["logger"] == "aiokafka.conn"
