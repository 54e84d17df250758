"""A realistic company for a sandbox realm: the messy data a sync engine meets in real books.

Customers with and without email, emails shared by several customers (households, a company's
accounts mailbox), look-alike names ("John Smith", "John Smith 2", "Jon Smith"), company
names, inactive records; items; invoices open, partly paid, paid, voided and emailed; estimates
pending, accepted, rejected, and closed by the invoice made from them.

Deterministic for a given rng seed. Records go through the same builders as API writes (so they
look exactly like API-made ones) but are stamped with past times and not announced to webhooks:
all seeded history ends 31 days before now, outside QBO's CDC window, so CDC and webhooks show
only what happens after seeding. 10,000 customers and 30,000 documents take a few seconds.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sandbox.qbo import transactions
from sandbox.qbo.changes import EntityName
from sandbox.qbo.entities import stamp, stamp_time
from sandbox.qbo.names import build_customer, build_item
from sandbox.qbo.realm import RealmState, Record
from sandbox.qbo.seed_customers import CustomerPlan, customer_plan, plan_customers
from sandbox.qbo.seed_data import ITEMS
from sandbox.qbo.store import QboStore

__all__ = ["DOCUMENTS_PER_CUSTOMER", "CustomerPlan", "customer_plan", "seed_realm"]

DOCUMENTS_PER_CUSTOMER = 3
_HISTORY = timedelta(days=400)
_QUIET = timedelta(days=31)


def seed_realm(store: QboStore, realm_id: str, customers: int, rng_seed: int) -> dict[str, int]:
    """Add `customers` customers and about three documents per customer; returns the counts."""
    with store.locked(realm_id) as realm:
        rng = random.Random(rng_seed)  # noqa: S311 - reproducible test data, not secrets
        seeder = _Seeder(realm, rng, store.clock.now_precise())
        seeder.seed(customers)
        return {name: len(records) for name, records in realm.records.items()}


class _Seeder:
    def __init__(self, realm: RealmState, rng: random.Random, now: datetime) -> None:
        self.realm = realm
        self.rng = rng
        self.start = now - _HISTORY
        self.end = now - _QUIET
        self.items: list[Record] = []
        self.suffixes: dict[str, int] = {}

    def seed(self, customers: int) -> None:
        middle = self.start + (self.end - self.start) / 2
        self._items()
        people = [
            self._customer(plan, self._time(plan.index, customers, self.start, middle))
            for plan in plan_customers(self.rng, customers)
        ]
        documents = customers * DOCUMENTS_PER_CUSTOMER
        for i in range(documents):
            at = self._time(i, documents, middle, self.end)
            self._document(self.rng.choice(people), at)
        # Deactivated last: QBO refuses new documents for inactive customers.
        for customer in people:
            if self.rng.random() < 0.05:
                self._revise("Customer", customer["Id"], {"Active": False}, self.end)

    def _items(self) -> None:
        for index, (name, price) in enumerate(ITEMS):
            existing = self.realm.name_owner("Item", name)
            if existing is not None:  # seeding twice, or over items a test made
                self.items.append(self.realm.require("Item", existing))
                continue
            fields = {"Name": name, "Type": "Service", "UnitPrice": price}
            item = build_item(fields, None, self.realm)
            self.items.append(self._put("Item", item, self.start + timedelta(minutes=index)))

    # -- customers ---------------------------------------------------------------------------

    def _customer(self, plan: CustomerPlan, at: datetime) -> Record:
        fields: dict[str, Any] = {"GivenName": plan.given_name, "FamilyName": plan.family_name}
        fields["DisplayName"] = self._unique(f"{plan.given_name} {plan.family_name}")
        if plan.company_name is not None:
            fields["CompanyName"] = plan.company_name
        if plan.email is not None:
            fields["PrimaryEmailAddr"] = {"Address": plan.email}
        if plan.phone is not None:
            fields["PrimaryPhone"] = {"FreeFormNumber": plan.phone}
        if plan.address is not None:
            fields["BillAddr"] = plan.address.as_qbo()
        return self._put("Customer", build_customer(fields, None, self.realm), at)

    def _unique(self, name: str) -> str:
        count = self.suffixes.get(name, 0) + 1
        self.suffixes[name] = count
        candidate = name if count == 1 else f"{name} {count}"
        while self.realm.name_owner("Customer", candidate) is not None:
            count += 1
            candidate = f"{name} {count}"
        self.suffixes[name] = count
        return candidate

    # -- documents ---------------------------------------------------------------------------

    def _document(self, customer: Record, at: datetime) -> None:
        rng = self.rng
        lines = []
        for _ in range(rng.randint(1, 3)):
            item = rng.choice(self.items)
            lines.append(
                {
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": item["Id"]},
                        "Qty": rng.randint(1, 10),
                        "UnitPrice": item["UnitPrice"],
                    },
                }
            )
        fields: dict[str, Any] = {
            "CustomerRef": {"value": customer["Id"]},
            "Line": lines,
            "TxnDate": at.date().isoformat(),
        }
        if "PrimaryEmailAddr" in customer:
            fields["BillEmail"] = customer["PrimaryEmailAddr"]
        if rng.random() < 0.35:
            self._estimate(fields, at)
        else:
            self._invoice(fields, at)

    def _invoice(self, fields: dict[str, Any], at: datetime) -> Record:
        fields = {**fields, "DueDate": (at + timedelta(days=30)).date().isoformat()}
        invoice = self._put("Invoice", self._sales("Invoice", fields, at), at)
        later = min(at + timedelta(days=self.rng.randint(1, 20)), self.end)
        state = self.rng.random()
        if state < 0.15 and "BillEmail" in invoice:
            return self._replace(
                "Invoice", transactions.sent(invoice, None, stamp_time(later)), later
            )
        if state < 0.30:
            paid = round(invoice["TotalAmt"] * self.rng.uniform(0.2, 0.8), 2)
            return self._revise(
                "Invoice", invoice["Id"], {"Balance": round(invoice["TotalAmt"] - paid, 2)}, later
            )
        if state < 0.60:
            return self._revise("Invoice", invoice["Id"], {"Balance": 0.0}, later)
        if state < 0.65:
            return self._replace("Invoice", transactions.voided(invoice), later)
        return invoice  # open

    def _estimate(self, fields: dict[str, Any], at: datetime) -> None:
        state = self.rng.random()
        status = "Accepted" if 0.35 <= state < 0.55 else "Rejected" if state >= 0.80 else "Pending"
        fields = {**fields, "TxnStatus": status}
        estimate = self._put("Estimate", self._sales("Estimate", fields, at), at)
        if 0.55 <= state < 0.80:
            # Closed the QBO way: an invoice made from it links back and closes it.
            later = min(at + timedelta(days=self.rng.randint(1, 10)), self.end)
            link = [{"TxnId": estimate["Id"], "TxnType": "Estimate"}]
            invoice = self._invoice({**fields, "LinkedTxn": link}, later)
            closed = transactions.closed_by(estimate, invoice["Id"])
            self._replace("Estimate", closed, later)

    def _sales(self, entity: EntityName, fields: dict[str, Any], at: datetime) -> Record:
        fields = {k: v for k, v in fields.items() if k != "TxnStatus" or entity == "Estimate"}
        return transactions.build_sales_document(entity, fields, None, self.realm, at.date())

    # -- storage -----------------------------------------------------------------------------

    def _put(self, entity: EntityName, fields: Record, at: datetime) -> Record:
        record = stamp(fields, self.realm.new_id(), 0, stamp_time(at), at)
        self.realm.put(entity, record, at)
        return record

    def _revise(
        self, entity: EntityName, id_: str, changes: dict[str, Any], at: datetime
    ) -> Record:
        return self._replace(entity, {**self.realm.require(entity, id_), **changes}, at)

    def _replace(self, entity: EntityName, record: Record, at: datetime) -> Record:
        at = min(max(at, datetime.fromisoformat(record["MetaData"]["CreateTime"])), self.end)
        fields = {k: v for k, v in record.items() if k not in ("Id", "SyncToken", "MetaData")}
        created = record["MetaData"]["CreateTime"]
        revised = stamp(fields, record["Id"], int(record["SyncToken"]) + 1, created, at)
        self.realm.put(entity, revised, at)
        return revised

    def _time(self, index: int, total: int, start: datetime, end: datetime) -> datetime:
        return start + (end - start) * (index / max(total, 1))
