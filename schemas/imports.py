"""The summary an import ends with (SYNC-RULES 4.8, 4.9): every figure is required."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from schemas.common import FrozenModel as Immutable

Count = Annotated[int, Field(ge=0)]
# At most this many entries of each list travel in an event: 10,000 customers can mean thousands
# of conflicts, and a summary must fit one Kafka message (1 MB by default).
WIRE_LIST_LIMIT = 500
LIST_FIELDS = ("skipped", "ambiguous", "conflicts", "errors", "would_clear")


class SkippedCustomer(Immutable):
    customer_id: str
    name: str | None
    reason: Literal["no_email"] = "no_email"


class AmbiguousMatch(Immutable):
    """Several records share an email: `crm` = several people (the lowest person id was linked),
    `qbo` = several customers (the lowest customer id was linked)."""

    email: str
    side: Literal["crm", "qbo"]
    linked_id: str
    other_ids: tuple[str, ...]


class ConflictKept(Immutable):
    """First import: both set and different; the CRM value was kept (SYNC-RULES 4.6)."""

    person_id: int
    customer_id: str
    crm_field: str
    qbo_field: str
    crm_value: Any
    qbo_value: Any


class ImportProblem(Immutable):
    record: str | None = Field(description="what failed, e.g. qbo/customer/42; None: the run")
    reason: str


class WouldClear(Immutable):
    """Dry run only: a CRM field a later QBO update would clear (SYNC-RULES 4.9)."""

    person_id: int
    crm_field: str
    value: Any


class ImportSummary(Immutable):
    customers_read: Count
    linked_existing: Count
    people_created: Count
    companies_created: Count
    skipped: tuple[SkippedCustomer, ...]
    ambiguous: tuple[AmbiguousMatch, ...]
    conflicts: tuple[ConflictKept, ...]
    invoices_imported: Count
    estimates_imported: Count
    errors: tuple[ImportProblem, ...]
    duration_s: float = Field(ge=0)
    api_calls: Count
    would_clear: tuple[WouldClear, ...] = ()
    omitted: dict[str, int] = Field(
        default_factory=dict,
        description="list name → entries left out of this copy (an event must fit a Kafka "
        "message; the import run in the store keeps every entry)",
    )

    def capped(self, limit: int = WIRE_LIST_LIMIT) -> ImportSummary:
        """This summary with each list cut to `limit` entries, and what was cut in `omitted`."""
        cut: dict[str, Any] = {}
        omitted = dict(self.omitted)
        for name in LIST_FIELDS:
            entries = getattr(self, name)
            if len(entries) > limit:
                cut[name] = entries[:limit]
                omitted[name] = omitted.get(name, 0) + len(entries) - limit
        return self.model_copy(update={**cut, "omitted": omitted}) if cut else self
