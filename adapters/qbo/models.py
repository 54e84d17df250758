"""Values the QBO gateway returns beyond the entities of schemas.qbo: company info, CDC pages,
batch operations and their outcomes, deletions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from adapters.qbo.errors import QboError
from schemas.qbo import QboAddress, QboCustomer, QboEntity, QboEstimate, QboInvoice, QboItem

DocumentType = Literal["invoice", "estimate"]
BatchOperationName = Literal["create", "update", "delete", "void", "send", "query"]


class QboCompanyInfo(QboEntity):
    CompanyName: str
    LegalName: str | None = None
    Country: str | None = None
    CompanyAddr: QboAddress | None = None


# QBO's entity name (the JSON wrapper key) → our typed model; others parse as plain QboEntity.
ENTITY_MODELS: dict[str, type[QboEntity]] = {
    "Customer": QboCustomer,
    "Invoice": QboInvoice,
    "Estimate": QboEstimate,
    "Item": QboItem,
    "CompanyInfo": QboCompanyInfo,
}


def parse_entity(entity_name: str, data: dict[str, Any]) -> QboEntity:
    return ENTITY_MODELS.get(entity_name, QboEntity).model_validate(data)


@dataclass(frozen=True)
class Tombstone:
    """A deleted entity as CDC reports it: only its id and when it went."""

    entity: str
    id: str
    deleted_at: datetime | None


@dataclass(frozen=True)
class CdcChanges:
    changed: tuple[QboEntity, ...]
    deleted: tuple[Tombstone, ...]
    # QBO's `time` of the answer: the next sweep's changedSince.
    server_time: datetime | None
    # Entities that hit QBO's 1000-object cap: the window must be split and asked again.
    truncated: frozenset[str] = frozenset()


@dataclass(frozen=True)
class BatchOperation:
    """One item of a batch. `body` for writes; `query` for reads (operation="query").

    `batch_id` (QBO's bId) identifies the item in the answer; at most 10 characters because we
    always send a requestid with batches. Left empty, the position in the request is used.
    """

    operation: BatchOperationName
    entity: str = ""
    body: dict[str, Any] = field(default_factory=dict)
    query: str = ""
    batch_id: str = ""


@dataclass(frozen=True)
class BatchOutcome:
    batch_id: str
    entity: QboEntity | None = None
    query_results: tuple[QboEntity, ...] = ()
    error: QboError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class DeletedDocument:
    document_type: DocumentType
    id: str
