"""Two independent ways of talking to QBO, behind one small driver interface.

The contract suite runs once per driver: our adapter, and the `python-quickbooks` library (a real,
independent client). If both pass against the sandbox, the sandbox speaks QBO as clients expect.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import datetime
from typing import Any, Protocol

from intuitlib.client import AuthClient
from quickbooks import QuickBooks
from quickbooks.batch import batch_create
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.base import Ref
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item

from tests.support.qbo_sandbox import RunningSandbox

# requests-oauthlib refuses plain http; the sandbox serves http on loopback. This is oauthlib's own
# documented switch for local development.
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")


class ContractFault(Exception):
    """A QBO fault, whichever client saw it."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"QBO fault {code}: {message}")
        self.code = code


class QboDriver(Protocol):
    name: str

    async def create_customer(
        self, display_name: str, email: str | None = None
    ) -> dict[str, Any]: ...
    async def read_customer(self, customer_id: str) -> dict[str, Any]: ...
    async def sparse_update_customer(
        self, customer_id: str, sync_token: str, body: dict[str, Any]
    ) -> dict[str, Any]: ...
    async def query_all(self, select: str, page_size: int) -> list[dict[str, Any]]: ...
    async def changes_since(
        self, entities: list[str], since: datetime
    ) -> dict[str, list[dict[str, Any]]]: ...
    async def batch_create_customers(
        self, names: list[str]
    ) -> list[dict[str, Any] | ContractFault]: ...
    async def create_item(self, name: str, unit_price: str) -> dict[str, Any]: ...
    async def create_invoice(
        self, customer_id: str, item_id: str, qty: int, unit_price: str
    ) -> dict[str, Any]: ...
    async def send_invoice(self, invoice_id: str, send_to: str) -> dict[str, Any]: ...


def _fault(exc: QuickbooksException) -> ContractFault:
    return ContractFault(str(exc.error_code), exc.message)


class PythonQuickbooksDriver:
    """python-quickbooks + intuitlib, pointed at the sandbox (discovery URL and API base)."""

    name = "python-quickbooks"

    def __init__(self, sandbox: RunningSandbox) -> None:
        auth = AuthClient(
            sandbox.config.client_id,
            sandbox.config.client_secret,
            sandbox.config.redirect_uris[0],
            environment=sandbox.discovery_url,
            access_token=sandbox.access_token,
            refresh_token=sandbox.refresh_token,
            realm_id=sandbox.realm_id,
        )
        self.qb = QuickBooks(
            auth_client=auth,
            refresh_token=sandbox.refresh_token,
            company_id=sandbox.realm_id,
            minorversion=75,
        )
        self.qb.api_url_v3 = sandbox.api_base  # the library's only knob for its API host

    async def _call(self, fn: Any, *args: Any) -> Any:
        try:
            return await asyncio.to_thread(fn, *args)
        except QuickbooksException as exc:
            raise _fault(exc) from exc

    async def create_customer(self, display_name: str, email: str | None = None) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            customer = Customer()
            customer.DisplayName = display_name
            if email:
                from quickbooks.objects.base import EmailAddress

                customer.PrimaryEmailAddr = EmailAddress()
                customer.PrimaryEmailAddr.Address = email
            return customer.save(qb=self.qb).to_dict()

        return await self._call(run)

    async def read_customer(self, customer_id: str) -> dict[str, Any]:
        return await self._call(lambda: Customer.get(customer_id, qb=self.qb).to_dict())

    async def sparse_update_customer(
        self, customer_id: str, sync_token: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            payload = {"Id": customer_id, "SyncToken": sync_token, "sparse": True, **body}
            return self.qb.update_object("Customer", json.dumps(payload))["Customer"]  # type: ignore[no-any-return]

        return await self._call(run)

    async def query_all(self, select: str, page_size: int) -> list[dict[str, Any]]:
        def run() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = []
            start = 1
            while True:
                page = Customer.query(
                    f"{select} STARTPOSITION {start} MAXRESULTS {page_size}", qb=self.qb
                )
                found += [c.to_dict() for c in page]
                if len(page) < page_size:
                    return found
                start += page_size

        return await self._call(run)

    async def changes_since(
        self, entities: list[str], since: datetime
    ) -> dict[str, list[dict[str, Any]]]:
        classes = {"Customer": Customer, "Invoice": Invoice, "Item": Item}

        def run() -> dict[str, list[dict[str, Any]]]:
            # A datetime would lose its offset (the library formats it naive); a string is sent as is.
            stamp = since.isoformat(timespec="seconds")
            response = change_data_capture([classes[e] for e in entities], stamp, qb=self.qb)
            out: dict[str, list[dict[str, Any]]] = {}
            for entity in entities:
                found = getattr(response, entity, None)
                out[entity] = [o.to_dict() for o in found] if found is not None else []
            return out

        return await self._call(run)

    async def batch_create_customers(
        self, names: list[str]
    ) -> list[dict[str, Any] | ContractFault]:
        def run() -> list[dict[str, Any] | ContractFault]:
            customers = []
            for name in names:
                customer = Customer()
                customer.DisplayName = name
                customers.append(customer)
            results = batch_create(customers, qb=self.qb)
            by_name: dict[str, dict[str, Any] | ContractFault] = {
                c.DisplayName: c.to_dict() for c in results.successes
            }
            for fault in results.faults:
                by_name[fault.original_object.DisplayName] = ContractFault(str(fault.Error[0].code))
            return [by_name[name] for name in names]

        return await self._call(run)

    async def create_item(self, name: str, unit_price: str) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            item = Item()
            item.Name = name
            item.Type = "Service"
            item.UnitPrice = float(unit_price)
            item.IncomeAccountRef = Ref()
            item.IncomeAccountRef.value = "79"
            return item.save(qb=self.qb).to_dict()

        return await self._call(run)

    async def create_invoice(
        self, customer_id: str, item_id: str, qty: int, unit_price: str
    ) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            line = SalesItemLine()
            line.Amount = qty * float(unit_price)
            line.SalesItemLineDetail = SalesItemLineDetail()
            line.SalesItemLineDetail.ItemRef = Ref()
            line.SalesItemLineDetail.ItemRef.value = item_id
            line.SalesItemLineDetail.Qty = qty
            line.SalesItemLineDetail.UnitPrice = float(unit_price)
            invoice = Invoice()
            invoice.Line = [line]
            invoice.CustomerRef = Ref()
            invoice.CustomerRef.value = customer_id
            return invoice.save(qb=self.qb).to_dict()

        return await self._call(run)

    async def send_invoice(self, invoice_id: str, send_to: str) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            invoice = Invoice()
            invoice.Id = invoice_id
            return invoice.send(qb=self.qb, send_to=send_to)["Invoice"]  # type: ignore[no-any-return]

        return await self._call(run)
