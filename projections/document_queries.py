"""Reading documents: whose they are, and who may see them.

Whose: the person is the current link of the document's QBO customer (an active or inactive
link; ended ones no longer count), else the person the document was created for; the company is
that person's, from the link's CRM record, else the latest CRM record of the person, else what
the creating decision named. Worked out in SQL when read, so a link made or moved after the
document arrived counts at once.

Who may see: `engine.visibility` decides, for the tenant's setting and the user, which origins
are visible; the query filters on them in SQL. Filtering in SQL, not after reading, keeps the
counts and pages right and never reads a hidden document out of the database at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, RowMapping, Subquery, and_, func, select

from engine.visibility import visible_origins
from projections.documents import DEFAULT_VISIBILITY
from projections.models import (
    DocumentDetail,
    DocumentLineView,
    DocumentPage,
    DocumentType,
    DocumentView,
    LinkedTxnView,
)
from projections.tables import crm_people, document_visibility, documents, links
from schemas.requests import Actor
from schemas.settings import Visibility

Where = Callable[[Subquery], ColumnElement[bool]]


@dataclass(frozen=True)
class DocumentFilter:
    """Which of the documents matching, and which page of them."""

    document_type: DocumentType | None = None
    include_deleted: bool = False
    limit: int = 50
    offset: int = 0


ALL = DocumentFilter()


def attributed(tenant: str) -> Subquery:
    """The tenant's documents, each with `attributed_person_id` and `attributed_company_id`."""
    d = documents.c
    linked_person = (
        select(links.c.person_id)
        .where(
            links.c.tenant == d.tenant,
            links.c.customer_id == d.customer_id,
            links.c.status != "ended",
        )
        .order_by(links.c.updated_at.desc(), links.c.person_id)
        .limit(1)
        .correlate(documents)
        .scalar_subquery()
    )
    person = func.coalesce(linked_person, d.person_id).label("attributed_person_id")
    base = select(documents, person).where(d.tenant == tenant).subquery("documents_of_tenant")
    link, people = links.alias("person_link"), crm_people.alias("person_record")
    company = func.coalesce(
        link.c.crm["company_id"].as_integer(),
        people.c.snapshot["company_id"].as_integer(),
        base.c.company_id,
    )
    joined = base.outerjoin(
        link, and_(link.c.tenant == base.c.tenant, link.c.person_id == base.c.attributed_person_id)
    ).outerjoin(
        people,
        and_(people.c.tenant == base.c.tenant, people.c.person_id == base.c.attributed_person_id),
    )
    return (
        select(base, company.label("attributed_company_id"))
        .select_from(joined)
        .subquery("attributed_documents")
    )


def visible_to(conn: Connection, tenant: str, viewer: Actor) -> list[str]:
    """The origins of documents `viewer` may see in `tenant` (engine/visibility.py)."""
    row = (
        conn.execute(select(document_visibility).where(document_visibility.c.tenant == tenant))
        .mappings()
        .first()
    )
    visibility: Visibility = row["visibility"] if row is not None else DEFAULT_VISIBILITY
    owner = row["owner_user_id"] if row is not None else None
    return sorted(visible_origins(viewer, visibility, owner))


def page(
    conn: Connection, tenant: str, viewer: Actor, where: Where, only: DocumentFilter
) -> DocumentPage:
    docs = attributed(tenant)
    conditions = [where(docs), docs.c.origin.in_(visible_to(conn, tenant, viewer))]
    if only.document_type is not None:
        conditions.append(docs.c.document_type == only.document_type)
    if not only.include_deleted:
        conditions.append(docs.c.deleted_at.is_(None))
    total = conn.execute(select(func.count()).select_from(docs).where(*conditions)).scalar()
    rows = conn.execute(
        select(docs)
        .where(*conditions)
        .order_by(docs.c.txn_date.desc().nulls_last(), docs.c.document_type, docs.c.qbo_id)
        .limit(only.limit)
        .offset(only.offset)
    ).mappings()
    return DocumentPage(
        items=[view(row) for row in rows], total=total or 0, limit=only.limit, offset=only.offset
    )


def one(
    conn: Connection, tenant: str, document_type: str, qbo_id: str, viewer: Actor | None
) -> DocumentDetail | None:
    """One document; None when unknown, or hidden from `viewer` (None: no user to hide from)."""
    docs = attributed(tenant)
    query = select(docs).where(docs.c.document_type == document_type, docs.c.qbo_id == qbo_id)
    if viewer is not None:
        query = query.where(docs.c.origin.in_(visible_to(conn, tenant, viewer)))
    row = conn.execute(query).mappings().first()
    return detail(row) if row is not None else None


def view(row: RowMapping) -> DocumentView:
    token = row["sync_token"]
    return DocumentView(
        document_type=row["document_type"],
        qbo_id=row["qbo_id"],
        doc_number=row["doc_number"],
        txn_date=row["txn_date"],
        due_date=row["due_date"],
        expiration_date=row["expiration_date"],
        customer_id=row["customer_id"],
        customer_name=row["customer_name"],
        person_id=row["attributed_person_id"],
        company_id=row["attributed_company_id"],
        status=row["status"],
        txn_status=row["txn_status"],
        total=row["total"],
        balance=row["balance"],
        emailed=row["emailed"],
        email_status=row["email_status"],
        delivered_at=row["delivered_at"],
        voided=row["voided"],
        deleted_at=row["deleted_at"],
        lines=[DocumentLineView(**line) for line in row["lines"] or []],
        linked_txns=[LinkedTxnView(**link) for link in row["linked_txns"] or []],
        origin=row["origin"],
        deal_id=row["deal_id"],
        requested_by=row["requested_by"],
        request_id=row["request_id"],
        from_estimate_id=row["from_estimate_id"],
        sync_token=str(token) if token is not None else None,
        last_updated_at=row["last_updated_at"],
        updated_at=row["updated_at"],
    )


def detail(row: RowMapping) -> DocumentDetail:
    return DocumentDetail(**view(row).model_dump(), snapshot=row["snapshot"])
