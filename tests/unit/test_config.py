"""Configuration: QBSYNC_* variables override defaults, and the README documents every one."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from qbsync.config import Settings, env_var_table

README = Path(__file__).parents[2] / "README.md"


def test_defaults_are_the_embedded_ones(monkeypatch):
    for var, _default, _text in env_var_table():
        monkeypatch.delenv(var, raising=False)
    settings = Settings()
    assert settings.kafka_bootstrap is None
    assert settings.store_location.startswith("sqlite:///")
    assert settings.broker_session_timeout_s <= 10


def test_environment_variables_override_defaults(monkeypatch):
    monkeypatch.setenv("QBSYNC_KAFKA_BOOTSTRAP", "k1:9092,k2:9092")
    monkeypatch.setenv("QBSYNC_TOPIC_PARTITIONS", "12")
    settings = Settings()
    assert settings.kafka_bootstrap == "k1:9092,k2:9092"
    assert settings.topic_partitions == 12


def test_an_invalid_variable_is_rejected_naming_it(monkeypatch):
    monkeypatch.setenv("QBSYNC_TOPIC_PARTITIONS", "zero")
    with pytest.raises(ValidationError, match="topic_partitions"):
        Settings()


def test_readme_documents_every_variable_with_its_default():
    readme = README.read_text()
    for var, default, _text in env_var_table():
        assert f"| `{var}` | `{default}` |" in readme, f"README lacks {var} (default {default})"
