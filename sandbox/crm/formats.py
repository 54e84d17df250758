"""Pipeline's value formats (reference 1.6): slash timestamps in the account's zone, ISO-Z on
webhook objects, slash dates, money as decimal strings plus cents.

Condition dates (`conditions[person_modified][from_date]`) are read leniently: Nango sends
`YYYY-MM-DD HH:MM:SS`, people type dates. A naive value is local time in the account's zone;
a date alone means the whole day (from its first second, to its last).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo


def crm_timestamp(moment: datetime | None, zone: ZoneInfo) -> str | None:
    """`2024/05/31 10:14:59 -0400`."""
    if moment is None:
        return None
    return moment.astimezone(zone).strftime("%Y/%m/%d %H:%M:%S %z")


def iso_z(moment: datetime | None) -> str | None:
    """`2026-08-05T13:55:19.000Z`, the format of webhook objects."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + "000Z"


def crm_date(day: date | None) -> str | None:
    return None if day is None else day.strftime("%Y/%m/%d")


def parse_date(text: str) -> date:
    """An input date: `2026-08-10`, `2026/08/10` or US `08/10/2026`."""
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"not a date: {text!r}")


_DATE_ONLY = re.compile(r"^\s*(\d{4}[-/]\d{1,2}[-/]\d{1,2}|\d{1,2}/\d{1,2}/\d{4})\s*$")


def parse_moment(text: str, zone: ZoneInfo, *, end_of_day: bool) -> datetime:
    """A condition bound as an aware instant. `end_of_day` picks 23:59:59 for a bare date."""
    if _DATE_ONLY.match(text):
        day = parse_date(text)
        return datetime.combine(day, time.max if end_of_day else time.min, zone).replace(
            microsecond=0
        )
    cleaned = text.strip().replace("/", "-").replace("Z", "+00:00")
    # "2024-05-31 10:14:59 -0400" (Pipeline's own format, slashes replaced) -> ISO offset.
    cleaned = re.sub(r"\s+([+-]\d{2}):?(\d{2})$", r"\1:\2", cleaned)
    moment = datetime.fromisoformat(cleaned)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC).replace(microsecond=0)


def to_decimal(value: object) -> Decimal:
    """A money or number input: 5000, 5000.5, "5000.50", "$5,000.50"."""
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value.replace(",", "").replace("$", "").strip())
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
    raise ValueError("not a number")


def decimal_string(value: Decimal | None) -> str | None:
    """Rails' BigDecimal#to_s as Pipeline shows it: `5000.0`, `1234.5`, `99.99`."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text if "." in text else f"{text}.0"


def cents(value: Decimal | None) -> int | None:
    return None if value is None else int((value * 100).to_integral_value())
