"""Export the catalog as one JSON Schema file per event type and an AsyncAPI 3 document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from schemas.catalog import ALL_EVENT_CLASSES
from schemas.envelope import type_of
from schemas.topics import TOPICS, TopicSpec

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID_BASE = "https://qbsync.dev/schemas/"
FIXTURES_DIR = Path(__file__).parent / "fixtures"


def json_schema_for(wire_type: str) -> dict[str, Any]:
    """A self-contained JSON Schema (2020-12) of one event type."""
    cls = next(c for c in ALL_EVENT_CLASSES if type_of(c) == wire_type)
    schema = cls.model_json_schema(mode="validation")
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"{SCHEMA_ID_BASE}{wire_type}.schema.json",
        **schema,
        "title": wire_type,
    }


def _example(wire_type: str) -> dict[str, Any] | None:
    path = FIXTURES_DIR / f"{wire_type}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _channel(spec: TopicSpec) -> dict[str, Any]:
    return {
        "address": spec.name,
        "description": spec.description,
        "messages": {t: {"$ref": f"#/components/messages/{t}"} for t in spec.type_names},
        "bindings": {
            "kafka": {
                "topic": spec.name,
                "partitions": spec.partitions,
                "replicas": spec.replication,
                "topicConfiguration": {
                    "retention.ms": spec.retention_ms,
                    "cleanup.policy": ["delete"],
                },
            }
        },
    }


def asyncapi_document() -> dict[str, Any]:
    _, shared = models_json_schema(
        [(cls, "validation") for cls in ALL_EVENT_CLASSES],
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = shared.get("$defs", {})
    messages: dict[str, Any] = {}
    for cls in ALL_EVENT_CLASSES:
        wire_type = type_of(cls)
        message: dict[str, Any] = {
            "name": wire_type,
            "title": cls.__name__,
            "summary": (cls.__doc__ or wire_type).strip().splitlines()[0],
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{cls.__name__}"},
            "bindings": {"kafka": {"key": {"type": "string", "description": "tenant id"}}},
        }
        example = _example(wire_type)
        if example is not None:
            message["examples"] = [{"key": example["tenant"], "payload": example}]
        messages[wire_type] = message
    channels = {spec.name: _channel(spec) for spec in TOPICS}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "qbsync event catalog",
            "version": "1.0.0",
            "description": "Every topic of qbsync, keyed by tenant id, with its v1 event types.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": {
            f"publish-{spec.name}": {
                "action": "send",
                "channel": {"$ref": f"#/channels/{spec.name}"},
            }
            for spec in TOPICS
        },
        "components": {"schemas": schemas, "messages": messages},
    }


def export_all(directory: Path) -> list[Path]:
    """Write `<type>.schema.json` for every type and `asyncapi.json`; return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for cls in ALL_EVENT_CLASSES:
        wire_type = type_of(cls)
        path = directory / f"{wire_type}.schema.json"
        path.write_text(json.dumps(json_schema_for(wire_type), indent=2, sort_keys=True) + "\n")
        written.append(path)
    asyncapi = directory / "asyncapi.json"
    asyncapi.write_text(json.dumps(asyncapi_document(), indent=2, sort_keys=True) + "\n")
    written.append(asyncapi)
    return written
