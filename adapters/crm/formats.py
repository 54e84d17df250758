"""The CRM's own value formats ↔ Python values (reference 1.6, 3.2).

- Record timestamps: `2024/05/31 10:14:59 -0400` (slashes, local time of the user's time zone,
  with its offset). Webhook objects use ISO-8601 Zulu; both parse here.
- Date-range filters (`conditions[person_modified][from_date]`): `2024-05-31 10:14:59`, a naive
  local time that the CRM reads in the account's time zone, so we convert before formatting.
- Date-only fields: `2026/08/10` on the way out, `YYYY-MM-DD` on the way in (OAS: input format).
- Money and numeric custom fields: decimal strings (`"1000.0"`) → Decimal, never float.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TIMESTAMP_FORMAT = "%Y/%m/%d %H:%M:%S %z"
FILTER_FORMAT = "%Y-%m-%d %H:%M:%S"
_DATE = re.compile(r"^(\d{4})[/-](\d{2})[/-](\d{2})$")
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2}):?(\d{2})$")

# Rails (ActiveSupport) zone names Pipeline may report as a user's `time_zone`, for the zones
# its customers mostly use; IANA names and "+HH:MM" offsets are understood without a table.
RAILS_ZONES = {
    "Hawaii": "Pacific/Honolulu",
    "Alaska": "America/Juneau",
    "Pacific Time (US & Canada)": "America/Los_Angeles",
    "Arizona": "America/Phoenix",
    "Mountain Time (US & Canada)": "America/Denver",
    "Central Time (US & Canada)": "America/Chicago",
    "Eastern Time (US & Canada)": "America/New_York",
    "Indiana (East)": "America/Indiana/Indianapolis",
    "Atlantic Time (Canada)": "America/Halifax",
    "UTC": "Etc/UTC",
    "London": "Europe/London",
    "Dublin": "Europe/Dublin",
    "Amsterdam": "Europe/Amsterdam",
    "Berlin": "Europe/Berlin",
    "Paris": "Europe/Paris",
    "Sydney": "Australia/Sydney",
}


def parse_timestamp(value: str) -> datetime:
    """`2024/05/31 10:14:59 -0400` (or ISO-8601, e.g. `...T13:55:19.871Z`) → aware datetime."""
    text = value.strip()
    try:
        return datetime.strptime(text, TIMESTAMP_FORMAT)
    except ValueError:
        pass
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"CRM timestamp without an offset: {value!r}")
    return parsed


def format_timestamp(moment: datetime, zone: tzinfo | None = None) -> str:
    """An aware datetime → the CRM's `YYYY/MM/DD HH:MM:SS ±HHMM`, in `zone` if given."""
    _require_aware(moment)
    return (moment.astimezone(zone) if zone else moment).strftime(TIMESTAMP_FORMAT)


def filter_timestamp(moment: datetime, zone: tzinfo) -> str:
    """An aware datetime → `YYYY-MM-DD HH:MM:SS` as the wall time in the account's zone.

    Fractions of a second are dropped, which moves the bound earlier, never later: a from_date
    filter may then return a record twice, never miss one.
    """
    _require_aware(moment)
    return moment.astimezone(zone).strftime(FILTER_FORMAT)


def zone_named(name: str | None) -> tzinfo:
    """The user's `time_zone` → tzinfo: IANA, Rails name, or offset; unknown → ValueError."""
    text = (name or "").strip()
    if not text:
        raise ValueError("the CRM user has no time_zone")
    offset = _OFFSET.match(text)
    if offset:
        sign = -1 if offset.group(1) == "-" else 1
        delta = timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3)))
        return timezone(sign * delta) if delta else UTC
    try:
        return ZoneInfo(RAILS_ZONES.get(text, text))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown CRM time zone {name!r}") from exc


def parse_money(value: str | int | float | Decimal | None) -> Decimal | None:
    """A decimal string (`"1000.0"`) or number → Decimal; None and "" → None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(f"not an amount: {value!r}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount


def parse_date(value: str | None) -> date | None:
    """`2026/08/10` (or `2026-08-10`) → date; None and "" → None."""
    if value is None or not value.strip():
        return None
    found = _DATE.match(value.strip())
    if not found:
        raise ValueError(f"not a CRM date: {value!r}")
    return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))


def format_date(day: date) -> str:
    """A date as the CRM takes it on input (`expected_close_date`, date custom fields)."""
    return day.isoformat()


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("CRM timestamps must be built from timezone-aware datetimes")
