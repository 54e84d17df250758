"""The import's reads and writes of the store (synchronous: call them in a thread)."""

from __future__ import annotations

from collections.abc import Iterable

from schemas.catalog import decode, encode
from schemas.decisions import LinkMade
from schemas.envelope import Envelope
from store import QbsyncStore
from store import import_run as runs
from store.customer_index import claim_id, project_claim
from store.customer_link import record_link_decision
from store.import_run import ImportItem, ItemOutcome, import_item_id, project_import_item
from store.outbox import record_outputs


def outbox_key(request_id: str, customer_id: str) -> str:
    return f"import-link:{request_id}:{customer_id}"


def load_links(store: QbsyncStore, tenant: str, customer_ids: Iterable[str]) -> dict[str, int]:
    """Existing links, QBO customer id → CRM person id, from the store's customer index (one
    read per customer; an ended link has released its customer)."""
    links: dict[str, int] = {}
    for customer_id in customer_ids:
        claim = store.load(claim_id(tenant, customer_id), project_claim)
        if claim is not None and claim.person_id is not None:
            links[customer_id] = claim.person_id
    return links


def load_items(
    store: QbsyncStore, tenant: str, request_id: str, customer_ids: Iterable[str]
) -> dict[str, ImportItem]:
    """What earlier attempts of this run planned or did, per customer."""
    items: dict[str, ImportItem] = {}
    for customer_id in customer_ids:
        item = store.load(import_item_id(tenant, request_id, customer_id), project_import_item)
        if item is not None:
            items[customer_id] = item
    return items


def record_link(
    store: QbsyncStore,
    item: ImportItem | None,
    decision: LinkMade,
    outcome: ItemOutcome,
) -> runs.ItemDone:
    """The link, the item's outcome and the outbox holding the decision, in one transaction.
    Raises CustomerAlreadyLinked / InvalidTransition when someone linked either side meanwhile
    (nothing is written then)."""
    tenant, request_id = decision.tenant, decision.data.import_request_id or ""
    customer_id = decision.data.customer_id
    link_event = record_link_decision(store.link(tenant, decision.data.person_id), decision)
    done = runs.finish_item(item, tenant, request_id, customer_id, outcome)
    box = record_outputs(tenant, outbox_key(request_id, customer_id), (encode(decision).decode(),))
    store.record(link_event, done, box)
    return done


def recorded_outputs(
    store: QbsyncStore, tenant: str, request_id: str, customer_id: str
) -> list[Envelope]:
    box = store.outbox(tenant, outbox_key(request_id, customer_id))
    return [decode(text) for text in box.outputs] if box else []
