"""Deterministic ids: the same cause and action give the same id, across crashes and retries."""

from __future__ import annotations

import uuid

# Fixed namespace for every id qbsync derives; changing it would break dedupe across versions.
QBSYNC_NAMESPACE = uuid.UUID("6f1c3c52-6a0e-4d6b-9a51-4f3a0c7e2b19")


def derived_id(cause_id: str, action: str) -> str:
    """uuid5 of cause id and action, e.g. (event id, "decision") or (request id, "create")."""
    return str(uuid.uuid5(QBSYNC_NAMESPACE, f"{cause_id}\x1f{action}"))
