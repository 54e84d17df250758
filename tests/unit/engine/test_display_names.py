"""DisplayName clashes (SYNC-RULES 6, QBO 6240): a deterministic suffix, never a failure."""

from __future__ import annotations

import pytest

from engine.names import (
    MAX_DISPLAY_NAME,
    clean_display_name,
    disambiguated_display_name,
    display_name_candidate,
)


@pytest.mark.parametrize(
    ("name", "attempt", "expected"),
    [
        ("Jane Smith", 0, "Jane Smith"),
        ("Jane Smith", 1, "Jane Smith (CRM 4211)"),
        ("Jane Smith", 2, "Jane Smith (CRM 4211-2)"),
        ("Jane Smith", 7, "Jane Smith (CRM 4211-7)"),
        ("  Acme:  West\tCoast\n", 1, "Acme West Coast (CRM 4211)"),
        ("", 0, "CRM person 4211"),
        (None, 1, "CRM person 4211 (CRM 4211)"),
    ],
    ids=[
        "first-try-is-the-name",
        "suffix-with-person-id",
        "then-numbered",
        "numbered-stays-stable",
        "colon-tab-newline-never-sent",
        "blank-name",
        "none-name",
    ],
)
def test_a_clashing_display_name_gets_a_deterministic_suffix(name, attempt, expected):
    assert display_name_candidate(name, 4211, attempt) == expected


def test_a_display_name_with_suffix_never_exceeds_500_characters():
    long = "x" * 600
    for attempt in (0, 1, 2, 123):
        candidate = display_name_candidate(long, 4211, attempt)
        assert len(candidate) <= MAX_DISPLAY_NAME
        assert ":" not in candidate
    assert display_name_candidate(long, 4211, 1).endswith(" (CRM 4211)")
    assert len(clean_display_name(long, 1)) == MAX_DISPLAY_NAME


@pytest.mark.parametrize(
    ("taken", "expected"),
    [
        ((), "Jane Smith (CRM 4211)"),
        (("Jane Smith",), "Jane Smith (CRM 4211)"),
        (("jane smith (crm 4211)",), "Jane Smith (CRM 4211-2)"),
        (("Jane Smith (CRM 4211)", "Jane Smith (CRM 4211-2)"), "Jane Smith (CRM 4211-3)"),
    ],
)
def test_when_the_suffixed_name_is_taken_too_the_next_numbered_one_is_used(taken, expected):
    assert disambiguated_display_name("Jane Smith", 4211, taken) == expected


def test_a_negative_attempt_is_a_programming_error():
    with pytest.raises(ValueError):
        display_name_candidate("Jane", 1, -1)
