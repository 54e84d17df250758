"""Request shapes: record bodies from `fields`, and Rails-style `conditions[...]` parameters.

Commands carry `fields` as CRM field name → value, null meaning "clear" (schemas/commands.py).
A write sends only the given fields under the singular root key (`{"person": {...}}`), custom
fields nested under `custom_fields`. A clear is sent as JSON null, which a Rails app stores as
nil (an empty string would be stored as ""); on create there is nothing to clear, so nulls are
left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from adapters.crm.models import Conditions, FieldValues

CUSTOM_PREFIX = "custom_fields."
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _split(name: str) -> tuple[str, str | None]:
    if name.startswith(CUSTOM_PREFIX):
        key = name.removeprefix(CUSTOM_PREFIX)
        if _NAME.match(key):
            return "custom_fields", key
    elif _NAME.match(name) and name != "custom_fields":
        return name, None
    raise ValueError(f"not a CRM field name: {name!r}")


def record_attributes(fields: FieldValues, *, for_create: bool) -> dict[str, Any]:
    """`{"phone": "1", "custom_fields.custom_label_3": None}` → the attributes to send."""
    attributes: dict[str, Any] = {}
    for name, value in fields.items():
        top, custom_key = _split(name)
        if value is None and for_create:
            continue
        if custom_key is None:
            attributes[top] = value
        else:
            attributes.setdefault("custom_fields", {})[custom_key] = value
    return attributes


def record_body(root: str, attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {root: dict(attributes)}


def condition_params(conditions: Conditions | None) -> list[tuple[str, str]]:
    """`{"deal_stage": [2, 3], "person_modified": {"from_date": "..."}}` → bracket params."""
    params: list[tuple[str, str]] = []
    for name, value in (conditions or {}).items():
        key = f"conditions[{name}]"
        if isinstance(value, Mapping):
            params += [(f"{key}[{part}]", str(inner)) for part, inner in value.items()]
        elif isinstance(value, str | int):
            params.append((key, str(value)))
        else:
            params += [(f"{key}[]", str(item)) for item in value]
    return params
