"""The list envelope (reference 3.1): `{"entries": [...], "pagination": {page, page_var,
per_page, pages, total}}`.

`page` is 1-based (bad or < 1 reads as 1); `per_page` defaults to, and is clamped at, the
configured cap (200; the reference leaves clamp-versus-reject open, clamping is the forgiving
guess); `pages` is at least 1 even for no rows (recorded); a page past the end is empty.
Rows come in id order, so paging is stable while nothing is inserted before the cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def _int(value: Any, default: int) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


def paginate(
    rows: Sequence[T],
    params: dict[str, Any],
    render: Callable[[T], dict[str, Any]],
    *,
    default: int,
    cap: int,
) -> dict[str, Any]:
    page = max(_int(params.get("page"), 1), 1)
    per_page = min(max(_int(params.get("per_page"), default), 1), cap)
    total = len(rows)
    start = (page - 1) * per_page
    return {
        "entries": [render(row) for row in rows[start : start + per_page]],
        "pagination": {
            "page": page,
            "page_var": "page",
            "per_page": per_page,
            "pages": max(1, -(-total // per_page)),
            "total": total,
        },
    }
