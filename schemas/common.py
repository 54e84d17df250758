"""Value types shared by every wire model: tenant ids, source timestamps, money, field errors."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
)

# A tenant id is the Kafka key of every topic, so it must be short, printable and unambiguous.
# A leading underscore is reserved for engine-internal routing (see UNROUTED_TENANT).
TENANT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
TenantId = Annotated[str, Field(pattern=TENANT_PATTERN, description="installation (tenant) id")]
UNROUTED_TENANT = "_unrouted"

# Pipeline CRM writes timestamps as `2024/05/31 10:14:59 -0400`; everything else speaks RFC 3339.
_CRM_TIMESTAMP = re.compile(r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}$")


def parse_crm_timestamp(value: Any) -> Any:
    if isinstance(value, str) and _CRM_TIMESTAMP.match(value):
        return datetime.strptime(value, "%Y/%m/%d %H:%M:%S %z")
    return value


SourceTimestamp = Annotated[
    AwareDatetime,
    BeforeValidator(parse_crm_timestamp),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "pattern": _CRM_TIMESTAMP.pattern},
            ]
        }
    ),
]
"""An aware timestamp; accepts RFC 3339 or the CRM's `YYYY/MM/DD HH:MM:SS ±HHMM`, emits RFC 3339."""


def _non_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("must not be negative")
    return value


Money = Annotated[Decimal, Field(description="decimal amount; JSON number or string")]
NonNegativeMoney = Annotated[Decimal, AfterValidator(_non_negative)]


class FrozenModel(BaseModel):
    """Our own wire models: immutable, and a field we do not know is an error, not a surprise."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class SnapshotModel(BaseModel):
    """A record as a remote system sent it.

    Known fields are typed; unknown ones are kept as they came (extra="allow") because the
    engine must never lose a value a source gave it, even one it does not map yet.
    """

    model_config = ConfigDict(frozen=True, extra="allow")


class FieldError(FrozenModel):
    """One validation failure, located by a dotted path into the rejected document."""

    field: str
    message: str
