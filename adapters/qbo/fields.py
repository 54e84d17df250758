"""Dotted QBO field paths (`PrimaryPhone.FreeFormNumber`) ↔ QBO's nested JSON.

Commands carry `fields` as dotted paths → value, with null meaning "clear this field"
(schemas/commands.py). How a change reaches QBO is decided here, once.

An update is a *sparse* update (SYNC-RULES 5: "a sparse update of the mapped fields that
changed"): only the changed paths are sent, nested (`{"PrimaryPhone": {"FreeFormNumber": ...}}`),
and a cleared field is sent as an empty string. The reference (3.1) says DisplayName and
PrintOnCheckName "cannot be cleared with a sparse update", which implies the other fields can;
it does not say whether a nested object is merged or replaced, so we send only the leaves we
change and the sandbox merges nested objects key by key (docs/adr/0006).

`DisplayName` and `PrintOnCheckName` cannot be emptied on QBO: a null for them is left out, so the
record keeps its old name instead of the whole update failing. On create there
is nothing to clear, so nulls are simply left out.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

FieldValues = Mapping[str, str | None]

UNCLEARABLE = frozenset({"DisplayName", "PrintOnCheckName"})
# Leaves QBO types as booleans; commands carry strings, so "true"/"false" are converted.
BOOLEAN_FIELDS = frozenset({"Active", "Taxable", "Job", "BillWithParent"})

_SEGMENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def split_path(path: str) -> tuple[str, ...]:
    segments = tuple(path.split("."))
    if not all(_SEGMENT.match(segment) for segment in segments):
        raise ValueError(f"not a QBO field path: {path!r}")
    return segments


def _leaf_value(path: str, value: str) -> str | bool:
    if path in BOOLEAN_FIELDS:
        lowered = value.strip().lower()
        if lowered not in {"true", "false"}:
            raise ValueError(f"{path} takes true or false, not {value!r}")
        return lowered == "true"
    return value


def _check_no_overlap(paths: list[str]) -> None:
    """A path may not be both a leaf and the parent of another ("A" and "A.B")."""
    ordered = sorted(paths)
    for shorter, longer in itertools.pairwise(ordered):  # "A.x" sorts right after "A"
        if longer.startswith(shorter + "."):
            raise ValueError(f"{longer!r} conflicts with {shorter!r}")


def _set(node: dict[str, Any], segments: tuple[str, ...], value: Any) -> None:
    *parents, leaf = segments
    for segment in parents:
        child = node.get(segment)
        if not isinstance(child, dict):
            child = node[segment] = {}
        node = child
    node[leaf] = value


def _remove(node: dict[str, Any], segments: tuple[str, ...]) -> None:
    """Delete a leaf, and any parent object the deletion leaves empty (QBO stores no {})."""
    head, *rest = segments
    if head not in node:
        return
    if rest:
        child = node[head]
        if isinstance(child, dict):
            _remove(child, tuple(rest))
            if not child:
                del node[head]
        return
    del node[head]


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """{"A.B": 1, "C": 2} → {"A": {"B": 1}, "C": 2}."""
    _check_no_overlap(list(flat))
    nested: dict[str, Any] = {}
    for path, value in flat.items():
        _set(nested, split_path(path), value)
    return nested


def create_body(fields: FieldValues) -> dict[str, Any]:
    return nest(
        {path: _leaf_value(path, value) for path, value in fields.items() if value is not None}
    )


def sparse_update_body(
    customer_id: str, sync_token: str, fields: FieldValues
) -> dict[str, Any] | None:
    """The sparse-update body for `fields` (null → "" clears); None if there is nothing to send."""
    _check_no_overlap(list(fields))
    leaves = {
        path: "" if value is None else _leaf_value(path, value)
        for path, value in fields.items()
        if not (value is None and path in UNCLEARABLE)
    }
    if not leaves:
        return None
    return {"Id": customer_id, "SyncToken": sync_token, "sparse": True, **nest(leaves)}


def read_path(entity: BaseModel | Mapping[str, Any], path: str) -> str | None:
    """The value at a dotted path, as a string; absent, null and "" all read as None."""
    node: Any = entity.model_dump(mode="json") if isinstance(entity, BaseModel) else entity
    for segment in split_path(path):
        if not isinstance(node, Mapping) or node.get(segment) is None:
            return None
        node = node[segment]
    if isinstance(node, Mapping | list):
        raise ValueError(f"{path!r} is not a leaf field")
    if isinstance(node, bool):
        return "true" if node else "false"
    text = str(node)
    return text or None
