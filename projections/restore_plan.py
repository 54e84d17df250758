"""Planning a restore (issue 7): which people, and which mapped fields go back to what.

The scope is one record (a person, or a customer: its linked person), or every record one QBO
change or one import touched (their history names it as the cause). For each person the values
at T are the CRM record as the CRM last reported it at or before T (the history's `as_of`), for
the mapped fields in force; the plan lists each field whose current value differs (all of them,
named ones, or only those emptied since T: engine/restore.py, `fields_to_restore`). A dry run
stops here; otherwise each person's values become one `RestoreRequested`, and the engine decides
what to write (engine/restore.py): the plan shows intent, the engine's rules have the last word.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, select

from engine.ids import derived_id
from engine.restore import FieldFilter, FieldRestore, fields_to_restore
from projections.history import DEFAULT_MAPPING
from projections.history_queries import records_caused_by, reported_record
from projections.tables import history_mappings, links
from schemas.requests import Actor, RestoreRequested, RestoreRequestedData
from schemas.settings import FieldPair

Scope = Literal["record", "qbo_change", "import"]


@dataclass
class PersonRestore:
    person_id: int
    customer_id: str | None
    values: dict[str, str | None] = field(default_factory=dict)  # the fields to put back
    changes: list[FieldRestore] = field(default_factory=list)  # the same, with today's values
    skipped: str | None = None  # why this person gets no request


@dataclass
class RestorePlan:
    tenant: str
    scope: Scope
    scope_id: str
    as_of: datetime
    people: list[PersonRestore]
    problem: str | None = None  # why there is nothing to plan at all

    @property
    def to_request(self) -> list[PersonRestore]:
        return [p for p in self.people if p.skipped is None and p.changes]

    def as_json(self) -> dict[str, Any]:
        """The plan as the CLI prints it and the HTTP API answers it."""
        return {
            "tenant": self.tenant,
            "scope": self.scope,
            "scope_id": self.scope_id,
            "as_of": self.as_of.isoformat(),
            "problem": self.problem,
            "people": [
                {
                    "person_id": person.person_id,
                    "customer_id": person.customer_id,
                    "skipped": person.skipped,
                    "changes": [
                        {"field": c.field, "now": c.now, "restored": c.restored}
                        for c in person.changes
                    ],
                }
                for person in self.people
            ],
        }


def _mapping(conn: Connection, tenant: str) -> tuple[FieldPair, ...]:
    row = conn.execute(
        select(history_mappings.c.field_mapping).where(history_mappings.c.tenant == tenant)
    ).first()
    if row is None:
        return tuple(DEFAULT_MAPPING)
    return tuple(FieldPair.model_validate(pair) for pair in row.field_mapping)


def _linked_person(conn: Connection, tenant: str, customer_id: str) -> int | None:
    row = conn.execute(
        select(links.c.person_id)
        .where(links.c.tenant == tenant, links.c.customer_id == customer_id)
        .order_by(links.c.status)  # active before ended/inactive
    ).first()
    return None if row is None else int(row.person_id)


def _link_of(
    conn: Connection, tenant: str, person_id: int
) -> tuple[str | None, dict[str, Any] | None]:
    """The person's customer and CRM record as the engine knows them (its own writes included,
    which the CRM's report of them may not have brought back yet)."""
    row = conn.execute(
        select(links.c.customer_id, links.c.crm).where(
            links.c.tenant == tenant, links.c.person_id == person_id
        )
    ).first()
    return (None, None) if row is None else (str(row.customer_id), row.crm)


def _people(conn: Connection, tenant: str, scope: Scope, scope_id: str) -> list[int]:
    if scope == "record":
        kind, _, record_id = scope_id.partition("/")
        if kind == "person" and record_id.isdigit():
            return [int(record_id)]
        if kind == "customer" and record_id.isdigit():
            person = _linked_person(conn, tenant, record_id)
            return [] if person is None else [person]
        raise ValueError(f"record {scope_id!r}: expected person/ID or customer/ID")
    people: set[int] = set()
    for kind, record_id in records_caused_by(conn, tenant, scope_id):
        if kind == "person":
            people.add(int(record_id))
        elif kind == "customer" and (person := _linked_person(conn, tenant, record_id)):
            people.add(person)
    return sorted(people)


def _person(
    conn: Connection,
    tenant: str,
    person_id: int,
    as_of: datetime,
    mapping: tuple[FieldPair, ...],
    only: FieldFilter,
) -> PersonRestore:
    customer_id, engine_record = _link_of(conn, tenant, person_id)
    plan = PersonRestore(person_id=person_id, customer_id=customer_id)
    then = reported_record(conn, tenant, "person", str(person_id), as_of)
    now = reported_record(conn, tenant, "person", str(person_id))
    if then is None or then.record is None:
        plan.skipped = f"the history holds no CRM record of person {person_id} at {as_of}"
        return plan
    if now is None or now.deleted:
        plan.skipped = f"person {person_id} is deleted in the CRM"
        return plan
    today = engine_record or now.record or {}
    plan.changes = list(fields_to_restore(then.record, today, mapping, only))
    plan.values = {change.field: change.restored for change in plan.changes}
    if plan.customer_id is None:
        plan.skipped = f"person {person_id} is not linked to a QBO customer"
    return plan


def plan_restore(
    conn: Connection,
    tenant: str,
    scope: Scope,
    scope_id: str,
    as_of: datetime,
    only: FieldFilter | None = None,
) -> RestorePlan:
    """What a restore of `scope` to `as_of` would put back, person by person."""
    only = only or FieldFilter()
    mapping = _mapping(conn, tenant)
    people = _people(conn, tenant, scope, scope_id)
    plan = RestorePlan(tenant=tenant, scope=scope, scope_id=scope_id, as_of=as_of, people=[])
    if not people:
        plan.problem = f"the history of tenant {tenant!r} has no person touched by {scope_id!r}"
        return plan
    plan.people = [_person(conn, tenant, person, as_of, mapping, only) for person in people]
    return plan


def requests_for(
    plan: RestorePlan, actor: Actor, restore_id: str, source: str, now: datetime
) -> list[RestoreRequested]:
    """One request per person with something to put back. Ids derive from the restore id and
    the person, so sending the same restore again (a retry) is the same requests, which the
    engine takes once."""
    return [
        RestoreRequested(
            id=derived_id(restore_id, f"restore-person-{person.person_id}"),
            source=source,
            subject=f"crm/person/{person.person_id}",
            time=now,
            tenant=plan.tenant,
            correlationid=restore_id,
            data=RestoreRequestedData(
                actor=actor,
                person_id=person.person_id,
                as_of=plan.as_of,
                values=person.values,
                restore_id=restore_id,
                scope=plan.scope,
                scope_id=plan.scope_id,
            ),
        )
        for person in plan.to_request
    ]
