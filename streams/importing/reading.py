"""Read everything an import needs (SYNC-RULES 4.1), counting the API calls it takes.

QBO: every customer, inactive ones included so they are accounted for (the plan skips them),
then every invoice and estimate; `query` pages 1000 at a time until a short page, so n rows
cost n // 1000 + 1 calls (the minimum is ceil(n / 1000); one more when n is a multiple of 1000,
or 0). CRM: every person and company, 200 per page. Calls are counted from the pages, not from the
clients' counters, which other work for the tenant (the executor) shares; transport retries are
not counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TypeVar

from adapters.crm.client import PER_PAGE as CRM_PAGE
from adapters.crm.ports import CrmGateway
from adapters.qbo.client import PAGE_SIZE as QBO_PAGE
from adapters.qbo.ports import QboGateway
from schemas.crm import CrmCompany, CrmPerson
from schemas.qbo import QboCustomer, QboEntity, QboEstimate, QboInvoice, QboSalesDocument

# Ordered by Id so pages neither overlap nor skip while QBO changes (adapters/qbo/client.py).
CUSTOMERS = "SELECT * FROM Customer WHERE Active IN (true, false) ORDERBY Id"
INVOICES = "SELECT * FROM Invoice ORDERBY Id"
ESTIMATES = "SELECT * FROM Estimate ORDERBY Id"

EntityT = TypeVar("EntityT", bound=QboEntity)


@dataclass
class Calls:
    """API calls an import made: each attempt adds its own to what the run recorded before."""

    qbo: int = 0
    crm: int = 0
    qbo_pages: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.qbo + self.crm


class Snapshot:
    """Everything read, with the indexes the import looks things up by."""

    def __init__(
        self,
        customers: tuple[QboCustomer, ...],
        invoices: tuple[QboInvoice, ...],
        estimates: tuple[QboEstimate, ...],
        people: tuple[CrmPerson, ...],
        companies: tuple[CrmCompany, ...],
    ) -> None:
        self.customers, self.invoices, self.estimates = customers, invoices, estimates
        self.people, self.companies = people, companies
        self.by_id: dict[str, QboCustomer] = {customer.Id: customer for customer in customers}
        self._people = {person.id: person for person in people}
        self.documents: dict[str, list[QboSalesDocument]] = defaultdict(list)
        for document in (*invoices, *estimates):
            self.documents[document.CustomerRef.value].append(document)

    def person(self, person_id: int) -> CrmPerson | None:
        return self._people.get(person_id)

    def document_counts(self, customer_ids: set[str]) -> tuple[int, int]:
        """(invoices, estimates) of these customers."""
        invoices = estimates = 0
        for customer_id in customer_ids:
            for document in self.documents.get(customer_id, ()):
                if isinstance(document, QboInvoice):
                    invoices += 1
                else:
                    estimates += 1
        return invoices, estimates


def qbo_pages(rows: int) -> int:
    """Calls `QboClient.query` makes for `rows` rows: pages until a short one."""
    return rows // QBO_PAGE + 1


async def _all(rows: AsyncIterator[QboEntity], model: type[EntityT]) -> list[EntityT]:
    found: list[EntityT] = []
    async for row in rows:
        if not isinstance(row, model):
            raise TypeError(
                f"QBO answered a {type(row).__name__} where a {model.__name__} was asked"
            )
        found.append(row)
    return found


async def read_qbo(
    qbo: QboGateway, calls: Calls
) -> tuple[list[QboCustomer], list[QboInvoice], list[QboEstimate]]:
    customers = await _all(qbo.query(CUSTOMERS), QboCustomer)
    invoices = await _all(qbo.query(INVOICES), QboInvoice)
    estimates = await _all(qbo.query(ESTIMATES), QboEstimate)
    for entity, rows in (("Customer", customers), ("Invoice", invoices), ("Estimate", estimates)):
        pages = qbo_pages(len(rows))
        calls.qbo_pages[entity] = pages
        calls.qbo += pages
    return customers, invoices, estimates


def crm_pages(rows: int) -> int:
    """Calls `CrmClient` makes to list `rows` records: 200 a page, at least one."""
    return max(1, -(-rows // CRM_PAGE))


async def read_crm(crm: CrmGateway, calls: Calls) -> tuple[list[CrmPerson], list[CrmCompany]]:
    people = [person async for person in crm.iter_people()]
    companies = [company async for company in crm.iter_companies()]
    calls.crm += crm_pages(len(people)) + crm_pages(len(companies))
    return people, companies


async def read_everything(qbo: QboGateway, crm: CrmGateway, calls: Calls) -> Snapshot:
    customers, invoices, estimates = await read_qbo(qbo, calls)
    people, companies = await read_crm(crm, calls)
    return Snapshot(
        customers=tuple(customers),
        invoices=tuple(invoices),
        estimates=tuple(estimates),
        people=tuple(people),
        companies=tuple(companies),
    )
