"""Dead letters: a message we could not take, with the reason and its original bytes, untouched."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.common import TENANT_PATTERN, UNROUTED_TENANT, FieldError, FrozenModel
from schemas.envelope import Envelope


class DeadLetterData(FrozenModel):
    stage: Literal["ingest", "parse", "decide", "execute", "project"]
    reason: str = Field(min_length=1)
    errors: tuple[FieldError, ...] = ()
    source_topic: str
    partition: int | None = None
    offset: int | None = None
    key_b64: str | None = Field(default=None, description="original key bytes, base64")
    value_b64: str = Field(description="original value bytes, base64: exactly what was received")
    value_text: str | None = Field(default=None, description="the value as UTF-8, when it is text")


class DeadLettered(Envelope):
    type: Literal["qbsync.deadletter.v1"] = "qbsync.deadletter.v1"
    # A message whose key is not a tenant id cannot be routed to one; it is keyed `_unrouted`.
    tenant: str = Field(pattern=f"({TENANT_PATTERN})|(^{UNROUTED_TENANT}$)")
    data: DeadLetterData


DEAD_LETTERS: tuple[type[Envelope], ...] = (DeadLettered,)
