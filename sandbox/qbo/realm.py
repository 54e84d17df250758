"""One QBO company's data: entities, tombstones, indexes and counters.

Records are never mutated in place: a write stores a new dict. Readers (queries, CDC, the API)
can therefore hand out the stored dicts without copying, which keeps 10,000-customer queries fast.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox.qbo import faults
from sandbox.qbo.changes import EntityName
from sandbox.qbo.entities import SPECS

Record = dict[str, Any]


def _per_entity() -> dict[EntityName, dict[str, Any]]:
    return {name: {} for name in SPECS}


def name_key(name: str) -> str:
    """Names clash case-insensitively and regardless of surrounding blanks (an assumption:
    QBO does not document it, see reference section 3.1)."""
    return " ".join(name.split()).casefold()


@dataclass
class RealmState:
    realm_id: str
    company_name: str
    created: datetime
    records: dict[EntityName, dict[str, Record]] = field(default_factory=_per_entity)
    # When each record last changed, to the microsecond: CDC compares against this rather than
    # the whole-second MetaData, so a change made in the same second as a CDC call is not lost.
    changed_at: dict[EntityName, dict[str, datetime]] = field(default_factory=_per_entity)
    tombstones: dict[EntityName, dict[str, datetime]] = field(default_factory=_per_entity)
    names: dict[EntityName, dict[str, str]] = field(default_factory=_per_entity)
    next_id: int = 1
    next_address_id: int = 1
    doc_numbers: dict[EntityName, int] = field(default_factory=dict)
    # requestid -> (HTTP status, body) of the first answer (reference section 1, "requestid").
    replays: dict[str, tuple[int, Any]] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)

    def new_id(self) -> str:
        id_ = str(self.next_id)
        self.next_id += 1
        return id_

    def new_address_id(self) -> str:
        # Addresses have their own id sequence in QBO; they never collide with entity ids.
        id_ = str(self.next_address_id)
        self.next_address_id += 1
        return id_

    def next_doc_number(self, entity: EntityName) -> str:
        number = self.doc_numbers.get(entity, 1001)
        self.doc_numbers[entity] = number + 1
        return str(number)

    def get(self, entity: EntityName, id_: str) -> Record | None:
        return self.records[entity].get(id_)

    def require(self, entity: EntityName, id_: str) -> Record:
        record = self.records[entity].get(id_)
        if record is None:
            raise faults.not_found(entity, id_)
        return record

    def all(self, entity: EntityName) -> list[Record]:
        return list(self.records[entity].values())

    def put(self, entity: EntityName, record: Record, at: datetime) -> None:
        id_ = record["Id"]
        name_field = SPECS[entity].unique_name
        if name_field is not None:
            previous = self.records[entity].get(id_)
            if previous is not None:
                self.names[entity].pop(name_key(previous[name_field]), None)
            self.names[entity][name_key(record[name_field])] = id_
        self.records[entity][id_] = record
        self.changed_at[entity][id_] = at

    def remove(self, entity: EntityName, id_: str, at: datetime) -> None:
        record = self.records[entity].pop(id_)
        self.changed_at[entity].pop(id_, None)
        name_field = SPECS[entity].unique_name
        if name_field is not None:
            self.names[entity].pop(name_key(record[name_field]), None)
        self.tombstones[entity][id_] = at

    def name_owner(self, entity: EntityName, name: str) -> str | None:
        return self.names[entity].get(name_key(name))

    def counts(self) -> dict[str, Any]:
        return {
            "entities": {name: len(records) for name, records in self.records.items()},
            "active": {
                name: sum(1 for r in self.records[name].values() if r.get("Active", True))
                for name in ("Customer", "Item")
            },
            "deleted": {name: len(dead) for name, dead in self.tombstones.items()},
            "requests": dict(self.requests),
        }

    def company_info(self, now: str) -> Record:
        created = self.created.replace(microsecond=0).isoformat()
        return {
            "Id": "1",
            "SyncToken": "0",
            "domain": "QBO",
            "sparse": False,
            "CompanyName": self.company_name,
            "LegalName": self.company_name,
            "CompanyAddr": {
                "Id": "1",
                "Line1": "123 Sierra Way",
                "City": "San Pablo",
                "CountrySubDivisionCode": "CA",
                "PostalCode": "87999",
                "Country": "USA",
            },
            "Country": "US",
            "Email": {"Address": "noreply@quickbooks.com"},
            "FiscalYearStartMonth": "January",
            "SupportedLanguages": "en",
            "CompanyStartDate": self.created.date().isoformat(),
            "NameValue": [{"Name": "OfferingSku", "Value": "QuickBooks Online Plus"}],
            "MetaData": {"CreateTime": created, "LastUpdatedTime": now},
        }
