"""Pipeline's value formats: slash timestamps in the account's zone, money strings (reference 1.6)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sandbox.crm.formats import cents, crm_timestamp, decimal_string, parse_moment
from tests.sandbox.crm.conftest import Crm


def test_timestamps_use_slashes_and_the_account_offset_with_daylight_saving(crm: Crm) -> None:
    crm.set_clock("2026-01-15T15:00:00+00:00")
    winter = crm.person(full_name="Winter Time")
    crm.set_clock("2026-07-15T15:00:00+00:00")
    summer = crm.person(full_name="Summer Time")
    assert winter["created_at"] == "2026/01/15 10:00:00 -0500"
    assert summer["created_at"] == "2026/07/15 11:00:00 -0400"


def test_another_account_time_zone_changes_the_shown_offset_and_condition_days() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    moment = datetime(2026, 1, 15, 23, 30, tzinfo=UTC)
    assert crm_timestamp(moment, berlin) == "2026/01/16 00:30:00 +0100"
    assert parse_moment("2026-01-16", berlin, end_of_day=False) == datetime(
        2026, 1, 15, 23, 0, tzinfo=UTC
    )
    assert parse_moment("2026-01-16", berlin, end_of_day=True) == datetime(
        2026, 1, 16, 22, 59, 59, tzinfo=UTC
    )
    assert parse_moment("2024/05/31 10:14:59 -0400", berlin, end_of_day=False) == datetime(
        2024, 5, 31, 14, 14, 59, tzinfo=UTC
    )


def test_deal_value_is_a_decimal_string_with_value_in_cents(crm: Crm) -> None:
    cases = {5000: ("5000.0", 500000), "1234.5": ("1234.5", 123450), "99.999": ("100.0", 10000)}
    for written, (shown, in_cents) in cases.items():
        deal = crm.deal("Valued", value=written)
        assert (deal["value"], deal["value_in_cents"]) == (shown, in_cents)
    assert crm.deal("Unvalued")["value"] is None
    bad = crm.api.post("/deals.json", json={"deal": {"name": "x", "value": "lots"}})
    assert bad.status_code == 422 and bad.json()[0]["field"] == "value"


def test_money_helpers_print_like_rails_big_decimal() -> None:
    assert [decimal_string(Decimal(v)) for v in ("5000", "5000.50", "0.10")] == [
        "5000.0",
        "5000.5",
        "0.1",
    ]
    assert cents(Decimal("12.34")) == 1234
