"""The CloudEvents-style envelope every message on every qbsync topic is wrapped in."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from schemas.common import FrozenModel, TenantId

SPECVERSION = "1.0"


class Envelope(FrozenModel):
    """CloudEvents 1.0 attributes plus the `tenant`, `correlationid` and `causationid` extensions.

    Subclasses pin `type` to one stable, versioned string and give `data` its model. The id is the
    dedupe key everywhere (for commands it is the deterministic command id).
    """

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1, max_length=200, description="unique event id; dedupe key")
    source: str = Field(min_length=1, max_length=500, description="URI-reference of the producer")
    type: str
    subject: str | None = Field(
        default=None,
        max_length=500,
        description="the record the event is about, e.g. crm/person/42",
    )
    time: AwareDatetime = Field(description="when the fact happened at its source")
    tenant: TenantId
    correlationid: str | None = Field(
        default=None, max_length=200, description="id shared by every event of one flow"
    )
    causationid: str | None = Field(
        default=None, max_length=200, description="id of the event that caused this one"
    )
    data: BaseModel


def type_of(event_class: type[Envelope]) -> str:
    """The wire `type` string a concrete envelope class is pinned to."""
    default = event_class.model_fields["type"].default
    if not isinstance(default, str) or not default:
        raise TypeError(f"{event_class.__name__} does not pin a wire type")
    return default
