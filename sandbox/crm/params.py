"""Rails-style nested parameters, for query strings and form-encoded bodies (reference 1.2).

`conditions[person_email]=x` -> {"conditions": {"person_email": "x"}};
`conditions[deal_stage][]=1&conditions[deal_stage][]=2` -> {... "deal_stage": ["1", "2"]};
`conditions[deal_stage][0]=1` -> a hash with keys "0", "1"... which, as Pipeline accepts both
spellings, becomes a list ordered by index; `[from]`/`[to]`, `[from_date]`/`[to_date]` nest.
`person[full_name]=Ann+Lee` parses the same way. A key used both as a value and as a hash is
Rack's ParameterTypeError: the caller answers 400.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_PARTS = re.compile(r"\[([^\[\]]*)\]")


class ParameterTypeError(ValueError):
    pass


def parse_nested(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        if not head:
            continue
        path = [head, *_PARTS.findall("[" + rest)] if rest else [head]
        _assign(root, path, value, key)
    return {k: _listify(v) for k, v in root.items()}


def _assign(node: dict[str, Any], path: list[str], value: str, key: str) -> None:
    name, rest = path[0], path[1:]
    if not rest:
        if isinstance(node.get(name), dict | list):
            raise ParameterTypeError(f"expected a hash or array for {key}")
        node[name] = value
        return
    if rest[0] == "":
        existing = node.setdefault(name, [])
        if not isinstance(existing, list):
            raise ParameterTypeError(f"expected an array for {key}")
        if len(rest) == 1:
            existing.append(value)
            return
        # a[][b]=1: a new hash unless the last one lacks this key yet (Rack's rule).
        child_path = rest[1:]
        if not existing or not isinstance(existing[-1], dict) or child_path[0] in existing[-1]:
            existing.append({})
        _assign(existing[-1], child_path, value, key)
        return
    child = node.setdefault(name, {})
    if not isinstance(child, dict):
        raise ParameterTypeError(f"expected a hash for {key}")
    _assign(child, rest, value, key)


def _listify(value: Any) -> Any:
    """Hashes keyed "0", "1", ... become lists: Rails apps treat both as arrays."""
    if isinstance(value, list):
        return [_listify(v) for v in value]
    if not isinstance(value, dict):
        return value
    converted = {k: _listify(v) for k, v in value.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted
