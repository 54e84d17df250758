"""Dotted QBO field paths (`PrimaryPhone.FreeFormNumber`) ↔ QBO's nested JSON.

Commands carry `fields` as dotted paths → value, with null meaning "clear this field"
(schemas/commands.py). How a change reaches QBO is decided here, once.

The reference (section 3.5) documents two update modes and leaves a gap in each: a *sparse*
update changes "only the supplied fields", but it does not say whether a nested object such as
`BillAddr` is merged or replaced whole, nor what an empty string or a null does (the sandbox,
like python-quickbooks-era payloads, treats "" as "not supplied"). A *full* update is fully
specified: every writable field omitted from the body becomes empty [H]. So an update is
read-merge-write: take the entity as QBO just returned it, apply the dotted changes, remove
cleared leaves, and send the whole record back as a full update. The SyncToken sent is the one
the engine decided on, so a concurrent change still fails with 5010 instead of being overwritten.

`DisplayName` and `PrintOnCheckName` cannot be emptied on QBO (reference 3.1): a null for them is
ignored, so the record keeps its old name instead of the whole update failing. On create there
is nothing to clear, so nulls are simply left out.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

FieldValues = Mapping[str, str | None]

UNCLEARABLE = frozenset({"DisplayName", "PrintOnCheckName"})
# Leaves QBO types as booleans; commands carry strings, so "true"/"false" are converted.
BOOLEAN_FIELDS = frozenset({"Active", "Taxable", "Job", "BillWithParent"})
# Read-only envelope of an entity as read; a full update body does not carry it.
_READ_ENVELOPE = ("MetaData", "domain", "sparse", "time")

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


def apply_fields(entity: Mapping[str, Any], fields: FieldValues) -> dict[str, Any]:
    """The entity's JSON with the dotted changes applied and cleared leaves removed."""
    _check_no_overlap(list(fields))
    record = copy.deepcopy(dict(entity))
    for path, value in fields.items():
        segments = split_path(path)
        if value is not None:
            _set(record, segments, _leaf_value(path, value))
        elif path not in UNCLEARABLE:
            _remove(record, segments)
    return record


def full_update_body(
    current: Mapping[str, Any], sync_token: str, fields: FieldValues
) -> dict[str, Any] | None:
    """The full-update body that applies `fields` to `current`, or None if nothing would change."""
    updated = apply_fields(current, fields)
    if updated == dict(current):
        return None
    for key in _READ_ENVELOPE:
        updated.pop(key, None)
    updated["SyncToken"] = sync_token
    return updated


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
