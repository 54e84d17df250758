"""The sandbox's companies and the operations QBO offers on their entities.

Each operation takes a realm id and a request body, applies QBO's rules (names.py,
transactions.py), stores the result and reports every change to `on_change` (webhooks), after
the store lock is released. Faults are raised as `QboFault`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sandbox.qbo import faults, transactions
from sandbox.qbo.changes import EntityChange, EntityName, Operation
from sandbox.qbo.clock import SandboxClock
from sandbox.qbo.entities import (
    SPECS,
    check_sync_token,
    require_id,
    sparse_merge,
    stamp,
    stamp_time,
    unsupported,
    writable,
)
from sandbox.qbo.locking import Locked, Mutation
from sandbox.qbo.names import build_customer, build_item
from sandbox.qbo.realm import RealmState, Record

log = logging.getLogger(__name__)

ChangeListener = Callable[[EntityChange], None]


class QboStore:
    def __init__(self, clock: SandboxClock, on_change: ChangeListener | None = None) -> None:
        self.clock = clock
        # Settable after construction: the server wires the webhook notifier in here.
        self.on_change = on_change
        self._lock = threading.RLock()
        self._realms: dict[str, RealmState] = {}
        self._pending: list[EntityChange] = []

    # -- companies -------------------------------------------------------------------------

    def add_realm(self, realm_id: str, company_name: str) -> RealmState:
        with self._lock:
            state = RealmState(realm_id, company_name, created=self.clock.now())
            self._realms[realm_id] = state
            return state

    def reset_realm(self, realm_id: str) -> None:
        """Forget every entity, tombstone, counter and replay of the company."""
        with self._lock:
            self.add_realm(realm_id, self.realm(realm_id).company_name)

    def realm_ids(self) -> list[str]:
        with self._lock:
            return list(self._realms)

    def has_realm(self, realm_id: str) -> bool:
        with self._lock:
            return realm_id in self._realms

    def realm(self, realm_id: str) -> RealmState:
        state = self._realms.get(realm_id)
        if state is None:
            raise faults.authorization_failed(f"Company {realm_id} does not exist in the sandbox")
        return state

    def locked(self, realm_id: str) -> Locked:
        """`with store.locked(id) as realm:` the company's state, under the store lock."""
        return Locked(self._lock, lambda: self.realm(realm_id))

    # -- entity operations -----------------------------------------------------------------

    def read(self, realm_id: str, entity: EntityName, id_: str) -> Record:
        with self._lock:
            return self.realm(realm_id).require(entity, id_)

    def create(self, realm_id: str, entity: EntityName, body: dict[str, Any]) -> Record:
        with self._mutation(realm_id) as (realm, now):
            record = self._build(realm, entity, writable(SPECS[entity], body), None, now)
            saved = stamp(record, realm.new_id(), 0, stamp_time(now), now)
            self._save(realm, entity, saved, now, "Create")
            self._close_linked_estimates(realm, entity, saved, None, now)
            return saved

    def update(self, realm_id: str, entity: EntityName, body: dict[str, Any]) -> Record:
        """Full update, or sparse with `"sparse": true` (only the given fields change)."""
        spec = SPECS[entity]
        with self._mutation(realm_id) as (realm, now):
            current = realm.require(entity, require_id(body))
            check_sync_token(spec, body, current)
            if body.get("sparse") in (True, "true"):
                fields = sparse_merge(spec, current, body)
            else:
                fields = writable(spec, body)
            saved = self._bump(current, self._build(realm, entity, fields, current, now), now)
            deactivated = spec.name_list and current.get("Active", True) and not saved["Active"]
            # QBO calls making a name-list record inactive "deleting" it, in its UI and in
            # webhooks; the record itself stays readable with Active=false.
            self._save(realm, entity, saved, now, "Delete" if deactivated else "Update")
            self._close_linked_estimates(realm, entity, saved, current, now)
            return saved

    def delete(self, realm_id: str, entity: EntityName, body: dict[str, Any]) -> Record:
        spec = SPECS[entity]
        if "delete" not in spec.operations:
            raise unsupported(
                f"Operation Delete is not supported for {entity}; make it inactive instead"
            )
        with self._mutation(realm_id) as (realm, now):
            id_ = require_id(body)
            check_sync_token(spec, body, realm.require(entity, id_))
            realm.remove(entity, id_, now)
            self._notify(realm, entity, id_, "Delete", now)
            return {"Id": id_, "status": "Deleted", "domain": "QBO"}

    def void(self, realm_id: str, entity: EntityName, body: dict[str, Any]) -> Record:
        if "void" not in SPECS[entity].operations:
            raise unsupported(f"Operation Void is not supported for {entity}")
        with self._mutation(realm_id) as (realm, now):
            current = realm.require(entity, require_id(body))
            check_sync_token(SPECS[entity], body, current)
            saved = self._bump(current, transactions.voided(current), now)
            self._save(realm, entity, saved, now, "Void")
            return saved

    def send(self, realm_id: str, entity: EntityName, id_: str, send_to: str | None) -> Record:
        if "send" not in SPECS[entity].operations:
            raise unsupported(f"Operation Send is not supported for {entity}")
        with self._mutation(realm_id) as (realm, now):
            current = realm.require(entity, id_)
            saved = self._bump(current, transactions.sent(current, send_to, stamp_time(now)), now)
            self._save(realm, entity, saved, now, "Emailed")
            return saved

    def merge_customers(self, realm_id: str, from_id: str, into_id: str) -> Record:
        """Merge customer `from_id` into `into_id`, as QBO's UI does: the documents move to the
        survivor and the merged record disappears (webhook Merge with deletedId)."""
        with self._mutation(realm_id) as (realm, now):
            if from_id == into_id:
                raise faults.invalid_request("A customer cannot be merged into itself")
            realm.require("Customer", from_id)
            survivor = realm.require("Customer", into_id)
            ref = {"value": into_id, "name": survivor["DisplayName"]}
            for entity in ("Invoice", "Estimate"):
                for doc in realm.all(entity):
                    if doc["CustomerRef"]["value"] == from_id:
                        moved = self._bump(doc, {**doc, "CustomerRef": ref}, now)
                        self._save(realm, entity, moved, now, "Update")
            realm.remove("Customer", from_id, now)
            saved = self._bump(survivor, survivor, now)
            realm.put("Customer", saved, now)
            self._notify(realm, "Customer", into_id, "Merge", now, deleted_id=from_id)
            return saved

    def receive_payment(self, realm_id: str, invoice_id: str, amount: float) -> Record:
        """A customer pays `amount` of an invoice. Payments are not simulated as entities; the
        invoice's Balance drops, as QBO shows it once a Payment is applied."""
        with self._mutation(realm_id) as (realm, now):
            invoice = realm.require("Invoice", invoice_id)
            if not 0 < amount <= invoice["Balance"]:
                raise faults.invalid_request(
                    f"Payment {amount} must be positive and at most the balance "
                    f"{invoice['Balance']}",
                    "Amount",
                )
            balance = round(invoice["Balance"] - amount, 2)
            saved = self._bump(invoice, {**invoice, "Balance": balance}, now)
            self._save(realm, "Invoice", saved, now, "Update")
            return saved

    # -- helpers ---------------------------------------------------------------------------

    def _mutation(self, realm_id: str) -> Mutation:
        locked = self.locked(realm_id)
        return Mutation(locked, self.clock, self._pending, self._emit)

    def _build(
        self,
        realm: RealmState,
        entity: EntityName,
        fields: dict[str, Any],
        current: Record | None,
        now: datetime,
    ) -> Record:
        if entity == "Customer":
            return build_customer(fields, current, realm)
        if entity == "Item":
            return build_item(fields, current, realm)
        return transactions.build_sales_document(entity, fields, current, realm, now.date())

    def _bump(self, current: Record, fields: Record, now: datetime) -> Record:
        """A new version of `current`: SyncToken + 1, LastUpdatedTime now."""
        rest = {k: v for k, v in fields.items() if k not in ("Id", "SyncToken", "MetaData")}
        sync_token = int(current["SyncToken"]) + 1
        return stamp(rest, current["Id"], sync_token, current["MetaData"]["CreateTime"], now)

    def _save(
        self, realm: RealmState, entity: EntityName, record: Record, now: datetime, op: Operation
    ) -> None:
        realm.put(entity, record, now)
        self._notify(realm, entity, record["Id"], op, now)

    def _close_linked_estimates(
        self,
        realm: RealmState,
        entity: EntityName,
        invoice: Record,
        previous: Record | None,
        now: datetime,
    ) -> None:
        if entity != "Invoice":
            return
        for estimate_id in transactions.new_estimate_links(invoice, previous):
            estimate = realm.require("Estimate", estimate_id)
            closed = transactions.closed_by(estimate, invoice["Id"])
            self._save(realm, "Estimate", self._bump(estimate, closed, now), now, "Update")

    def _notify(
        self,
        realm: RealmState,
        entity: EntityName,
        id_: str,
        op: Operation,
        now: datetime,
        deleted_id: str | None = None,
    ) -> None:
        self._pending.append(EntityChange(realm.realm_id, entity, id_, op, now, deleted_id))

    def _emit(self, changes: list[EntityChange]) -> None:
        listener = self.on_change
        if listener is None:
            return
        for change in changes:
            try:
                listener(change)
            except Exception:
                # A broken listener (webhooks) must not turn a committed write into an error.
                log.exception("change listener failed for %s", change)
