"""Records as Pipeline's API shows them: every key of the recorded 2024/2026 responses
(reference 2.2-2.5, 4.1), nulls included, derived fields computed from the rows they derive from.

Build one `Views` per request, under the store lock: it indexes deals by person and company once.
Totals: `total_pipeline` sums open deals, `won_deals_total` deals in a won stage (JSON numbers,
as in 2026 recordings). Users are shown with their `api_key` only where Pipeline shows it
(`/profile`, `/admin/users`); `/users` leaves it out.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

from sandbox.crm.formats import cents, crm_date, crm_timestamp, decimal_string
from sandbox.crm.lookups import USD
from sandbox.crm.writes import COMPANY_TEXT, DEAL_TEXT, PERSON_TEXT

if TYPE_CHECKING:
    from sandbox.crm.store import CrmStore, Row

_ASSETS = "//assets.pipelinecrm.com/current/webpack/images"
_NEXT_ENTRY = {"next_entry_id": None, "next_entry_name": None, "next_entry_due": None}


def maps_url(a1: Any, a2: Any, city: Any, state: Any, postal: Any, country: Any) -> str:
    parts = [p or "" for p in (a1, a2, city, state, postal, country)]
    text = f"{parts[0]}, {parts[1]}, {parts[2]}, {parts[3]} {parts[4]} {parts[5]}"
    return "http://maps.google.com/maps?q=" + quote_plus(text)


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


class Views:
    def __init__(self, store: CrmStore) -> None:
        self.store = store
        self.lookups = store.lookups
        self.zone = store.config.zone
        self.deals_by_person: dict[int, list[Row]] = defaultdict(list)
        self.deals_by_company: dict[int, list[Row]] = defaultdict(list)
        for deal in store.tables["deal"].values():
            for person_id in deal["person_ids"]:
                self.deals_by_person[person_id].append(deal)
            if deal["company_id"] is not None:
                self.deals_by_company[deal["company_id"]].append(deal)

    def stamp(self, moment: datetime | None) -> str | None:
        return crm_timestamp(moment, self.zone)

    def user_ref(self, user_id: int | None) -> dict[str, Any] | None:
        user = self.store.find("user", user_id)
        if user is None:
            return None
        return {"id": user["id"], "first_name": user["first_name"], "last_name": user["last_name"]}

    def _totals(self, deals: list[Row]) -> dict[str, Any]:
        won, open_ = Decimal(0), Decimal(0)
        for deal in deals:
            pipeline = self.lookups.find("pipeline", deal["deal_pipeline_id"])
            if deal["deal_stage_id"] == pipeline.won_stage:
                won += deal["value"] or 0
            elif deal["closed_time"] is None:
                open_ += deal["value"] or 0
        return {"total_pipeline": _number(open_), "won_deals_total": _number(won)}

    # -- people ---------------------------------------------------------------------------
    def person(self, row: Row) -> dict[str, Any]:
        company = self.store.find("company", row["company_id"])
        owner = self.user_ref(row["user_id"])
        deals = self.deals_by_person.get(row["id"], [])
        tags = [self.lookups.find("person_tag", t) for t in row["predefined_contacts_tag_ids"]]
        work = [row[f"work_{p}"] for p in ("address_1", "address_2", "city", "state")]
        work += [row["work_postal_code"], row["work_country"]]
        home = [row[f"home_{p}"] for p in ("address_1", "address_2", "city", "state")]
        home += [row["home_postal_code"], row["home_country"]]
        company_address = [
            (company or {}).get(f)
            for f in ("address_1", "address_2", "city", "state", "postal_code", "country")
        ]
        names = [n for n in (row["first_name"], row["last_name"]) if n]
        view: dict[str, Any] = {"id": row["id"], "type": row["type"]}
        view.update({field: row[field] for field in PERSON_TEXT})
        view.update(
            full_name=" ".join(names),
            user_id=row["user_id"],
            user=owner,
            owner=f"{owner['first_name']} {owner['last_name']}" if owner else None,
            created_by_user_id=row["created_by_user_id"],
            created_by_user=self.user_ref(row["created_by_user_id"]),
            company_id=row["company_id"],
            company_name=company["name"] if company else None,
            company={"id": company["id"], "name": company["name"]} if company else None,
            **{f"company_{f}": v for f, v in zip(_COMPANY_ADDRESS, company_address, strict=True)},
            has_work_address=any(work),
            has_home_address=any(home),
            has_company_address=any(company_address),
            work_address_google_maps_url=maps_url(*work),
            home_address_google_maps_url=maps_url(*home),
            company_address_google_maps_url=maps_url(*company_address),
            lead_status=self.lookups.lead_status_json(row["lead_status_id"]),
            lead_source=self.lookups.lead_source_json(row["lead_source_id"]),
            predefined_contacts_tag_ids=list(row["predefined_contacts_tag_ids"]),
            predefined_contacts_tags=[{"id": t[0], "name": t[1]} for t in tags if t],
            deal_ids=[d["id"] for d in deals],
            deals=[{"id": d["id"], "name": d["name"]} for d in deals],
            currency=USD,
            **self._totals(deals),
            unsubscribed=row["unsubscribed"],
            bounced=row["bounced"],
            is_key_contact=row["is_key_contact"],
            is_sample=row["is_sample"],
            last_emailed_at=self.stamp(row["last_emailed_at"]),
            viewed_at=self.stamp(row["viewed_at"]),
            **_NEXT_ENTRY,
            next_entry_all_day=None,
            date_of_first_activity=None,
            days_since_last_activity=None,
            hours_to_first_activity=None,
            shared_user_ids=[],
            project_shared_user_ids=[],
            possible_notify_user_ids=[],
            image_thumb_url=row["image_thumb_url"] or f"{_ASSETS}/thumb/missing.png",
            image_mobile_url=f"{_ASSETS}/mobile/missing.png",
            custom_fields=dict(row["custom_fields"]),
            created_at=self.stamp(row["created_at"]),
            updated_at=self.stamp(row["updated_at"]),
        )
        return view

    # -- companies ------------------------------------------------------------------------
    def company(self, row: Row) -> dict[str, Any]:
        owner = self.user_ref(row["owner_id"])
        view: dict[str, Any] = {"id": row["id"]}
        view.update({field: row[field] for field in COMPANY_TEXT})
        view.update(
            twitter_url=None,
            address_google_maps_url=maps_url(*(row[f] for f in _COMPANY_ADDRESS)),
            owner_id=row["owner_id"],
            owner=owner,
            owner_name=f"{owner['first_name']} {owner['last_name']}" if owner else None,
            is_customer=row["is_customer"],
            customer=None,
            import_id=row["import_id"],
            is_sample=row["is_sample"],
            currency=USD,
            **self._totals(self.deals_by_company.get(row["id"], [])),
            milestones=[],
            tag_ids=[],
            tags=[],
            shared_user_ids=[],
            project_shared_user_ids=[],
            possible_notify_user_ids=[],
            **_NEXT_ENTRY,
            next_entry_all_day=None,
            image_thumb_url=row["image_thumb_url"] or f"{_ASSETS}/thumb/missing_company.png",
            image_mobile_url=f"{_ASSETS}/mobile/missing_company.png",
            custom_fields=dict(row["custom_fields"]),
            created_at=self.stamp(row["created_at"]),
            updated_at=self.stamp(row["updated_at"]),
        )
        return view

    # -- deals ------------------------------------------------------------------------------
    def deal(self, row: Row) -> dict[str, Any]:
        stage = self.lookups.find("stage", row["deal_stage_id"])
        pipeline = self.lookups.find("pipeline", row["deal_pipeline_id"])
        company = self.store.find("company", row["company_id"])
        contact = self.store.find("person", row["primary_contact_id"])
        people = [p for p in (self.store.find("person", i) for i in row["person_ids"]) if p]
        contact_keys = ("phone", "mobile", "home_phone", "email", "email2", "home_email")
        view: dict[str, Any] = {"id": row["id"]}
        view.update({field: row[field] for field in DEAL_TEXT})
        view.update(
            value=decimal_string(row["value"]),
            value_in_cents=cents(row["value"]),
            currency={k: USD[k] for k in ("id", "name", "symbol", "code")},
            probability=row["probability"],
            status=row["status"],
            deal_status=None,
            is_archived=row["is_archived"],
            is_example=None,
            is_sample=row["is_sample"],
            import_id=row["import_id"],
            closed_time=self.stamp(row["closed_time"]),
            expected_close_date=crm_date(row["expected_close_date"]),
            expected_close_date_event_id=None,
            deal_stage_id=row["deal_stage_id"],
            deal_stage={"id": stage.id, "name": stage.name, "percent": stage.percent},
            deal_pipeline_id=row["deal_pipeline_id"],
            deal_pipeline={"id": pipeline.id, "name": pipeline.name, "default": pipeline.default},
            deal_loss_reason_id=None,
            deal_won_reason_id=None,
            deal_loss_reason=None,
            deal_won_reason=None,
            source_id=row["source_id"],
            revenue_type_id=None,
            revenue_type=None,
            primary_contact_id=row["primary_contact_id"],
            primary_contact=(
                {"id": contact["id"], "first_name": contact["first_name"]}
                | {"last_name": contact["last_name"]}
                | {k: contact[k] for k in contact_keys}
                if contact
                else None
            ),
            person_ids=[p["id"] for p in people],
            people=[
                {"id": p["id"], "first_name": p["first_name"], "last_name": p["last_name"]}
                for p in people
            ],
            company_id=row["company_id"],
            company=(
                {
                    "id": company["id"],
                    "name": company["name"],
                    "is_customer": company["is_customer"],
                }
                if company
                else None
            ),
            user_id=row["user_id"],
            user=self.user_ref(row["user_id"]),
            created_by_user_id=row["created_by_user_id"],
            created_by_user=self.user_ref(row["created_by_user_id"]),
            updated_by_user_id=row["updated_by_user_id"],
            updated_by_user=self.user_ref(row["updated_by_user_id"]),
            collaborators=[],
            shared_user_ids=[],
            project_shared_user_ids=[],
            deal_product_lines_ids=[],
            product_lines=[],
            tag_ids=[],
            tags=[],
            **_NEXT_ENTRY,
            next_entry_all_day=None,
            custom_fields=dict(row["custom_fields"]),
            created_at=self.stamp(row["created_at"]),
            updated_at=self.stamp(row["updated_at"]),
        )
        return view


_COMPANY_ADDRESS = ("address_1", "address_2", "city", "state", "postal_code", "country")
