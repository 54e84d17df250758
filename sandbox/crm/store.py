"""The account's records, in memory: users, companies, people, deals, webhooks, notifications.

Rows are stored as written (ids, scalars, aware UTC datetimes); everything derived (`full_name`,
`company`, `user`, `deal_ids`, totals) is computed when a row is shown (views.py), so it can never
disagree with the rows it derives from. Writes go through writes.py's rules and report each
change (person/company/deal x create/update/destroy) to `on_change` after the lock is released:
that is where webhooks start. Thread-safe: the server, its control endpoints and in-process tests
share one store.

Ids: each table counts from its own base (people from 1309860001, companies from 138552001...)
so an id used against the wrong resource 404s instead of silently hitting another record.
Deletes are hard (reference section 7, question 8): a deleted company leaves its people and
deals with `company_id` null, a deleted person leaves its deals; those rows are not touched
otherwise (no `updated_at` bump, no webhook), as a database-level nullify would do.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from sandbox.crm import errors
from sandbox.crm.clock import SandboxClock
from sandbox.crm.config import CrmSandboxConfig
from sandbox.crm.lookups import Lookups, default_lookups
from sandbox.crm.writes import WriteContext, build_company, build_deal, build_person

Row = dict[str, Any]
Model = Literal["person", "company", "deal"]
Table = Literal["person", "company", "deal", "user", "webhook", "account_notification"]
Action = Literal["create", "update", "destroy"]
MODELS: tuple[Model, ...] = ("person", "company", "deal")
ACTIONS: tuple[Action, ...] = ("create", "update", "destroy")
TABLES: tuple[Table, ...] = (*MODELS, "user", "webhook", "account_notification")
_ID_BASES: dict[Table, int] = {
    "person": 1_309_860_001,
    "company": 138_552_001,
    "deal": 55_383_001,
    "user": 843_757,
    "webhook": 102_473,
    "account_notification": 146,
}
_BUILDERS = {"person": build_person, "company": build_company, "deal": build_deal}


@dataclass(frozen=True)
class Change:
    model: Model
    action: Action
    id: int
    user_id: int


ChangeListener = Callable[[Change], None]


class CrmStore:
    def __init__(
        self, config: CrmSandboxConfig, clock: SandboxClock, lookups: Lookups | None = None
    ) -> None:
        self.config = config
        self.clock = clock
        self.lookups = lookups or default_lookups()
        # Settable after construction: the server wires the webhook dispatcher in here.
        self.on_change: ChangeListener | None = None
        self._lock = threading.RLock()
        self._pending: list[Change] = []
        self.tables: dict[Table, dict[int, Row]] = {}
        self._next: dict[Table, int] = {}
        self.reset()

    # -- housekeeping ----------------------------------------------------------------------
    def reset(self) -> None:
        """Back to a fresh account: only the configured admin user, no records, no webhooks."""
        with self._lock:
            self.tables = {table: {} for table in TABLES}
            self._next = dict(_ID_BASES)
            self._company_names: dict[str, int] = {}
            config = self.config
            self.add_user(
                config.admin_first_name,
                config.admin_last_name,
                config.admin_email,
                admin=True,
                api_key=config.admin_api_key,
            )

    @contextlib.contextmanager
    def locked(self) -> Iterator[CrmStore]:
        with self._lock:
            yield self

    def new_id(self, table: Table) -> int:
        with self._lock:
            id_ = self._next[table]
            self._next[table] = id_ + 1
            return id_

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {table: len(rows) for table, rows in self.tables.items()}

    # -- reads -----------------------------------------------------------------------------
    def get(self, table: Table, id_: int) -> Row:
        with self._lock:
            row = self.tables[table].get(id_)
        if row is None:
            raise errors.not_found()
        return row

    def find(self, table: Table, id_: int | None) -> Row | None:
        return None if id_ is None else self.tables[table].get(id_)

    def rows(self, table: Table) -> list[Row]:
        with self._lock:
            return list(self.tables[table].values())

    def company_named(self, name: str) -> int | None:
        """The oldest company with this name, ignoring case and surrounding spaces."""
        return self._company_names.get(name.strip().casefold())

    # -- raw storage (seed and writes) ----------------------------------------------------
    def put(self, table: Table, row: Row) -> Row:
        with self._lock:
            previous = self.tables[table].get(row["id"])
            self.tables[table][row["id"]] = row
            if table == "company":
                self._index_company(previous, row)
            return row

    def _index_company(self, previous: Row | None, row: Row) -> None:
        key = _name_key(row)
        if previous is not None and _name_key(previous) != key:
            self._index_company_names()  # a rename: the old name may now belong to another
        else:
            self._company_names.setdefault(key, row["id"])

    def _index_company_names(self) -> None:
        names: dict[str, int] = {}
        for row in self.tables["company"].values():
            names.setdefault(_name_key(row), row["id"])
        self._company_names = names

    # -- users -----------------------------------------------------------------------------
    def add_user(
        self, first: str, last: str, email: str, *, admin: bool, api_key: str | None = None
    ) -> Row:
        with self._lock:
            now = self.clock.now()
            user = {
                "id": self.new_id("user"),
                "first_name": first,
                "last_name": last,
                "email": email,
                "is_account_admin": admin,
                "api_key": api_key or secrets.token_urlsafe(15)[:20],
                "deleted_at": None,
                "created_at": now,
                "updated_at": now,
            }
            return self.put("user", user)

    def user_by_api_key(self, api_key: str) -> Row | None:
        with self._lock:
            for user in self.tables["user"].values():
                if secrets.compare_digest(user["api_key"], api_key):
                    return user
        return None

    # -- record writes ---------------------------------------------------------------------
    def create(self, model: Model, body: Row, actor: int, **options: Any) -> Row:
        with self._lock:
            context = WriteContext(self, actor, self.clock.now(), options)
            row = _BUILDERS[model](body, None, context)
            row["id"] = self.new_id(model)
            self.put(model, row)
            self._pending.append(Change(model, "create", row["id"], actor))
        self._announce()
        return row

    def update(self, model: Model, id_: int, body: Row, actor: int, **options: Any) -> Row:
        with self._lock:
            existing = self.get(model, id_)
            context = WriteContext(self, actor, self.clock.now(), options)
            row = _BUILDERS[model](body, existing, context)
            self.put(model, row)
            self._pending.append(Change(model, "update", id_, actor))
        self._announce()
        return row

    def destroy(self, model: Model, id_: int, actor: int) -> None:
        with self._lock:
            self.get(model, id_)
            del self.tables[model][id_]
            self._detach(model, id_)
            self._pending.append(Change(model, "destroy", id_, actor))
        self._announce()

    def record_change(self, change: Change) -> None:
        """A write made inside another (a person's `company_name` creating the company)."""
        with self._lock:
            self._pending.append(change)

    def _detach(self, model: Model, id_: int) -> None:
        if model == "company":
            self._index_company_names()
            for table in ("person", "deal"):
                for row in self.tables[table].values():
                    if row.get("company_id") == id_:
                        row["company_id"] = None
        elif model == "person":
            for deal in self.tables["deal"].values():
                if id_ in deal["person_ids"]:
                    deal["person_ids"] = [p for p in deal["person_ids"] if p != id_]
                if deal.get("primary_contact_id") == id_:
                    deal["primary_contact_id"] = None

    def _announce(self) -> None:
        with self._lock:
            changes, self._pending = self._pending, []
        if self.on_change is not None:
            for change in changes:
                self.on_change(change)


def _name_key(company: Row) -> str:
    return str(company.get("name") or "").strip().casefold()
