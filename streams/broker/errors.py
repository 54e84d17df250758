"""What the embedded broker raises."""

from __future__ import annotations

__all__ = ["BrokerError", "BrokerStartError", "PortInUseError"]


class BrokerError(RuntimeError):
    """The embedded broker failed (it could not start, or it died while serving)."""


class BrokerStartError(BrokerError):
    """The embedded broker did not become ready; the message includes the tail of its log."""


class PortInUseError(BrokerStartError):
    """The requested listener port is already taken by another process."""
