"""Build the dead letter for a message we could not take: reason, field errors, original bytes."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from engine.ids import derived_id
from schemas.common import TENANT_PATTERN, UNROUTED_TENANT, FieldError
from schemas.deadletter import DeadLetterData, DeadLettered

_TENANT = re.compile(TENANT_PATTERN)


@dataclass(frozen=True)
class RawMessage:
    """A message as it came off a topic, before we trusted any of it."""

    topic: str
    partition: int | None
    offset: int | None
    key: bytes | None
    value: bytes

    @property
    def position(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"


def _tenant_of(key: bytes | None) -> str:
    try:
        text = key.decode() if key is not None else ""
    except UnicodeDecodeError:
        return UNROUTED_TENANT
    return text if _TENANT.match(text) else UNROUTED_TENANT


def _as_text(value: bytes) -> str | None:
    try:
        return value.decode()
    except UnicodeDecodeError:
        return None


def dead_letter_for(
    message: RawMessage,
    stage: Literal["ingest", "parse", "decide", "execute", "project"],
    reason: str,
    errors: tuple[FieldError, ...],
    now: datetime,
    worker: str,
) -> DeadLettered:
    # Derived from the message position, so a redelivered bad message yields the same dead letter.
    return DeadLettered(
        id=derived_id(message.position, f"deadletter:{stage}"),
        source=f"/qbsync/worker/{worker}",
        time=now,
        tenant=_tenant_of(message.key),
        data=DeadLetterData(
            stage=stage,
            reason=reason,
            errors=errors,
            source_topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            key_b64=base64.b64encode(message.key).decode() if message.key is not None else None,
            value_b64=base64.b64encode(message.value).decode(),
            value_text=_as_text(message.value),
        ),
    )
