"""The import's `--dry-run` report, as data (SYNC-RULES 4.9, beyond).

The same computation as the import without any write: what would be linked, created (people
and companies), updated (already linked), skipped, ambiguous, in conflict, and which CRM fields
a later QBO update would clear (rule 5 applied to each first-import merge).
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.conflicts import Conflict
from engine.import_plan import (
    AmbiguousMatch,
    ExistingLink,
    ImportPlan,
    PlannedLink,
    PlannedPerson,
    SkippedCustomer,
)
from engine.merge import FirstImportMerge
from engine.overwrite import ClearedField
from schemas.common import FrozenModel


class LinkConflict(FrozenModel):
    customer_id: str
    person_id: int
    conflict: Conflict


class LaterClear(FrozenModel):
    customer_id: str
    person_id: int
    cleared: ClearedField


class DryRunReport(FrozenModel):
    would_link: tuple[PlannedLink, ...] = ()
    would_create_people: tuple[PlannedPerson, ...] = ()
    would_create_companies: tuple[str, ...] = ()
    would_update_linked: tuple[ExistingLink, ...] = ()
    would_skip: tuple[SkippedCustomer, ...] = ()
    ambiguous: tuple[AmbiguousMatch, ...] = ()
    conflicts: tuple[LinkConflict, ...] = ()
    later_qbo_update_would_clear: tuple[LaterClear, ...] = ()


def dry_run_report(plan: ImportPlan, merges: Mapping[str, FirstImportMerge]) -> DryRunReport:
    """Rule 4.9: `merges` holds the first-import merge of every planned link, by customer id.

    A planned link without its merge is an error, not a silently shorter report.
    """
    missing = [link.customer_id for link in plan.links if link.customer_id not in merges]
    if missing:
        raise ValueError(f"no first-import merge for customers {missing}")
    conflicts = tuple(
        LinkConflict(customer_id=link.customer_id, person_id=link.person_id, conflict=conflict)
        for link in plan.links
        for conflict in merges[link.customer_id].conflicts
    )
    clears = tuple(
        LaterClear(customer_id=link.customer_id, person_id=link.person_id, cleared=cleared)
        for link in plan.links
        for cleared in merges[link.customer_id].would_clear_later
    )
    return DryRunReport(
        would_link=plan.links,
        would_create_people=plan.creates,
        would_create_companies=plan.companies_to_create,
        would_update_linked=plan.already_linked,
        would_skip=plan.skipped,
        ambiguous=plan.ambiguous,
        conflicts=conflicts,
        later_qbo_update_would_clear=clears,
    )
