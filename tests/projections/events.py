"""Events for projection tests: the golden fixtures (schemas/fixtures), copied and tweaked, and a
feed that gives each event the next offset on its own topic, as Kafka would."""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from projections.db import ProjectionDb
from projections.projector import Position, Projector
from projections.tables import metadata
from schemas.catalog import parse_document
from schemas.envelope import Envelope
from schemas.topics import TOPICS

FIXTURES = Path(__file__).parents[2] / "schemas" / "fixtures"
TOPIC_OF = {name: spec.name for spec in TOPICS for name in spec.type_names}


def golden(wire_type: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{wire_type}.json").read_text())


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else copy.deepcopy(value)


def event(wire_type: str, *, data: dict[str, Any] | None = None, **envelope: Any) -> Envelope:
    """The golden event of `wire_type` with some envelope fields and some keys of `data`
    replaced (datetimes may be given as such)."""
    doc = golden(wire_type)
    doc.update({key: _json(value) for key, value in envelope.items()})
    doc["data"].update({key: _json(value) for key, value in (data or {}).items()})
    return parse_document(doc)


def qbo_customer_changed(
    customer_id: str, token: str, tenant: str = "acme-co", **entity: Any
) -> Envelope:
    """The golden QBO customer change for another customer id / SyncToken / fields."""
    wire_type = "qbsync.qbo.customer.changed.v1"
    body = golden(wire_type)["data"]["entity"] | {"Id": customer_id, "SyncToken": token, **entity}
    return event(
        wire_type,
        id=f"qbo-customer-{customer_id}-v{token}",
        tenant=tenant,
        subject=f"qbo/customer/{customer_id}",
        data={"entity": body},
    )


class Feed:
    """Applies events as a consumer reading their topics would: next offset on each topic."""

    def __init__(self, projector: Projector, cluster: str = "test-cluster") -> None:
        self.projector, self.cluster = projector, cluster
        self.next_offset: dict[str, int] = defaultdict(int)
        self.log: list[tuple[Envelope, Position]] = []

    def position_for(self, item: Envelope) -> Position:
        topic = TOPIC_OF[item.type]
        position = Position(topic, 0, self.next_offset[topic], self.cluster)
        self.next_offset[topic] += 1
        return position

    def __call__(self, *events: Envelope) -> list[bool]:
        items = [(item, self.position_for(item)) for item in events]
        self.log += items
        return self.projector.apply_batch(items)


def dump(db: ProjectionDb) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every projection table, in a stable order."""
    with db.reading() as conn:
        return {
            table.name: sorted(
                (tuple(repr(value) for value in row) for row in conn.execute(select(table))),
            )
            for table in metadata.sorted_tables
        }


def qbo_document_changed(
    document_type: str,
    qbo_id: str,
    token: str,
    op: str = "updated",
    tenant: str = "acme-co",
    **entity: Any,
) -> Envelope:
    """The golden QBO invoice/estimate change for another id / SyncToken / op / fields (a field
    given as None is removed)."""
    wire_type = f"qbsync.qbo.{document_type}.changed.v1"
    body = golden(wire_type)["data"]["entity"] | {"Id": qbo_id, "SyncToken": token, **entity}
    body = {key: value for key, value in body.items() if value is not None}
    return event(
        wire_type,
        id=f"qbo-{document_type}-{qbo_id}-v{token}-{tenant}",
        tenant=tenant,
        subject=f"qbo/{document_type}/{qbo_id}",
        data={"entity": body, "op": op},
    )


def document_created(
    qbo_id: str, document_type: str = "invoice", tenant: str = "acme-co", **data: Any
) -> Envelope:
    """A DocumentCreated for a document on a deal (not a conversion), from the golden one."""
    golden_data = golden("qbsync.decision.document.created.v1")["data"]
    snapshot = golden_data["snapshot"] | {"Id": qbo_id, "LinkedTxn": []}
    if document_type == "estimate":
        snapshot = {k: v for k, v in snapshot.items() if k != "Balance"} | {"TxnStatus": "Pending"}
    fields = {
        "document_type": document_type,
        "qbo_id": qbo_id,
        "snapshot": snapshot,
        "deal_id": 3301,
        "from_estimate_id": None,
        "estimate": None,
        "request_id": f"req-{document_type}-{qbo_id}",
        "input_id": f"out-{document_type}-{qbo_id}",
        **data,
    }
    return event(
        "qbsync.decision.document.created.v1",
        id=f"dec-created-{document_type}-{qbo_id}-{tenant}",
        tenant=tenant,
        subject=f"qbo/{document_type}/{qbo_id}",
        correlationid=fields["request_id"],
        data=fields,
    )


def invoice_request_flow(qbo_id: str = "130") -> list[Envelope]:
    """An invoice request (the golden one) applied with one command, which succeeds and
    creates invoice `qbo_id` on deal 3301 for person 4211."""
    request = event("qbsync.request.invoice.create.v1")  # req-9f00-invoice
    command = event(
        "qbsync.command.qbo.invoice.create.v1",
        data={"request_id": request.id, "from_estimate_id": None},
    )
    applied = event(
        "qbsync.decision.input.applied.v1",
        id="dec-req-applied",
        data={
            "input_id": request.id,
            "input_type": request.type,
            "command_ids": [command.id],
        },
    )
    succeeded = event(
        "qbsync.outcome.succeeded.v1",
        id="out-invoice-ok",
        data={"command_id": command.id, "command_type": command.type},
    )
    created = document_created(qbo_id, request_id=request.id, input_id=succeeded.id)
    return [request, applied, command, succeeded, created]
