"""How one condition value matches one stored value: substrings, whole values, id lists.

Condition values come from Rails-style params: a string, or a list of strings for `[]`/`[0]`.
Text matching ignores case (`casefold`); phone matching compares digits only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sandbox.crm.formats import to_decimal

Row = dict[str, Any]
Predicate = Callable[[Row], bool]
Getter = Callable[[Row], Any]


def values(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [str(v).strip() for v in items if isinstance(v, str | int) and str(v).strip()]


def ids(value: Any) -> set[int]:
    return {int(v) for v in values(value) if v.lstrip("-").isdigit()}


def contains(*getters: Getter) -> Callable[[Any], Predicate]:
    def build(value: Any) -> Predicate:
        needles = [v.casefold() for v in values(value)]
        return lambda row: any(
            needle in str(getter(row) or "").casefold() for needle in needles for getter in getters
        )

    return build


def equals(getter: Getter) -> Callable[[Any], Predicate]:
    def build(value: Any) -> Predicate:
        wanted = {v.casefold() for v in values(value)}
        return lambda row: str(getter(row) or "").strip().casefold() in wanted

    return build


def one_of(getter: Getter) -> Callable[[Any], Predicate]:
    def build(value: Any) -> Predicate:
        wanted = ids(value)
        return lambda row: getter(row) in wanted

    return build


def digits(text: Any) -> str:
    return re.sub(r"\D", "", str(text or ""))


def decimal(value: Any) -> Decimal | None:
    try:
        return None if value in (None, "") else to_decimal(value)
    except ValueError:
        return None


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
