"""Read the projections. Every query is scoped to one tenant; None means "no such record"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, and_, case, exists, func, select

from engine.history import RecordKind
from projections import document_queries, history_queries
from projections.db import ProjectionDb
from projections.document_queries import ALL, DocumentFilter
from projections.history_queries import RecordHistory
from projections.models import Conflicts as ConflictSummary
from projections.models import (
    ConflictView,
    CrmPersonRecord,
    CustomerView,
    DeadLetterView,
    Decisions,
    DocumentDetail,
    DocumentPage,
    DocumentType,
    EngineState,
    FailedCommand,
    Failures,
    HealthView,
    ImportPage,
    ImportRunView,
    Lag,
    LinkCounts,
    LinkDetail,
    LinkPage,
    LinkStatus,
    LinkView,
    PendingCommand,
    PendingCommands,
    PersonView,
    QboCustomerRecord,
    RequestView,
)
from projections.request_status import request_status
from projections.tables import (
    accountings,
    commands,
    conflicts,
    crm_people,
    dead_letters,
    imports,
    inputs,
    links,
    outcomes,
    qbo_customers,
)
from schemas.requests import Actor
from schemas.topics import CRM_CHANGES, QBO_CHANGES, REQUESTS

INPUT_TOPICS = (CRM_CHANGES.name, QBO_CHANGES.name, REQUESTS.name)


class ProjectionReader:
    def __init__(self, db: ProjectionDb, clock: Callable[[], datetime] | None = None) -> None:
        self.db = db
        self._clock = clock or (lambda: datetime.now(UTC))

    # --- links and records ---------------------------------------------------------------

    def links(
        self, tenant: str, status: LinkStatus | None = None, limit: int = 50, offset: int = 0
    ) -> LinkPage:
        where = [links.c.tenant == tenant]
        if status is not None:
            where.append(links.c.status == status)
        with self.db.reading() as conn:
            total = conn.execute(select(func.count()).select_from(links).where(*where)).scalar()
            rows = conn.execute(
                select(links).where(*where).order_by(links.c.person_id).limit(limit).offset(offset)
            ).mappings()
            items = [_link(row) for row in rows]
        return LinkPage(items=items, total=total or 0, limit=limit, offset=offset)

    def link(self, tenant: str, person_id: int, recent: int = 50) -> LinkDetail | None:
        with self.db.reading() as conn:
            row = _first(conn, select(links).where(_link_of(tenant, person_id)))
            if row is None:
                return None
            notes = conn.execute(
                select(conflicts)
                .where(conflicts.c.tenant == tenant, conflicts.c.person_id == person_id)
                .order_by(conflicts.c.time.desc(), conflicts.c.decision_id, conflicts.c.seq)
                .limit(recent)
            ).mappings()
            return LinkDetail(
                **_link(row).model_dump(),
                engine=_engine(row),
                conflict_notes=[_conflict(note) for note in notes],
            )

    def customer(self, tenant: str, customer_id: str) -> CustomerView | None:
        with self.db.reading() as conn:
            link = _first(
                conn,
                select(links)
                .where(links.c.tenant == tenant, links.c.customer_id == customer_id)
                .order_by(case((links.c.status == "ended", 1), else_=0), links.c.updated_at.desc())
                .limit(1),
            )
            raw = _first(
                conn,
                select(qbo_customers).where(
                    qbo_customers.c.tenant == tenant, qbo_customers.c.customer_id == customer_id
                ),
            )
        if link is None and raw is None:
            return None
        return CustomerView(
            customer_id=customer_id,
            linked=link is not None and link["status"] != "ended",
            link=_link(link) if link is not None else None,
            engine=_engine(link) if link is not None else None,
            latest_qbo=_qbo_record(raw) if raw is not None else None,
        )

    def person(self, tenant: str, person_id: int) -> PersonView | None:
        with self.db.reading() as conn:
            link = _first(conn, select(links).where(_link_of(tenant, person_id)))
            raw = _first(
                conn,
                select(crm_people).where(
                    crm_people.c.tenant == tenant, crm_people.c.person_id == person_id
                ),
            )
        if link is None and raw is None:
            return None
        return PersonView(
            person_id=person_id,
            linked=link is not None and link["status"] != "ended",
            link=_link(link) if link is not None else None,
            engine=_engine(link) if link is not None else None,
            latest_crm=_crm_record(raw) if raw is not None else None,
        )

    # --- imports -------------------------------------------------------------------------

    def imports(self, tenant: str, limit: int = 50, offset: int = 0) -> ImportPage:
        mine = imports.c.tenant == tenant
        with self.db.reading() as conn:
            total = conn.execute(select(func.count()).select_from(imports).where(mine)).scalar()
            rows = conn.execute(
                select(imports)
                .where(mine)
                .order_by(imports.c.started_at.desc().nulls_last(), imports.c.request_id)
                .limit(limit)
                .offset(offset)
            ).mappings()
            items = [_import(row) for row in rows]
        return ImportPage(items=items, total=total or 0, limit=limit, offset=offset)

    def import_run(self, tenant: str, request_id: str) -> ImportRunView | None:
        with self.db.reading() as conn:
            row = _first(
                conn,
                select(imports).where(
                    imports.c.tenant == tenant, imports.c.request_id == request_id
                ),
            )
        return _import(row) if row is not None else None

    # --- documents and requests (SYNC-RULES 3 and 6) ----------------------------------------

    def person_documents(
        self, tenant: str, person_id: int, viewer: Actor, only: DocumentFilter = ALL
    ) -> DocumentPage:
        """Documents of a CRM person (see projections/document_queries.py for whose a document
        is) that `viewer` may see."""
        return self._documents(
            tenant, viewer, only, lambda d: d.c.attributed_person_id == person_id
        )

    def company_documents(
        self, tenant: str, company_id: int, viewer: Actor, only: DocumentFilter = ALL
    ) -> DocumentPage:
        return self._documents(
            tenant, viewer, only, lambda d: d.c.attributed_company_id == company_id
        )

    def deal_documents(
        self, tenant: str, deal_id: int, viewer: Actor, only: DocumentFilter = ALL
    ) -> DocumentPage:
        return self._documents(tenant, viewer, only, lambda d: d.c.deal_id == deal_id)

    def document(
        self, tenant: str, document_type: DocumentType, qbo_id: str, viewer: Actor
    ) -> DocumentDetail | None:
        """One document, or None when there is none or `viewer` may not see it."""
        with self.db.reading() as conn:
            return document_queries.one(conn, tenant, document_type, qbo_id, viewer)

    def history(
        self, tenant: str, kind: RecordKind, record_id: str, as_of: datetime | None = None
    ) -> RecordHistory | None:
        """One record's timeline (issue 7); with `as_of`, as it was then."""
        with self.db.reading() as conn:
            return history_queries.record_history(conn, tenant, kind, record_id, as_of)

    def request(self, tenant: str, request_id: str) -> RequestView | None:
        with self.db.reading() as conn:
            return request_status(conn, tenant, request_id)

    def _documents(
        self, tenant: str, viewer: Actor, only: DocumentFilter, where: document_queries.Where
    ) -> DocumentPage:
        with self.db.reading() as conn:
            return document_queries.page(conn, tenant, viewer, where, only)

    # --- health --------------------------------------------------------------------------

    def health(self, tenant: str, recent: int = 20) -> HealthView:
        now = self._clock()
        with self.db.reading() as conn:
            return HealthView(
                tenant=tenant,
                as_of=now,
                lag=_lag(conn, tenant, now),
                decisions=_decisions(conn, tenant),
                pending_commands=_pending(conn, tenant, now, recent),
                failures=_failures(conn, tenant, recent),
                conflicts=_conflicts(conn, tenant, recent),
                links=_link_counts(conn, tenant),
            )


def _first(conn: Connection, query: Select[Any]) -> RowMapping | None:
    return conn.execute(query).mappings().first()


def _link_of(tenant: str, person_id: int) -> Any:
    return and_(links.c.tenant == tenant, links.c.person_id == person_id)


def _count(conn: Connection, table: Any, *where: Any) -> int:
    return conn.execute(select(func.count()).select_from(table).where(*where)).scalar() or 0


def _dead_lettered(table_tenant: Any, original_id: Any) -> Any:
    return exists().where(
        dead_letters.c.tenant == table_tenant, dead_letters.c.original_id == original_id
    )


def _lag(conn: Connection, tenant: str, now: datetime) -> Lag:
    newest_input = conn.execute(select(func.max(inputs.c.time)).where(inputs.c.tenant == tenant))
    newest_input_at = newest_input.scalar()
    newest_decision_at = conn.execute(
        select(func.max(accountings.c.time)).where(accountings.c.tenant == tenant)
    ).scalar()
    undecided = and_(
        inputs.c.tenant == tenant,
        ~exists().where(
            accountings.c.tenant == inputs.c.tenant, accountings.c.input_id == inputs.c.input_id
        ),
        ~_dead_lettered(inputs.c.tenant, inputs.c.input_id),
    )
    count, oldest = conn.execute(
        select(func.count(), func.min(inputs.c.time)).where(undecided)
    ).one()
    lag_s: float | None = None
    if newest_input_at is not None:
        if not count:
            lag_s = 0.0
        elif newest_decision_at is not None:
            lag_s = max(0.0, (newest_input_at - newest_decision_at).total_seconds())
        else:
            lag_s = max(0.0, (now - oldest).total_seconds())
    return Lag(
        newest_input_at=newest_input_at,
        newest_decision_at=newest_decision_at,
        lag_s=lag_s,
        inputs=_count(conn, inputs, inputs.c.tenant == tenant),
        undecided_inputs=count,
        oldest_undecided_at=oldest,
    )


def _decisions(conn: Connection, tenant: str) -> Decisions:
    rows = conn.execute(
        select(
            accountings.c.verdict,
            accountings.c.reason,
            func.count(accountings.c.input_id.distinct()),
        )
        .where(accountings.c.tenant == tenant)
        .group_by(accountings.c.verdict, accountings.c.reason)
    ).all()
    by_verdict: dict[str, int] = {}
    ignored_by_reason: dict[str, int] = {}
    for verdict, reason, count in rows:
        by_verdict[verdict] = by_verdict.get(verdict, 0) + count
        if verdict == "ignored":
            ignored_by_reason[reason] = count
    dead = _count(
        conn,
        dead_letters,
        dead_letters.c.tenant == tenant,
        dead_letters.c.source_topic.in_(INPUT_TOPICS),
    )
    return Decisions(
        applied=by_verdict.get("applied", 0),
        ignored=by_verdict.get("ignored", 0),
        ignored_by_reason=dict(sorted(ignored_by_reason.items())),
        denied=by_verdict.get("denied", 0),
        dead_lettered_inputs=dead,
    )


def _pending(conn: Connection, tenant: str, now: datetime, recent: int) -> PendingCommands:
    waiting = and_(
        commands.c.tenant == tenant,
        ~exists().where(
            outcomes.c.tenant == commands.c.tenant, outcomes.c.command_id == commands.c.command_id
        ),
        ~_dead_lettered(commands.c.tenant, commands.c.command_id),
    )
    count = _count(conn, commands, waiting)
    rows = conn.execute(
        select(commands)
        .where(waiting)
        .order_by(commands.c.issued_at, commands.c.command_id)
        .limit(recent)
    ).mappings()
    oldest = [
        PendingCommand(
            command_id=row["command_id"],
            command_type=row["command_type"],
            subject=row["subject"],
            issued_at=row["issued_at"],
            age_s=max(0.0, (now - row["issued_at"]).total_seconds()),
        )
        for row in rows
    ]
    return PendingCommands(
        count=count, oldest_age_s=oldest[0].age_s if oldest else None, oldest=oldest
    )


def _failures(conn: Connection, tenant: str, recent: int) -> Failures:
    failed = and_(outcomes.c.tenant == tenant, outcomes.c.succeeded.is_(False))
    failed_rows = conn.execute(
        select(outcomes)
        .where(failed)
        .order_by(outcomes.c.time.desc(), outcomes.c.outcome_id)
        .limit(recent)
    ).mappings()
    letters = conn.execute(
        select(dead_letters)
        .where(dead_letters.c.tenant == tenant)
        .order_by(dead_letters.c.time.desc(), dead_letters.c.dead_letter_id)
        .limit(recent)
    ).mappings()
    return Failures(
        failed_commands_total=_count(conn, outcomes, failed),
        dead_letters_total=_count(conn, dead_letters, dead_letters.c.tenant == tenant),
        recent_failed_commands=[
            FailedCommand(
                outcome_id=row["outcome_id"],
                command_id=row["command_id"],
                command_type=row["command_type"],
                reason=row["reason"],
                code=row["code"],
                retryable=bool(row["retryable"]),
                attempts=row["attempts"],
                at=row["time"],
            )
            for row in failed_rows
        ],
        recent_dead_letters=[
            DeadLetterView(
                dead_letter_id=row["dead_letter_id"],
                stage=row["stage"],
                reason=row["reason"],
                errors=row["errors"],
                source_topic=row["source_topic"],
                partition=row["partition"],
                offset=row["offset"],
                original_id=row["original_id"],
                at=row["time"],
            )
            for row in letters
        ],
    )


def _conflicts(conn: Connection, tenant: str, recent: int) -> ConflictSummary:
    rows = conn.execute(
        select(conflicts)
        .where(conflicts.c.tenant == tenant)
        .order_by(conflicts.c.time.desc(), conflicts.c.decision_id, conflicts.c.seq)
        .limit(recent)
    ).mappings()
    return ConflictSummary(
        total=_count(conn, conflicts, conflicts.c.tenant == tenant),
        recent=[_conflict(row) for row in rows],
    )


def _link_counts(conn: Connection, tenant: str) -> LinkCounts:
    rows = conn.execute(
        select(links.c.status, func.count())
        .where(links.c.tenant == tenant)
        .group_by(links.c.status)
    ).all()
    counts = {status: count for status, count in rows}
    return LinkCounts(
        active=counts.get("active", 0),
        inactive=counts.get("inactive", 0),
        ended=counts.get("ended", 0),
    )


# --- rows to views --------------------------------------------------------------------------


def _link(row: RowMapping) -> LinkView:
    return LinkView(
        person_id=row["person_id"],
        customer_id=row["customer_id"],
        realm_id=row["realm_id"],
        via=row["via"],
        status=row["status"],
        status_reason=row["status_reason"],
        first_linked_at=row["first_linked_at"],
        last_synced_at=row["last_synced_at"],
        last_input_id=row["last_input_id"],
        last_decision_id=row["last_decision_id"],
        conflicts=row["conflicts"],
        former_customer_ids=list(row["former_customer_ids"] or []),
        updated_at=row["updated_at"],
    )


def _engine(row: RowMapping) -> EngineState:
    return EngineState(
        crm=row["crm"],
        qbo=row["qbo"],
        qbo_sync_token=row["qbo_sync_token"],
        crm_changed_at=row["crm_changed_at"],
        qbo_changed_at=row["qbo_changed_at"],
    )


def _conflict(row: RowMapping) -> ConflictView:
    return ConflictView(
        decision_id=row["decision_id"],
        person_id=row["person_id"],
        customer_id=row["customer_id"],
        rule=row["rule"],
        crm_field=row["crm_field"],
        qbo_field=row["qbo_field"],
        crm_value=row["crm_value"],
        qbo_value=row["qbo_value"],
        kept=row["kept"],
        crm_changed_at=row["crm_changed_at"],
        qbo_changed_at=row["qbo_changed_at"],
        at=row["time"],
    )


def _qbo_record(row: RowMapping) -> QboCustomerRecord:
    token = row["sync_token"]
    return QboCustomerRecord(
        customer_id=row["customer_id"],
        realm_id=row["realm_id"],
        snapshot=row["snapshot"],
        sync_token=str(token) if token is not None else None,
        last_updated_at=row["last_updated_at"],
        active=row["active"],
        deleted_at=row["deleted_at"],
        merged_into=row["merged_into"],
        event_id=row["event_id"],
    )


def _crm_record(row: RowMapping) -> CrmPersonRecord:
    return CrmPersonRecord(
        person_id=row["person_id"],
        snapshot=row["snapshot"],
        updated_at=row["updated_at"],
        deleted_at=row["deleted_at"],
        event_id=row["event_id"],
    )


def _import(row: RowMapping) -> ImportRunView:
    return ImportRunView(
        request_id=row["request_id"],
        dry_run=row["dry_run"],
        requested_by=row["requested_by"],
        status=row["status"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        updated_at=row["updated_at"],
        counts=row["counts"] or {},
        total=row["total"],
        summary=row["summary"],
        failure_reason=row["failure_reason"],
    )
