"""docker-compose.kafka.yml: valid for Debian's docker-compose v1, 3 KRaft brokers, engine wired."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.kafka.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return data


def _kafka_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: svc
        for name, svc in compose["services"].items()
        if str(svc.get("image", "")).startswith("apache/kafka:")
    }


def test_docker_compose_v1_accepts_the_file() -> None:
    exe = shutil.which("docker-compose")
    if exe is None:
        message = (
            "docker-compose is not on PATH: run `make tools` (apt-get install docker-compose) "
            "to validate docker-compose.kafka.yml"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [exe, "-f", str(COMPOSE_FILE), "config", "-q"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr or result.stdout


def test_three_kafka_brokers_in_kraft_mode(compose: dict[str, Any]) -> None:
    kafka = _kafka_services(compose)
    assert len(kafka) == 3, sorted(kafka)
    node_ids = set()
    for name, svc in kafka.items():
        env = svc["environment"]
        assert "broker" in env["KAFKA_PROCESS_ROLES"].split(","), name
        assert "KAFKA_ZOOKEEPER_CONNECT" not in env, name
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].count("@") == 3, name
        assert env["CLUSTER_ID"], name
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3", name
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2", name
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3", name
        node_ids.add(env["KAFKA_NODE_ID"])
    assert len(node_ids) == 3
    assert len({svc["environment"]["CLUSTER_ID"] for svc in kafka.values()}) == 1


def test_engine_bootstrap_names_all_three_brokers(compose: dict[str, Any]) -> None:
    engine = compose["services"]["engine"]
    assert engine["build"] == "."
    assert engine["command"] == ["qbsync", "worker"]
    env = engine["environment"]
    hosts = {entry.split(":")[0] for entry in env["QBSYNC_KAFKA_BOOTSTRAP"].split(",")}
    assert hosts == set(_kafka_services(compose))
    assert env["QBSYNC_STORE_URL"].startswith("postgresql://")
    assert "postgres" in compose["services"]
    assert set(engine["depends_on"]) >= {*_kafka_services(compose), "postgres"}
