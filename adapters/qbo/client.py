"""`QboClient`: the QboGateway port over QBO's v3 REST API (httpx)."""

from __future__ import annotations

import copy
import re
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

import httpx

from adapters.qbo import answers, batch, documents
from adapters.qbo import fields as field_paths
from adapters.qbo.models import (
    BatchOperation,
    BatchOutcome,
    CdcChanges,
    DeletedDocument,
    DocumentType,
    QboCompanyInfo,
)
from adapters.qbo.oauth import QboOAuth
from adapters.qbo.throttle import RealmLimiter
from adapters.qbo.transport import MINOR_VERSION, QboTransport, Request, RetryPolicy
from schemas.qbo import QboCustomer, QboEntity, QboEstimate, QboInvoice, QboItem
from schemas.requests import DocumentLine

PAGE_SIZE = 1000  # QBO's MAXRESULTS ceiling
_PAGING = re.compile(r"\b(STARTPOSITION|MAXRESULTS)\b", re.IGNORECASE)
_ENTITY_NAME = re.compile(r"^[A-Za-z]+$")
_DOCUMENT_MODELS: dict[str, type[QboInvoice] | type[QboEstimate]] = {
    "invoice": QboInvoice,
    "estimate": QboEstimate,
}

EntityT = TypeVar("EntityT", bound=QboEntity)


def quoted(text: str) -> str:
    """A string literal of QBO's query language: single quotes, backslash escapes."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class QboClient:
    def __init__(
        self,
        base_url: str,
        *,
        tenant_id: str,
        realm_id: str,
        oauth: QboOAuth,
        limiter: RealmLimiter,
        http: httpx.AsyncClient,
        policy: RetryPolicy | None = None,
        minor_version: int = MINOR_VERSION,
    ) -> None:
        self.realm_id = realm_id
        self.tenant_id = tenant_id
        self.oauth = oauth
        self.transport = QboTransport(
            base_url,
            tenant_id=tenant_id,
            realm_id=realm_id,
            oauth=oauth,
            limiter=limiter,
            http=http,
            policy=policy,
            minor_version=minor_version,
        )

    def with_policy(self, policy: RetryPolicy) -> QboClient:
        """The same connection and limiter, other retry rules (e.g. a quick connection check)."""
        clone = copy.copy(self)
        clone.transport = self.transport.with_policy(policy)
        return clone

    async def _call(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        body: dict[str, Any] = await self.transport.call(Request(method, path, **options))
        return body

    async def _entity(
        self, model: type[EntityT], method: str, path: str, **options: Any
    ) -> EntityT:
        """One entity answer; QBO wraps it in the entity's name, which our models carry."""
        body = await self._call(method, path, **options)
        return model.model_validate(answers.wrapped(body, model.__name__.removeprefix("Qbo")))

    # -- reads ------------------------------------------------------------------------------
    async def company_info(self) -> QboCompanyInfo:
        return await self._entity(QboCompanyInfo, "GET", f"companyinfo/{self.realm_id}")

    async def get_customer(self, customer_id: str) -> QboCustomer:
        return await self._entity(QboCustomer, "GET", f"customer/{customer_id}")

    async def get_invoice(self, invoice_id: str) -> QboInvoice:
        return await self._entity(QboInvoice, "GET", f"invoice/{invoice_id}")

    async def get_estimate(self, estimate_id: str) -> QboEstimate:
        return await self._entity(QboEstimate, "GET", f"estimate/{estimate_id}")

    async def get_item(self, item_id: str) -> QboItem:
        return await self._entity(QboItem, "GET", f"item/{item_id}")

    async def query(self, select: str) -> AsyncIterator[QboEntity]:
        """Every row of `select`, fetched 1000 at a time until a short page.

        Add an ORDERBY (e.g. Id) when the data may change while paging: QBO's default order is
        not documented, and a stable order is what keeps pages from overlapping or skipping.
        """
        if _PAGING.search(select):
            raise ValueError("query() pages by itself: leave STARTPOSITION/MAXRESULTS out")
        start = 1
        while True:
            page = f"{select.strip()} STARTPOSITION {start} MAXRESULTS {PAGE_SIZE}"
            body = await self._call("GET", "query", params={"query": page})
            rows = answers.query_rows(body.get("QueryResponse") or {})
            for row in rows:
                yield row
            if len(rows) < PAGE_SIZE:
                return
            start += PAGE_SIZE

    async def customers_with_email(self, email: str) -> list[QboCustomer]:
        """Active customers whose PrimaryEmailAddr QBO finds equal to `email`, lowest Id first.

        QBO's comparison is its own (the sandbox: case-insensitive); callers confirm equality.
        """
        # Not SQL: a QBO query string, the email quoted as QBO's query language wants.
        select = f"SELECT * FROM Customer WHERE PrimaryEmailAddr = {quoted(email)} ORDERBY Id"  # noqa: S608
        return [row async for row in self.query(select) if isinstance(row, QboCustomer)]

    async def count(self, entity: str, where: str | None = None) -> int:
        if not _ENTITY_NAME.match(entity):
            raise ValueError(f"not a QBO entity name: {entity!r}")
        # Not SQL: a QBO query string, and `entity` is checked to be a bare name above.
        select = f"SELECT COUNT(*) FROM {entity}" + (f" WHERE {where}" if where else "")  # noqa: S608
        body = await self._call("GET", "query", params={"query": select})
        return int((body.get("QueryResponse") or {}).get("totalCount", 0))

    async def cdc(self, entities: Sequence[str], changed_since: datetime) -> CdcChanges:
        if changed_since.tzinfo is None:
            raise ValueError("changed_since must be timezone-aware")
        params = {
            "entities": ",".join(entities),
            "changedSince": changed_since.isoformat(timespec="seconds"),
        }
        return answers.cdc_changes(await self._call("GET", "cdc", params=params))

    # -- customer writes ------------------------------------------------------------------
    async def create_customer(
        self, fields: field_paths.FieldValues, request_id: str
    ) -> QboCustomer:
        return await self._entity(
            QboCustomer,
            "POST",
            "customer",
            json=field_paths.create_body(fields),
            request_id=request_id,
        )

    async def update_customer(
        self, customer_id: str, sync_token: str, fields: field_paths.FieldValues, request_id: str
    ) -> QboCustomer:
        """A sparse update of `fields` (null clears) on the engine's `sync_token`: one call.

        If the customer changed since the engine decided, QBO answers 5010 (StaleObjectError). A
        retried command whose first write landed gets QBO's replay of that first answer, because
        the request id is the command id.
        """
        body = field_paths.sparse_update_body(customer_id, sync_token, fields)
        if body is None:
            return await self.get_customer(customer_id)
        return await self._entity(QboCustomer, "POST", "customer", json=body, request_id=request_id)

    # -- documents ------------------------------------------------------------------------
    async def create_invoice(
        self,
        customer_id: str,
        lines: Sequence[DocumentLine],
        request_id: str,
        *,
        from_estimate_id: str | None = None,
        bill_email: str | None = None,
        txn_date: str | None = None,
    ) -> QboInvoice:
        body = documents.sales_document(
            customer_id,
            lines,
            bill_email=bill_email,
            txn_date=txn_date,
            from_estimate_id=from_estimate_id,
        )
        return await self._entity(QboInvoice, "POST", "invoice", json=body, request_id=request_id)

    async def create_estimate(
        self,
        customer_id: str,
        lines: Sequence[DocumentLine],
        request_id: str,
        *,
        bill_email: str | None = None,
        txn_date: str | None = None,
    ) -> QboEstimate:
        body = documents.sales_document(
            customer_id, lines, bill_email=bill_email, txn_date=txn_date
        )
        return await self._entity(QboEstimate, "POST", "estimate", json=body, request_id=request_id)

    async def update_estimate(
        self, estimate_id: str, sync_token: str, fields: field_paths.FieldValues, request_id: str
    ) -> QboEstimate:
        """A sparse update of an estimate's `fields` (e.g. `TxnStatus`) on `sync_token`."""
        body = field_paths.sparse_update_body(estimate_id, sync_token, fields)
        if body is None:
            return await self.get_estimate(estimate_id)
        return await self._entity(QboEstimate, "POST", "estimate", json=body, request_id=request_id)

    async def send(
        self, document_type: DocumentType, document_id: str, send_to: str | None, request_id: str
    ) -> QboInvoice | QboEstimate:
        # QBO wants an empty octet-stream body; the answer is the document, now EmailSent.
        return await self._entity(
            _DOCUMENT_MODELS[document_type], "POST", f"{document_type}/{document_id}/send",
            params={"sendTo": send_to} if send_to else None,
            content=b"", content_type="application/octet-stream", request_id=request_id,
        )  # fmt: skip

    async def void_invoice(self, invoice_id: str, sync_token: str, request_id: str) -> QboInvoice:
        return await self._entity(
            QboInvoice,
            "POST",
            "invoice",
            params={"operation": "void"},
            json={"Id": invoice_id, "SyncToken": sync_token},
            request_id=request_id,
        )

    async def delete_document(
        self, document_type: DocumentType, document_id: str, sync_token: str, request_id: str
    ) -> DeletedDocument:
        if document_type not in _DOCUMENT_MODELS:
            raise ValueError(f"QBO cannot delete a {document_type}")
        body = await self._call(
            "POST",
            document_type,
            params={"operation": "delete"},
            json={"Id": document_id, "SyncToken": sync_token},
            request_id=request_id,
        )
        deleted = answers.wrapped(body, document_type.capitalize())
        return DeletedDocument(document_type, str(deleted.get("Id", document_id)))

    # -- batch ----------------------------------------------------------------------------
    async def batch(
        self, operations: Sequence[BatchOperation], request_id: str
    ) -> list[BatchOutcome]:
        outcomes: list[BatchOutcome] = []
        for index, chunk in enumerate(batch.chunks(operations)):
            ids = batch.batch_ids(chunk)
            body = await self._call(
                "POST",
                "batch",
                json=batch.batch_payload(chunk, ids),
                request_id=batch.chunk_request_id(request_id, index),
                batch=True,
            )
            outcomes += answers.batch_outcomes(body, ids)
        return outcomes
