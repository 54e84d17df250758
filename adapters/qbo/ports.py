"""What the engine needs from QuickBooks Online, as a port; adapters implement it, never decide.

Writes take the command id as `request_id`: QBO replays the first answer to a repeated requestid,
so a retried command cannot create a second customer or invoice.

Failures raise `adapters.qbo.errors.QboError` subclasses (StaleObjectError, DuplicateNameError,
NotFoundError, ValidationError, ThrottledError, ...; chosen by the table in errors.py). A
connection that is gone raises `adapters.qbo.oauth.NotConnectedError` (never connected) or
`InvalidGrantError` (revoked or expired: an admin must reconnect).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Protocol

from adapters.qbo.fields import FieldValues
from adapters.qbo.models import (
    BatchOperation,
    BatchOutcome,
    CdcChanges,
    DeletedDocument,
    DocumentType,
    QboCompanyInfo,
)
from schemas.qbo import QboCustomer, QboEntity, QboEstimate, QboInvoice, QboItem
from schemas.requests import DocumentLine


class QboGateway(Protocol):
    realm_id: str

    async def company_info(self) -> QboCompanyInfo: ...

    async def get_customer(self, customer_id: str) -> QboCustomer: ...

    async def get_invoice(self, invoice_id: str) -> QboInvoice: ...

    async def get_estimate(self, estimate_id: str) -> QboEstimate: ...

    async def get_item(self, item_id: str) -> QboItem: ...

    async def create_customer(self, fields: FieldValues, request_id: str) -> QboCustomer: ...

    async def update_customer(
        self, customer_id: str, sync_token: str, fields: FieldValues, request_id: str
    ) -> QboCustomer:
        """Change only the given dotted fields; null clears (semantics: adapters.qbo.fields)."""
        ...

    def query(self, select: str) -> AsyncIterator[QboEntity]:
        """Every row of a SELECT (without STARTPOSITION/MAXRESULTS), paged 1000 at a time."""
        ...

    async def customers_with_email(self, email: str) -> list[QboCustomer]:
        """Active customers QBO finds with this PrimaryEmailAddr, lowest Id first (QBO compares
        as it does: confirm equality before relying on a match)."""
        ...

    async def count(self, entity: str, where: str | None = None) -> int: ...

    async def cdc(self, entities: Sequence[str], changed_since: datetime) -> CdcChanges: ...

    async def batch(
        self, operations: Sequence[BatchOperation], request_id: str
    ) -> list[BatchOutcome]:
        """Any number of operations, sent 30 per call; outcomes in the order given."""
        ...

    async def create_invoice(
        self,
        customer_id: str,
        lines: Sequence[DocumentLine],
        request_id: str,
        *,
        from_estimate_id: str | None = None,
        bill_email: str | None = None,
        txn_date: str | None = None,
    ) -> QboInvoice: ...

    async def create_estimate(
        self,
        customer_id: str,
        lines: Sequence[DocumentLine],
        request_id: str,
        *,
        bill_email: str | None = None,
        txn_date: str | None = None,
    ) -> QboEstimate: ...

    async def update_estimate(
        self, estimate_id: str, sync_token: str, fields: FieldValues, request_id: str
    ) -> QboEstimate:
        """A sparse update of the estimate's dotted `fields`, e.g. {"TxnStatus": "Closed"}."""
        ...

    async def send(
        self, document_type: DocumentType, document_id: str, send_to: str | None, request_id: str
    ) -> QboInvoice | QboEstimate: ...

    async def void_invoice(
        self, invoice_id: str, sync_token: str, request_id: str
    ) -> QboInvoice: ...

    async def delete_document(
        self, document_type: DocumentType, document_id: str, sync_token: str, request_id: str
    ) -> DeletedDocument: ...
