"""Running a parsed query over a company's records (reference section 4).

Values are compared the way QBO's SQL does in practice: numbers as numbers (Ids, amounts),
timestamps as instants (MetaData.*, whatever their offset), everything else as case-insensitive
text. A reference or address property (`CustomerRef`, `PrimaryEmailAddr`) compares by its value.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.qbo import faults
from sandbox.qbo.entities import spec_for_name
from sandbox.qbo.query import MAX_RESULTS_LIMIT, Condition, Value, parse
from sandbox.qbo.realm import RealmState, Record

# For a property holding an object, the member a query compares (QBO lets you write
# `PrimaryEmailAddr = 'x'` and `CustomerRef = '12'`).
_SCALAR_MEMBERS = ("value", "Address", "FreeFormNumber", "URI")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T")


def run_query(realm: RealmState, text: str, now: str) -> dict[str, Any]:
    """The `QueryResponse` object for a query text."""
    query = parse(text)
    entity, records, name_list = _source(realm, query.entity, now)
    if query.max_results > MAX_RESULTS_LIMIT:
        raise faults.query_validation_error(
            f"value {query.max_results} is too large. Max allowed value is: {MAX_RESULTS_LIMIT}"
        )
    conditions = query.conditions
    if name_list and not any(_last_part(c.field) == "active" for c in conditions):
        # Name lists hide inactive records unless the query asks about Active itself.
        conditions = (*conditions, Condition("Active", "=", (True,)))
    hits = [record for record in records if all(_holds(record, c) for c in conditions)]
    if query.count:
        return {"totalCount": len(hits)}
    hits.sort(key=lambda record: _number(record.get("Id")) or Decimal(0))
    for ordering in reversed(query.order):
        hits.sort(key=_sort_key(ordering.field), reverse=ordering.descending)
    start = max(query.start_position, 1)
    page = hits[start - 1 : start - 1 + max(query.max_results, 0)]
    if not page:
        return {}
    if query.fields is not None:
        page = [_project(record, query.fields) for record in page]
    return {entity: page, "startPosition": start, "maxResults": len(page)}


def _source(realm: RealmState, name: str, now: str) -> tuple[str, list[Record], bool]:
    if name.lower() == "companyinfo":
        return "CompanyInfo", [realm.company_info(now)], False
    spec = spec_for_name(name)
    if spec is None:
        raise faults.query_validation_error(f"Entity '{name}' is not supported by this sandbox")
    return spec.name, realm.all(spec.name), spec.name_list


def resolve(record: Record, path: str) -> Any:
    """A (dotted, case-insensitive) property of a record, objects reduced to their value."""
    current: Any = record
    for part in path.split("."):
        if not isinstance(current, dict):
            return None
        current = _member(current, part)
    if isinstance(current, dict):
        for member in _SCALAR_MEMBERS:
            if member in current:
                return current[member]
        return None
    return current


def _member(obj: dict[str, Any], name: str) -> Any:
    if name in obj:
        return obj[name]
    folded = name.casefold()
    for key, value in obj.items():
        if key.casefold() == folded:
            return value
    return None


def _last_part(path: str) -> str:
    return path.rsplit(".", 1)[-1].lower()


def _holds(record: Record, condition: Condition) -> bool:
    actual = resolve(record, condition.field)
    if actual is None:
        return False
    if condition.operator == "LIKE":
        return _like(str(condition.values[0])).fullmatch(str(actual)) is not None
    if condition.operator == "IN":
        return any(_compare(actual, value) == 0 for value in condition.values)
    order = _compare(actual, condition.values[0])
    if order is None:
        return False
    return {
        "=": order == 0,
        "<": order < 0,
        ">": order > 0,
        "<=": order <= 0,
        ">=": order >= 0,
    }[condition.operator]


def _compare(actual: Any, literal: Value) -> int | None:
    if isinstance(actual, bool) or isinstance(literal, bool):
        return _sign(int(_truth(actual)) - int(_truth(literal)))
    left, right = _number(actual), _number(literal)
    if left is not None and right is not None:
        return _sign(left - right)
    if isinstance(actual, str) and _TIMESTAMP.match(actual):
        moment, other = datetime.fromisoformat(actual), _timestamp(str(literal))
        if other is not None:
            if other.tzinfo is None:
                other = other.replace(tzinfo=moment.tzinfo)
            return (moment > other) - (moment < other)
    a, b = str(actual).casefold(), str(literal).casefold()
    return (a > b) - (a < b)


def _like(pattern: str) -> re.Pattern[str]:
    parts = (re.escape(part) for part in pattern.split("%"))
    return re.compile(".*".join(parts), re.IGNORECASE | re.DOTALL)


def _sort_key(field: str) -> Any:
    """A key computed once per record; values of different kinds never meet (rank first)."""

    def key(record: Record) -> tuple[int, Any]:
        value = resolve(record, field)
        if value is None:
            return (3, 0)  # missing values sort last
        if isinstance(value, bool):
            return (0, Decimal(int(value)))
        if (amount := _number(value)) is not None:
            return (0, amount)
        if isinstance(value, str) and _TIMESTAMP.match(value):
            return (1, datetime.fromisoformat(value))
        return (2, str(value).casefold())

    return key


def _project(record: Record, fields: tuple[str, ...]) -> Record:
    projected: Record = {"Id": record["Id"]}
    for field in fields:
        top = field.split(".", 1)[0]
        for key, value in record.items():
            if key.casefold() == top.casefold():
                projected[key] = value
    return {**projected, "domain": "QBO", "sparse": True}


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str) and value and (value[0].isdigit() or value[0] in "-."):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None


def _timestamp(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _truth(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() == "true"


def _sign(value: Decimal | int) -> int:
    return (value > 0) - (value < 0)
