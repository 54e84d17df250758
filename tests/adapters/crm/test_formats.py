"""The CRM's value formats: slash timestamps with offsets, naive filter times in the account's
zone, decimal-string money and slash dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from adapters.crm import formats

NEW_YORK = ZoneInfo("America/New_York")


def test_a_crm_timestamp_becomes_an_aware_datetime_with_its_offset():
    parsed = formats.parse_timestamp("2024/05/31 10:14:59 -0400")
    assert parsed == datetime(2024, 5, 31, 14, 14, 59, tzinfo=UTC)
    assert parsed.utcoffset() == timedelta(hours=-4)


def test_webhook_objects_iso_zulu_timestamps_parse_too():
    parsed = formats.parse_timestamp("2026-08-05T13:55:19.871Z")
    assert parsed == datetime(2026, 8, 5, 13, 55, 19, 871000, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2024/05/31 10:14:59", "yesterday", "2024-05-31T10:14:59"])
def test_a_timestamp_without_an_offset_or_not_a_timestamp_is_refused(text):
    with pytest.raises(ValueError):
        formats.parse_timestamp(text)


def test_timestamps_round_trip_in_the_crm_format_in_the_users_zone():
    moment = datetime(2024, 1, 15, 15, 0, 0, tzinfo=UTC)
    assert formats.format_timestamp(moment, NEW_YORK) == "2024/01/15 10:00:00 -0500"
    assert formats.parse_timestamp(formats.format_timestamp(moment, NEW_YORK)) == moment


def test_a_modified_since_filter_is_the_wall_time_in_the_accounts_zone():
    summer = datetime(2024, 5, 31, 14, 14, 59, 999999, tzinfo=UTC)
    assert formats.filter_timestamp(summer, NEW_YORK) == "2024-05-31 10:14:59"  # EDT, -4
    winter = datetime(2024, 12, 31, 23, 30, tzinfo=UTC)
    assert formats.filter_timestamp(winter, NEW_YORK) == "2024-12-31 18:30:00"  # EST, -5
    assert formats.filter_timestamp(winter, UTC) == "2024-12-31 23:30:00"


def test_naive_datetimes_are_refused_rather_than_guessed():
    with pytest.raises(ValueError, match="timezone-aware"):
        formats.filter_timestamp(datetime(2024, 1, 1), UTC)


@pytest.mark.parametrize(
    ("name", "offset_in_january"),
    [
        ("America/New_York", timedelta(hours=-5)),
        ("Eastern Time (US & Canada)", timedelta(hours=-5)),
        ("Pacific Time (US & Canada)", timedelta(hours=-8)),
        ("UTC", timedelta(0)),
        ("-04:00", timedelta(hours=-4)),
        ("+0530", timedelta(hours=5, minutes=30)),
    ],
)
def test_a_users_time_zone_is_understood_as_iana_rails_or_offset(name, offset_in_january):
    zone = formats.zone_named(name)
    assert datetime(2024, 1, 15, 12, tzinfo=zone).utcoffset() == offset_in_january


@pytest.mark.parametrize("name", ["", None, "Middle Earth"])
def test_an_unknown_time_zone_is_an_error_not_utc(name):
    with pytest.raises(ValueError):
        formats.zone_named(name)


@pytest.mark.parametrize(
    ("raw", "amount"),
    [
        ("1000.0", Decimal("1000.0")),
        ("1234.56", Decimal("1234.56")),
        (" 0.1 ", Decimal("0.1")),
        (100000, Decimal(100000)),
        (0.1, Decimal("0.1")),  # a JSON number: via its shortest repr, not binary float
        ("", None),
        (None, None),
    ],
)
def test_money_decimal_strings_become_decimals(raw, amount):
    assert formats.parse_money(raw) == amount


@pytest.mark.parametrize("raw", ["12,50", "NaN", "Infinity", True, "abc"])
def test_money_that_is_not_an_amount_is_refused(raw):
    with pytest.raises(ValueError, match="not an amount"):
        formats.parse_money(raw)


def test_date_only_fields_parse_with_slashes_and_are_sent_iso():
    assert formats.parse_date("2026/08/10") == date(2026, 8, 10)
    assert formats.parse_date("2026-08-10") == date(2026, 8, 10)
    assert formats.parse_date("") is None
    assert formats.format_date(date(2026, 8, 10)) == "2026-08-10"
    with pytest.raises(ValueError):
        formats.parse_date("10/08/2026")


def test_an_offset_zone_of_zero_is_utc():
    assert formats.zone_named("+00:00") is UTC
    assert formats.zone_named("-03:30") == timezone(-timedelta(hours=3, minutes=30))
