"""`CrmClient`: the CrmGateway port over Pipeline CRM's v3 REST API (httpx)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, tzinfo
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from adapters.crm import formats, matching, payloads
from adapters.crm.errors import NotFoundError
from adapters.crm.models import (
    Conditions,
    CrmAccount,
    CrmAccountNotification,
    CrmProfile,
    FieldValues,
)
from adapters.crm.throttle import KeyLimiter
from adapters.crm.transport import CrmTransport, Params, Request, RetryPolicy
from schemas.crm import CrmCompany, CrmDeal, CrmPerson

PER_PAGE = 200  # the CRM's ceiling (reference 3.1)
RecordT = TypeVar("RecordT", bound=BaseModel)


class CrmClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        app_key: str,
        *,
        http: httpx.AsyncClient,
        limiter: KeyLimiter,
        policy: RetryPolicy | None = None,
        zone: tzinfo | None = None,
    ) -> None:
        self.transport = CrmTransport(
            base_url, api_key, app_key, http=http, limiter=limiter, policy=policy
        )
        self._zone = zone  # None: the key's user's time_zone, asked for once

    def __repr__(self) -> str:
        return f"CrmClient({self.transport.base_url!r})"

    def with_policy(self, policy: RetryPolicy) -> CrmClient:
        """The same key, limiter and connection, other retry rules."""
        clone = copy.copy(self)
        clone.transport = self.transport.with_policy(policy)
        return clone

    @property
    def calls(self) -> int:
        return self.transport.calls

    async def _call(self, method: str, path: str, **options: Any) -> Any:
        return await self.transport.call(Request(method, path, **options))

    async def _record(self, model: type[RecordT], method: str, path: str, **opts: Any) -> RecordT:
        return model.model_validate(await self._call(method, path, **opts))

    async def _get_or_none(self, model: type[RecordT], path: str) -> RecordT | None:
        try:
            return await self._record(model, "GET", path)
        except NotFoundError:
            return None

    async def _entries(self, path: str, params: Params = ()) -> AsyncIterator[dict[str, Any]]:
        """Every entry of a list, page by page until `page >= pagination.pages`."""
        page = 1
        while True:
            paging = (("page", str(page)), ("per_page", str(PER_PAGE)))
            body = await self._call("GET", path, params=(*params, *paging))
            entries = body.get("entries") or []
            for entry in entries:
                yield entry
            pages = int((body.get("pagination") or {}).get("pages") or 0)
            if page >= pages or not entries:
                return
            page += 1

    async def _records(
        self, model: type[RecordT], path: str, conditions: Conditions | None
    ) -> AsyncIterator[RecordT]:
        async for entry in self._entries(path, payloads.condition_params(conditions)):
            yield model.model_validate(entry)

    async def _ids(self, path: str) -> set[int]:
        # `attrs=id` asks for ids only (reference 3.2, weakly evidenced); extra keys are ignored.
        return {int(entry["id"]) async for entry in self._entries(path, (("attrs", "id"),))}

    async def _since(self, condition: str, since: datetime) -> Conditions:
        return {condition: {"from_date": formats.filter_timestamp(since, await self.time_zone())}}

    # -- who and where ---------------------------------------------------------------------
    async def profile(self) -> CrmProfile:
        return await self._record(CrmProfile, "GET", "profile")

    async def account(self) -> CrmAccount:
        return await self._record(CrmAccount, "GET", "account")

    async def time_zone(self) -> tzinfo:
        if self._zone is None:
            profile = await self.profile()
            name = profile.time_zone or (await self.account()).time_zone
            self._zone = formats.zone_named(name)
        return self._zone

    # -- reads ------------------------------------------------------------------------------
    async def get_person(self, person_id: int) -> CrmPerson | None:
        return await self._get_or_none(CrmPerson, f"people/{int(person_id)}")

    async def get_company(self, company_id: int) -> CrmCompany | None:
        return await self._get_or_none(CrmCompany, f"companies/{int(company_id)}")

    async def get_deal(self, deal_id: int) -> CrmDeal | None:
        return await self._get_or_none(CrmDeal, f"deals/{int(deal_id)}")

    def iter_people(self, conditions: Conditions | None = None) -> AsyncIterator[CrmPerson]:
        return self._records(CrmPerson, "people", conditions)

    def iter_companies(self, conditions: Conditions | None = None) -> AsyncIterator[CrmCompany]:
        return self._records(CrmCompany, "companies", conditions)

    def iter_deals(self, conditions: Conditions | None = None) -> AsyncIterator[CrmDeal]:
        return self._records(CrmDeal, "deals", conditions)

    async def people_modified_since(self, since: datetime) -> AsyncIterator[CrmPerson]:
        async for person in self.iter_people(await self._since("person_modified", since)):
            yield person

    async def companies_modified_since(self, since: datetime) -> AsyncIterator[CrmCompany]:
        async for company in self.iter_companies(await self._since("company_modified", since)):
            yield company

    async def deals_modified_since(self, since: datetime) -> AsyncIterator[CrmDeal]:
        async for deal in self.iter_deals(await self._since("deal_modified", since)):
            yield deal

    async def all_person_ids(self) -> set[int]:
        return await self._ids("people")

    async def all_company_ids(self) -> set[int]:
        return await self._ids("companies")

    async def all_deal_ids(self) -> set[int]:
        return await self._ids("deals")

    async def find_people_by_email(self, email: str) -> list[CrmPerson]:
        wanted = email.strip()
        if not wanted:
            return []
        hits = [p async for p in self.iter_people({"person_email": wanted})]
        return matching.people_with_email(hits, wanted)

    async def find_company_by_name(self, name: str) -> CrmCompany | None:
        wanted = name.strip()
        if not wanted:
            return None
        hits = [c async for c in self.iter_companies({"company_name": wanted})]
        found = matching.companies_named(hits, wanted)
        return found[0] if found else None

    # -- writes -----------------------------------------------------------------------------
    async def _write(
        self, model: type[RecordT], method: str, path: str, root: str, attrs: Mapping[str, Any]
    ) -> RecordT:
        body = payloads.record_body(root, attrs)
        return await self._record(model, method, path, json=body)

    async def create_person(
        self, fields: FieldValues, *, company_id: int | None = None
    ) -> CrmPerson:
        attrs = payloads.record_attributes(fields, for_create=True)
        if company_id is not None:
            attrs["company_id"] = company_id
        return await self._write(CrmPerson, "POST", "people", "person", attrs)

    async def update_person(self, person_id: int, fields: FieldValues) -> CrmPerson:
        attrs = payloads.record_attributes(fields, for_create=False)
        path = f"people/{int(person_id)}"
        if not attrs:
            return await self._record(CrmPerson, "GET", path)
        return await self._write(CrmPerson, "PUT", path, "person", attrs)

    async def delete_person(self, person_id: int) -> bool:
        try:
            await self._call("DELETE", f"people/{int(person_id)}")
        except NotFoundError:
            return False
        return True

    async def create_company(self, name: str, fields: FieldValues | None = None) -> CrmCompany:
        attrs = payloads.record_attributes(fields or {}, for_create=True)
        attrs["name"] = name
        return await self._write(CrmCompany, "POST", "companies", "company", attrs)

    async def update_company(self, company_id: int, fields: FieldValues) -> CrmCompany:
        attrs = payloads.record_attributes(fields, for_create=False)
        path = f"companies/{int(company_id)}"
        if not attrs:
            return await self._record(CrmCompany, "GET", path)
        return await self._write(CrmCompany, "PUT", path, "company", attrs)

    async def post_account_notification(self, title: str, message: str) -> CrmAccountNotification:
        # A notification is one `text` (400 when blank): the title, a blank line, the message.
        text = f"{title.strip()}\n\n{message.strip()}"
        body = payloads.record_body("account_notification", {"text": text})
        # A summary posted twice beats one lost: replaying a POST is accepted here.
        return await self._record(
            CrmAccountNotification, "POST", "account_notifications", json=body, replay_safe=True
        )
