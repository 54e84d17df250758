"""`conditions[...]` filters of the list endpoints (reference 3.2), as row predicates.

Text conditions match a case-insensitive substring (clients of the real `person_email`
post-filter its hits for equality because substring hits come back, reference 3.2); `_eq`
conditions match the whole value, ignoring case (a MySQL collation's idea of equal). Lists
(`[]`, `[0]`) match any of their values; `[from]/[to]` bound numbers; `[from_date]/[to_date]`
bound times, read in the account's zone (formats.parse_moment), both ends inclusive. Condition
names a resource does not know are ignored, as Pipeline ignores them (`conditions[email]` on
people filters nothing: clients must use `person_email`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sandbox.crm.errors import FieldError, unprocessable
from sandbox.crm.formats import parse_moment
from sandbox.crm.matchers import (
    Getter,
    Predicate,
    as_list,
    contains,
    decimal,
    digits,
    equals,
    ids,
    one_of,
    values,
)

if TYPE_CHECKING:
    from sandbox.crm.store import CrmStore, Model, Row


# `people.json?company_id=3`, `deals.json?company_id=3|person_id=1` (reference 2.1).
_ASSOCIATIONS: dict[str, tuple[str, ...]] = {
    "person": ("company_id",),
    "company": (),
    "deal": ("company_id", "person_id"),
}


class Conditions:
    """Predicates for one list request. `build(model, conditions, params)` reads both the
    `conditions` hash and the plain association params (`company_id`, `person_id`)."""

    def __init__(self, store: CrmStore) -> None:
        self.store = store
        self.zone: ZoneInfo = store.config.zone

    def build(self, model: Model, conditions: Any, params: dict[str, Any]) -> list[Predicate]:
        table = {"person": self._people, "company": self._companies, "deal": self._deals}[model]()
        found: list[Predicate] = []
        for name, value in (conditions if isinstance(conditions, dict) else {}).items():
            if name in table:
                found.append(table[name](value))
            elif name.startswith("custom_label_"):
                found.append(self._custom(name, value))
        for param in _ASSOCIATIONS[model]:
            if param in params:
                found.append(self._association(model, param, params[param]))
        return found

    # -- helpers that need the zone or other tables ---------------------------------------
    def _time_range(self, getter: Getter, name: str) -> Callable[[Any], Predicate]:
        def build(value: Any) -> Predicate:
            spec = value if isinstance(value, dict) else {"from_date": value}
            low = self._bound(spec.get("from_date", spec.get("from")), name, end=False)
            high = self._bound(spec.get("to_date", spec.get("to")), name, end=True)

            def check(row: Row) -> bool:
                moment: datetime | None = getter(row)
                if moment is None:
                    return False
                return (low is None or moment >= low) and (high is None or moment <= high)

            return check

        return build

    def _bound(self, text: Any, name: str, *, end: bool) -> datetime | None:
        if not isinstance(text, str) or not text.strip():
            return None
        try:
            return parse_moment(text, self.zone, end_of_day=end)
        except ValueError:
            key = "to_date" if end else "from_date"
            raise unprocessable([FieldError(f"conditions[{name}][{key}]", "is invalid")]) from None

    def _number_range(self, getter: Getter) -> Callable[[Any], Predicate]:
        def build(value: Any) -> Predicate:
            spec = value if isinstance(value, dict) else {"from": value, "to": value}
            low, high = decimal(spec.get("from")), decimal(spec.get("to"))

            def check(row: Row) -> bool:
                number = decimal(getter(row))
                if number is None:
                    return False
                return (low is None or number >= low) and (high is None or number <= high)

            return check

        return build

    def _company_name(self, row: Row) -> Any:
        company = self.store.find("company", row.get("company_id"))
        return company["name"] if company else None

    def _deal_people(self, field: str) -> Getter:
        def names(deal: Row) -> str:
            people = [self.store.find("person", i) for i in deal["person_ids"]]
            if field == "full_name":
                return "\n".join(
                    f"{p['first_name'] or ''} {p['last_name'] or ''}" for p in people if p
                )
            return "\n".join(str(p[field] or "") for p in people if p)

        return names

    def _custom(self, name: str, value: Any) -> Predicate:
        def stored(row: Row) -> Any:
            return row["custom_fields"].get(name)

        if isinstance(value, dict) and ({"from_date", "to_date"} & value.keys()):
            return self._time_range(lambda r: _as_day(stored(r), self.zone), name)(value)
        if isinstance(value, dict):
            return self._number_range(stored)(value)
        if isinstance(value, list):
            wanted = ids(value)
            return lambda row: bool(wanted & set(as_list(stored(row))))
        return contains(stored)(value)

    def _association(self, model: Model, param: str, value: Any) -> Predicate:
        wanted = ids(value)
        if model == "deal" and param == "person_id":
            return lambda row: bool(wanted & set(row["person_ids"]))
        return lambda row: row.get(param) in wanted

    # -- the tables ------------------------------------------------------------------------
    def _people(self) -> dict[str, Callable[[Any], Predicate]]:
        def full(row: Row) -> str:
            return f"{row['first_name'] or ''} {row['last_name'] or ''}".strip()

        return {
            "person_id": one_of(lambda r: r["id"]),
            "person_email": contains(lambda r: r["email"]),
            "person_full_name": contains(full),
            "person_name": contains(lambda r: r["first_name"], lambda r: r["last_name"], full),
            "person_position": contains(lambda r: r["position"]),
            "person_company_name": contains(self._company_name),
            "person_city": contains(lambda r: r["work_city"]),
            "person_state": contains(lambda r: r["work_state"]),
            "person_zip": contains(lambda r: r["work_postal_code"]),
            "person_type": equals(lambda r: r["type"]),
            "person_owner": one_of(lambda r: r["user_id"]),
            "person_status": one_of(lambda r: r["lead_status_id"]),
            "lead_source": one_of(lambda r: r["lead_source_id"]),
            "person_phone": lambda v: self._phone(v, ("phone", "mobile", "home_phone")),
            "person_simple_search": contains(
                lambda r: r["first_name"],
                lambda r: r["last_name"],
                full,
                lambda r: r["email"],
                self._company_name,
            ),
            "person_created": self._time_range(lambda r: r["created_at"], "person_created"),
            "person_modified": self._time_range(lambda r: r["updated_at"], "person_modified"),
        }

    def _companies(self) -> dict[str, Callable[[Any], Predicate]]:
        def field(name: str) -> Callable[[Any], Predicate]:
            return contains(lambda r: r[name])

        return {
            "company_id": one_of(lambda r: r["id"]),
            "company_name": field("name"),
            "company_name_eq": equals(lambda r: r["name"]),
            "company_description": field("description"),
            "company_email": field("email"),
            "company_fax": field("fax"),
            "company_address": field("address_1"),
            "company_address2": field("address_2"),
            "company_city": field("city"),
            "company_state": field("state"),
            "company_zip": field("postal_code"),
            "company_country": field("country"),
            "company_owner": one_of(lambda r: r["owner_id"]),
            "company_phone": lambda v: self._phone(v, ("phone1", "phone2", "phone3", "phone4")),
            "company_created": self._time_range(lambda r: r["created_at"], "company_created"),
            "company_modified": self._time_range(lambda r: r["updated_at"], "company_modified"),
        }

    def _deals(self) -> dict[str, Callable[[Any], Predicate]]:
        return {
            "deal_id": one_of(lambda r: r["id"]),
            "deal_name": contains(lambda r: r["name"]),
            "deal_stage": one_of(lambda r: r["deal_stage_id"]),
            "deal_pipeline": one_of(lambda r: r["deal_pipeline_id"]),
            "deal_owner": one_of(lambda r: r["user_id"]),
            "deal_source": one_of(lambda r: r["source_id"]),
            "deal_value": self._number_range(lambda r: r["value"]),
            "deal_percentage": self._number_range(lambda r: r["probability"]),
            "company_name": contains(self._company_name),
            "person_full_name": contains(self._deal_people("full_name")),
            "person_email": contains(self._deal_people("email")),
            "exp_close": self._time_range(
                lambda r: _as_day(r["expected_close_date"], self.zone), "exp_close"
            ),
            "deal_created": self._time_range(lambda r: r["created_at"], "deal_created"),
            "deal_modified": self._time_range(lambda r: r["updated_at"], "deal_modified"),
            "deal_closed_time": self._time_range(lambda r: r["closed_time"], "deal_closed_time"),
        }

    def _phone(self, value: Any, fields: tuple[str, ...]) -> Predicate:
        needles = [digits(v) for v in values(value) if digits(v)]
        return lambda row: any(n in digits(row[f]) for n in needles for f in fields)


def _as_day(value: Any, zone: ZoneInfo) -> datetime | None:
    """A stored date (a `date`, or a custom field's "YYYY/MM/DD") as local noon, so a day-only
    range bound (00:00:00 to 23:59:59 local) contains it."""
    if value is None:
        return None
    text = value.isoformat() if hasattr(value, "isoformat") else str(value).replace("/", "-")
    return parse_moment(f"{text} 12:00:00", zone, end_of_day=False)
