"""Records as plain JSON, changed by dotted path: how the engine predicts a record after a write."""

from __future__ import annotations

from collections.abc import Mapping
from copy import deepcopy
from typing import Any


def with_values(snapshot: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the snapshot with each dotted path in `values` set (None clears it)."""
    result = deepcopy(dict(snapshot))
    for path, value in values.items():
        *parents, leaf = path.split(".")
        node = result
        for name in parents:
            child = node.get(name)
            if not isinstance(child, dict):
                child = node[name] = {}
            node = child
        node[leaf] = value
    return result
