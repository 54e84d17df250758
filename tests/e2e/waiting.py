"""Waiting for an effect in another system, in the end-to-end tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def eventually(probe: Callable[[], Any], ok: Callable[[Any], bool], timeout: float = 45) -> Any:
    """`probe()` again every 0.3 s until `ok` holds for its value; that value, or an
    AssertionError naming the last value after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not ok(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r} after {timeout}s")
        time.sleep(0.3)
        value = probe()
    return value
