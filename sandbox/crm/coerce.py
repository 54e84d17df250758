"""Reading one written value the way a Rails model casts it, collecting what does not fit.

Values arrive as JSON types or, from form bodies, as strings ("12", "true", ""). A blank string
is stored as null (the sandbox's choice: "clear the field" whatever the encoding). A value that
cannot be cast becomes a `FieldError`; the write answers 422 with every error it collected.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.crm.errors import FieldError
from sandbox.crm.formats import crm_date, decimal_string, parse_date, to_decimal
from sandbox.crm.lookups import Label

_TRUE = {"true", "1", "t", "yes", "on"}
_FALSE = {"false", "0", "f", "no", "off"}
_CENT = Decimal("0.01")


class Caster:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, field: str, msg: str = "is invalid") -> None:
        self.errors.append(FieldError(field, msg))

    def text(self, value: Any) -> str | None:
        if value is None or isinstance(value, dict | list):
            return None
        text = str(value).strip()
        return text or None

    def integer(self, field: str, value: Any) -> int | None:
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            self.fail(field)
            return None
        try:
            return int(str(value).strip())
        except ValueError:
            self.fail(field)
            return None

    def boolean(self, field: str, value: Any) -> bool | None:
        if value is None or value == "" or isinstance(value, bool):
            return value if isinstance(value, bool) else None
        word = str(value).strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        self.fail(field)
        return None

    def ids(self, field: str, value: Any) -> list[int]:
        """`[1, 2]`, `["1", "2"]` or a form's `"1,2"`."""
        if value is None or value == "":
            return []
        items = value if isinstance(value, list) else str(value).split(",")
        found = [self.integer(field, item) for item in items if str(item).strip() != ""]
        return [i for i in found if i is not None]

    def money(self, field: str, value: Any) -> Decimal | None:
        if value is None or value == "":
            return None
        try:
            return to_decimal(value).quantize(_CENT, rounding=ROUND_HALF_UP)
        except ValueError:
            self.fail(field, "is not a number")
            return None

    def day(self, field: str, value: Any) -> date | None:
        if value is None or value == "":
            return None
        try:
            return parse_date(str(value))
        except ValueError:
            self.fail(field)
            return None

    def custom_fields(
        self, value: Any, labels: list[Label], existing: dict[str, Any]
    ) -> dict[str, Any]:
        """Merge written `custom_label_<id>` values over the stored ones; keys of no label are
        dropped, as Rails' strong parameters drop unpermitted keys."""
        merged = {label.key: existing.get(label.key) for label in labels}
        if value is None:
            return merged
        if not isinstance(value, dict):
            self.fail("custom_fields")
            return merged
        for label in labels:
            if label.key in value:
                merged[label.key] = self._custom_value(label, value[label.key])
        return merged

    def _custom_value(self, label: Label, value: Any) -> Any:
        if value is None or value == "":
            return [] if label.field_type == "multi_select" else None
        kind, field = label.field_type, label.key
        if kind in ("currency", "numeric"):
            try:
                return decimal_string(to_decimal(value))
            except ValueError:
                self.fail(field, "is not a number")
                return None
        if kind == "date":
            return crm_date(self.day(field, value))
        if kind == "boolean":
            return self.boolean(field, value)
        entry_ids = {entry_id for entry_id, _ in label.entries}
        if kind == "dropdown":
            chosen = self.integer(field, value)
            if chosen is not None and chosen not in entry_ids:
                self.fail(field, "is not included in the list")
                return None
            return chosen
        if kind == "multi_select":
            chosen_ids = self.ids(field, value)
            if not set(chosen_ids) <= entry_ids:
                self.fail(field, "is not included in the list")
                return []
            return chosen_ids
        return self.text(value)
