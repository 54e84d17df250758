"""The import's summary (SYNC-RULES 4.8, 4.9) from its plan and its items, and its readable form
(the CRM notification, the CLI)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from engine import import_plan as plans
from engine.dry_run import DryRunReport
from schemas.imports import (
    AmbiguousMatch,
    ConflictKept,
    ImportProblem,
    ImportSummary,
    SkippedCustomer,
    WouldClear,
)
from store.import_run import CompanyResult, ItemOutcome, PlannedImport


def skipped_customers(plan: plans.ImportPlan) -> tuple[SkippedCustomer, ...]:
    """Customers without an email (4.2). Inactive ones are read too, and skipped by the plan,
    but the summary's `skipped` names the no-email reason only; they are counted apart."""
    return tuple(
        SkippedCustomer(customer_id=s.customer_id, name=s.display_name)
        for s in plan.skipped
        if s.reason == "no_email"
    )


def inactive_count(plan: plans.ImportPlan) -> int:
    return sum(1 for s in plan.skipped if s.reason == "inactive")


def ambiguous_matches(plan: plans.ImportPlan) -> tuple[AmbiguousMatch, ...]:
    """One entry per email and side: `crm` = several people (the lowest id was linked), `qbo` =
    several customers, or a customer passed over because the email's only person is linked to
    another customer (`linked_id` is that customer)."""
    crm: dict[tuple[str, int | None], list[str]] = {}
    qbo: dict[tuple[str, str], list[str]] = {}
    for match in plan.ambiguous:
        if match.reason == "several_crm_people" and match.passed_over_person_id is not None:
            key = (match.email, match.linked_person_id)
            crm.setdefault(key, []).append(str(match.passed_over_person_id))
        elif match.passed_over_customer_id is not None:
            qbo.setdefault((match.email, match.linked_customer_id), []).append(
                match.passed_over_customer_id
            )
    found = [
        AmbiguousMatch(email=email, side="crm", linked_id=str(linked), other_ids=tuple(others))
        for (email, linked), others in crm.items()
    ]
    found += [
        AmbiguousMatch(email=email, side="qbo", linked_id=linked, other_ids=tuple(others))
        for (email, linked), others in qbo.items()
    ]
    return tuple(found)


def planned_import(plan: plans.ImportPlan, total: int) -> PlannedImport:
    return PlannedImport(
        total=total,
        skipped=skipped_customers(plan),
        ambiguous=ambiguous_matches(plan),
        companies=plan.companies_to_create,
    )


@dataclass(frozen=True)
class Figures:
    """What the summary counts besides the plan: items, companies, documents, time, calls."""

    customers_read: int
    invoices: int
    estimates: int
    duration_s: float
    api_calls: int


def import_summary(
    planned: PlannedImport,
    outcomes: Mapping[str, ItemOutcome],
    companies: Iterable[CompanyResult],
    figures: Figures,
) -> ImportSummary:
    done = list(outcomes.items())
    errors = [
        ImportProblem(record=f"qbo/customer/{customer_id}", reason=outcome.error or "failed")
        for customer_id, outcome in done
        if outcome.status == "failed"
    ]
    companies = list(companies)
    errors += [
        ImportProblem(record=f"crm/company/{company.name}", reason=company.error)
        for company in companies
        if company.error
    ]
    return ImportSummary(
        customers_read=figures.customers_read,
        linked_existing=sum(1 for _, o in done if o.status == "linked"),
        people_created=sum(1 for _, o in done if o.status == "created"),
        companies_created=sum(1 for company in companies if company.created),
        skipped=planned.skipped,
        ambiguous=planned.ambiguous,
        conflicts=tuple(conflict for _, o in done for conflict in o.conflicts),
        invoices_imported=figures.invoices,
        estimates_imported=figures.estimates,
        errors=tuple(errors),
        duration_s=max(0.0, figures.duration_s),
        api_calls=figures.api_calls,
    )


def dry_run_summary(
    plan: plans.ImportPlan, report: DryRunReport, figures: Figures
) -> ImportSummary:
    """4.9: what the import would do, as the same summary; `would_clear` lists the CRM fields a
    later QBO update would clear."""
    return ImportSummary(
        customers_read=figures.customers_read,
        linked_existing=len(report.would_link),
        people_created=len(report.would_create_people),
        companies_created=len(report.would_create_companies),
        skipped=skipped_customers(plan),
        ambiguous=ambiguous_matches(plan),
        conflicts=tuple(
            ConflictKept(
                person_id=c.person_id,
                customer_id=c.customer_id,
                crm_field=c.conflict.pair.crm,
                qbo_field=c.conflict.pair.qbo,
                crm_value=c.conflict.crm_value,
                qbo_value=c.conflict.qbo_value,
            )
            for c in report.conflicts
        ),
        invoices_imported=figures.invoices,
        estimates_imported=figures.estimates,
        errors=(),
        duration_s=max(0.0, figures.duration_s),
        api_calls=figures.api_calls,
        would_clear=tuple(
            WouldClear(
                person_id=c.person_id, crm_field=c.cleared.pair.crm, value=c.cleared.old_value
            )
            for c in report.later_qbo_update_would_clear
        ),
    )


# --- readable ----------------------------------------------------------------------------------

MAX_LISTED = 20


def summary_rows(summary: ImportSummary) -> list[tuple[str, str]]:
    """(label, value) rows, in the order of SYNC-RULES 4.8."""
    return [
        ("customers read", str(summary.customers_read)),
        ("linked to existing people", str(summary.linked_existing)),
        ("people created", str(summary.people_created)),
        ("companies created", str(summary.companies_created)),
        ("skipped (no email)", str(len(summary.skipped))),
        ("ambiguous matches", str(len(summary.ambiguous))),
        ("conflicts kept", str(len(summary.conflicts))),
        ("invoices imported", str(summary.invoices_imported)),
        ("estimates imported", str(summary.estimates_imported)),
        ("errors", str(len(summary.errors))),
        ("time taken", f"{summary.duration_s:.1f} s"),
        ("API calls used", str(summary.api_calls)),
    ]


def summary_lists(summary: ImportSummary) -> list[tuple[str, list[str]]]:
    """(title, lines) of every non-empty list: who was skipped, ambiguous, in conflict, ..."""
    lists = [
        (
            "Skipped (no email)",
            [f"{s.name or '(no name)'} (QBO customer {s.customer_id})" for s in summary.skipped],
        ),
        (
            "Ambiguous matches",
            [
                f"{a.email}: linked {'person' if a.side == 'crm' else 'customer'} {a.linked_id}, "
                f"not {', '.join(a.other_ids)}"
                for a in summary.ambiguous
            ],
        ),
        (
            "Conflicts (the CRM value was kept)",
            [
                f"person {c.person_id} {c.crm_field}: kept {c.crm_value!r}, QBO has {c.qbo_value!r}"
                for c in summary.conflicts
            ],
        ),
        ("Errors", [f"{e.record or 'import'}: {e.reason}" for e in summary.errors]),
        (
            "A later QBO update would clear",
            [f"person {w.person_id} {w.crm_field} ({w.value!r})" for w in summary.would_clear],
        ),
    ]
    names = ("skipped", "ambiguous", "conflicts", "errors", "would_clear")
    for (_title, lines), name in zip(lists, names, strict=True):
        if summary.omitted.get(name):  # cut to fit one event: the import run keeps them all
            lines.append(f"… and {summary.omitted[name]} more not carried in this summary")
    return [(title, lines) for title, lines in lists if lines]


def summary_text(summary: ImportSummary, *, dry_run: bool = False, limit: int = MAX_LISTED) -> str:
    """The summary as plain text: the figures, then the lists (at most `limit` lines each)."""
    head = "Dry run: nothing was written." if dry_run else "The QuickBooks import finished."
    lines = [head, *(f"{label}: {value}" for label, value in summary_rows(summary))]
    for title, listed in summary_lists(summary):
        more = [f"  … and {len(listed) - limit} more"] if len(listed) > limit else []
        lines += ["", f"{title}:", *(f"  {line}" for line in listed[:limit]), *more]
    return "\n".join(lines)
