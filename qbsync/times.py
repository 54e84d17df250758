"""Times given on the command line: one reading for every command."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_utc(text: str) -> datetime | None:
    """An ISO 8601 / RFC 3339 date or date-time (a date alone is its midnight; `Z` is UTC); one
    without an offset is UTC. None when it is not a time: the caller names its option."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
