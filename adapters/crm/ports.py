"""What the engine needs from Pipeline CRM, as a port; adapters implement it, never decide.

- Reads of one record return None when the CRM answers 404 (deleted, or never there): a webhook
  for a record deleted since is normal, not an error. Writes to a missing record raise
  `NotFoundError`; deleting one that is already gone returns False.
- Lists page to the end (`per_page` 200 until `page >= pagination.pages`).
- Timestamps in and out are aware datetimes; the client converts them to the account's zone.
- Failures raise `adapters.crm.errors.CrmError` subclasses, chosen by the table in errors.py.
  A create that failed without an answer raises with `maybe_applied=True` (the CRM takes no
  idempotency key): look it up (e.g. `find_people_by_email`) before creating it again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, tzinfo
from typing import Protocol

from adapters.crm.models import (
    Conditions,
    CrmAccount,
    CrmAccountNotification,
    CrmProfile,
    FieldValues,
)
from schemas.crm import CrmCompany, CrmDeal, CrmPerson


class CrmGateway(Protocol):
    async def profile(self) -> CrmProfile:
        """The key's user: `is_admin`, and the `time_zone` the CRM writes timestamps in."""
        ...

    async def account(self) -> CrmAccount: ...

    async def time_zone(self) -> tzinfo:
        """The zone date filters are read in (the key's user's time zone), fetched once."""
        ...

    async def get_person(self, person_id: int) -> CrmPerson | None: ...

    async def get_company(self, company_id: int) -> CrmCompany | None: ...

    async def get_deal(self, deal_id: int) -> CrmDeal | None: ...

    def iter_people(self, conditions: Conditions | None = None) -> AsyncIterator[CrmPerson]: ...

    def iter_companies(self, conditions: Conditions | None = None) -> AsyncIterator[CrmCompany]: ...

    def iter_deals(self, conditions: Conditions | None = None) -> AsyncIterator[CrmDeal]: ...

    def people_modified_since(self, since: datetime) -> AsyncIterator[CrmPerson]:
        """People whose updated_at is at or after `since` (to the second, maybe a few more)."""
        ...

    def companies_modified_since(self, since: datetime) -> AsyncIterator[CrmCompany]: ...

    def deals_modified_since(self, since: datetime) -> AsyncIterator[CrmDeal]: ...

    async def all_person_ids(self) -> set[int]:
        """Every person's id, for the hard-delete sweep.

        Offset paging can skip a record when another is deleted mid-sweep: confirm an id
        missing from a sweep with `get_person` before treating it as deleted.
        """
        ...

    async def all_company_ids(self) -> set[int]: ...

    async def all_deal_ids(self) -> set[int]: ...

    async def find_people_by_email(self, email: str) -> list[CrmPerson]:
        """People whose `email` equals `email` (trimmed, case-insensitive), lowest id first."""
        ...

    async def find_company_by_name(self, name: str) -> CrmCompany | None:
        """The oldest company named `name` (trimmed, case-insensitive), or None."""
        ...

    async def create_person(
        self, fields: FieldValues, *, company_id: int | None = None
    ) -> CrmPerson: ...

    async def update_person(self, person_id: int, fields: FieldValues) -> CrmPerson:
        """Change only the given fields; None clears one (sent as JSON null)."""
        ...

    async def delete_person(self, person_id: int) -> bool:
        """True when deleted now, False when it was already gone."""
        ...

    async def create_company(self, name: str, fields: FieldValues | None = None) -> CrmCompany: ...

    async def update_company(self, company_id: int, fields: FieldValues) -> CrmCompany: ...

    async def post_account_notification(
        self, title: str, message: str
    ) -> CrmAccountNotification: ...
