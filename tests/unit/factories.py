"""Small builders of valid events for unit tests (from the golden fixtures, tweaked per test)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from schemas.catalog import decode
from schemas.envelope import Envelope

FIXTURES = Path(__file__).parents[2] / "schemas" / "fixtures"


def fixture_doc(wire_type: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{wire_type}.json").read_text())


def event_from_fixture(wire_type: str, **envelope_updates: Any) -> Envelope:
    doc = fixture_doc(wire_type)
    doc.update(envelope_updates)
    return decode(json.dumps(doc))


def person_changed(tenant: str = "acme-co", event_id: str = "evt-1") -> Envelope:
    return event_from_fixture("qbsync.crm.person.changed.v1", tenant=tenant, id=event_id)
