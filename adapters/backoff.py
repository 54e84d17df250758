"""Retry delays shared by the QBO and CRM clients."""

from __future__ import annotations

import random


def jittered_backoff_s(attempt: int, base_s: float, max_s: float, rng: random.Random) -> float:
    """Exponential with 'equal jitter': never zero, and concurrent retries spread out."""
    ceiling = min(max_s, base_s * 2.0**attempt)
    return ceiling / 2 + rng.uniform(0, ceiling / 2)
