"""DisplayName clashes (SYNC-RULES 6, QBO error 6240): a deterministic suffix, never a failure.

QBO display names are unique across customers, vendors and employees. When the person's name is
taken, the customer is created as `"<name> (CRM <person id>)"`: the person id makes the name
unique among our own customers and tells a bookkeeper where the record came from.

Decisions where the rules are silent:
- If that is taken too (someone typed it in QBO), `"<name> (CRM <id>-2)"`, `-3`, ... in order:
  the n-th retry after a 6240 always asks for the same name, so a retried command is stable.
- QBO refuses `:` (it separates sub-customers), tabs and newlines in a DisplayName: each run of
  them becomes one space. Whitespace is collapsed and trimmed; a blank name becomes
  `"CRM person <id>"`.
- At most 500 characters: the name is cut (and re-trimmed) so that the suffix always fits.
- `taken` is compared case-insensitively: QBO's uniqueness check ignores case.
"""

from __future__ import annotations

import re
from collections.abc import Collection

MAX_DISPLAY_NAME = 500
_REFUSED = re.compile(r"[:\t\r\n\s]+")


def clean_display_name(name: str | None, person_id: int) -> str:
    """A name QBO accepts as DisplayName: no `:`/tab/newline, ≤ 500 characters, never blank."""
    cleaned = _REFUSED.sub(" ", name or "").strip()
    return (cleaned or f"CRM person {person_id}")[:MAX_DISPLAY_NAME].rstrip()


def display_name_candidate(name: str | None, person_id: int, attempt: int) -> str:
    """Attempt 0 is the name itself, 1 adds `(CRM <id>)`, n ≥ 2 adds `(CRM <id>-n)`."""
    if attempt < 0:
        raise ValueError("attempt counts from 0")
    base = clean_display_name(name, person_id)
    if attempt == 0:
        return base
    suffix = f" (CRM {person_id})" if attempt == 1 else f" (CRM {person_id}-{attempt})"
    return base[: MAX_DISPLAY_NAME - len(suffix)].rstrip() + suffix


def disambiguated_display_name(name: str | None, person_id: int, taken: Collection[str]) -> str:
    """Rule 6: the first suffixed candidate not in `taken` (the names QBO said are in use)."""
    used = {existing.casefold() for existing in taken}
    attempt = 1
    while (candidate := display_name_candidate(name, person_id, attempt)).casefold() in used:
        attempt += 1
    return candidate
