"""What an import will do, as data: the plan `engine.matching.plan_import` returns (SYNC-RULES 4).

The dry run (4.9) prints it, the import executes it, the summary (4.8) counts it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from engine.companies import CompanyChoice
from schemas.commands import FieldValues
from schemas.common import FrozenModel

SkipReason = Literal["no_email", "inactive"]
AmbiguityReason = Literal["several_crm_people", "several_qbo_customers", "person_linked_elsewhere"]


class PlannedLink(FrozenModel):
    customer_id: str
    person_id: int
    email: str


class PlannedPerson(FrozenModel):
    customer_id: str
    email: str
    fields: FieldValues


class ExistingLink(FrozenModel):
    customer_id: str
    person_id: int


class SkippedCustomer(FrozenModel):
    customer_id: str
    display_name: str | None
    reason: SkipReason


class AmbiguousMatch(FrozenModel):
    """A customer or person passed over for an email, and where that email went instead."""

    reason: AmbiguityReason
    email: str
    passed_over_customer_id: str | None = None
    passed_over_person_id: int | None = None
    linked_customer_id: str
    linked_person_id: int | None = None  # None: that customer gets a new person


class ImportPlan(FrozenModel):
    links: tuple[PlannedLink, ...] = ()
    creates: tuple[PlannedPerson, ...] = ()
    already_linked: tuple[ExistingLink, ...] = ()
    skipped: tuple[SkippedCustomer, ...] = ()
    ambiguous: tuple[AmbiguousMatch, ...] = ()
    companies: dict[str, CompanyChoice] = Field(default_factory=dict)
    companies_to_create: tuple[str, ...] = ()
