"""What a create or update of a person, company or deal stores (reference 2.2-2.4, 3.3).

A builder takes the body under the root key and the stored row (None on create) and returns the
new row, or raises 422 with every invalid field. Keys a resource does not accept are dropped
silently, as Rails' strong parameters do. Choices where the reference is silent:

- `full_name` splits at its first space ("Anna Van der Berg" -> "Anna" / "Van der Berg"); a
  single word is a first name. Explicit `first_name`/`last_name` in the same body win.
- A person needs a first or last name; an email, when given, must look like one.
- `company_name` finds the oldest company of that name (case-insensitive) or creates it; an
  explicit `company_id` in the same body wins; a blank `company_name` unlinks.
- A deal's stage and pipeline must agree; a stage alone implies its pipeline; `probability`
  follows the stage's percent unless written; the primary contact is always among `person_ids`;
  `closed_time` is set on entering the pipeline's won or lost stage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sandbox.crm.coerce import Caster
from sandbox.crm.errors import unprocessable
from sandbox.crm.lookups import CustomFieldKind

if TYPE_CHECKING:
    from sandbox.crm.store import CrmStore, Row

_ADDRESS = ("address_1", "address_2", "city", "state", "postal_code", "country")
PERSON_TEXT = (
    *("first_name", "last_name", "position", "summary", "email", "email2", "home_email"),
    *("phone", "mobile", "home_phone", "fax", "website", "instant_message", "twitter"),
    *("linked_in_url", "facebook_url", "relationship", "image_thumb_url"),
    *(f"work_{part}" for part in _ADDRESS),
    *(f"home_{part}" for part in _ADDRESS),
)
PERSON_FLAGS = ("is_key_contact", "unsubscribed", "bounced")
COMPANY_TEXT = (
    *("name", "description", "email", "web", "fax", "instant_message", "twitter"),
    *("linked_in_url", "facebook_url", "image_thumb_url", *_ADDRESS),
    *(f"phone{n}" for n in range(1, 5)),
    *(f"phone{n}_desc" for n in range(1, 5)),
)
DEAL_TEXT = ("name", "summary", "deal_loss_reason_notes", "deal_won_reason_notes", *_ADDRESS)
_EMAIL = re.compile(r"^[^@]+@[^@]+\.[^@]+$")  # lenient: legacy data has odd but real emails


@dataclass
class WriteContext:
    store: CrmStore
    actor: int
    now: datetime
    options: dict[str, Any]

    def is_user(self, id_: int | None) -> bool:
        user = self.store.find("user", id_)
        return user is not None and user["deleted_at"] is None

    def company_for_name(self, name: str) -> int:
        from sandbox.crm.store import Change  # the store imports this module

        found = self.store.company_named(name)
        if found is not None:
            return found
        company = build_company({"name": name}, None, self)
        company["id"] = self.store.new_id("company")
        self.store.put("company", company)
        self.store.record_change(Change("company", "create", company["id"], self.actor))
        return int(company["id"])


def _start(existing: Row | None, ctx: WriteContext, defaults: dict[str, Any]) -> Row:
    if existing is not None:
        return dict(existing)
    return {**defaults, "created_by_user_id": ctx.actor, "created_at": ctx.now}


def _texts(row: Row, body: Row, fields: tuple[str, ...], cast: Caster) -> None:
    for field in fields:
        if field in body:
            row[field] = cast.text(body[field])


def _reference(row: Row, body: Row, field: str, cast: Caster, valid: Any) -> None:
    if field in body:
        row[field] = cast.integer(field, body[field])
        if row[field] is not None and not valid(row[field]):
            cast.fail(field)


def _custom(row: Row, body: Row, kind: CustomFieldKind, cast: Caster, ctx: WriteContext) -> None:
    labels = ctx.store.lookups.labels_for(kind)
    row["custom_fields"] = cast.custom_fields(
        body.get("custom_fields"), labels, row["custom_fields"]
    )


def split_full_name(full_name: str | None) -> tuple[str | None, str | None]:
    if not full_name:
        return None, None
    first, _, last = full_name.strip().partition(" ")
    return first, last.strip() or None


def build_person(body: Row, existing: Row | None, ctx: WriteContext) -> Row:
    cast, lookups = Caster(), ctx.store.lookups
    defaults: dict[str, Any] = dict.fromkeys(PERSON_TEXT)
    defaults.update(type="Contact", user_id=ctx.actor, company_id=None, is_key_contact=None)
    defaults.update(unsubscribed=False, bounced=False, lead_status_id=None, lead_source_id=None)
    defaults.update(predefined_contacts_tag_ids=[], custom_fields={}, is_sample=False)
    defaults.update(viewed_at=None, last_emailed_at=None)
    row = _start(existing, ctx, defaults)
    if "full_name" in body:
        row["first_name"], row["last_name"] = split_full_name(cast.text(body["full_name"]))
    _texts(row, body, PERSON_TEXT, cast)
    for flag in PERSON_FLAGS:
        if flag in body:
            row[flag] = cast.boolean(flag, body[flag])
    if "type" in body:
        row["type"] = cast.text(body["type"]) or "Contact"
        if row["type"] not in ("Contact", "Lead"):
            cast.fail("type", "is not included in the list")
    _reference(row, body, "user_id", cast, ctx.is_user)
    _reference(row, body, "company_id", cast, lambda i: ctx.store.find("company", i))
    _reference(row, body, "lead_status_id", cast, lambda i: lookups.find("lead_status", i))
    _reference(row, body, "lead_source_id", cast, lambda i: lookups.find("lead_source", i))
    if "predefined_contacts_tag_ids" in body:
        tags = cast.ids("predefined_contacts_tag_ids", body["predefined_contacts_tag_ids"])
        if any(lookups.find("person_tag", tag) is None for tag in tags):
            cast.fail("predefined_contacts_tag_ids")
        row["predefined_contacts_tag_ids"] = tags
    _custom(row, body, "person", cast, ctx)
    if not row["first_name"] and not row["last_name"]:
        cast.fail("first_name", "can't be blank")
    for field in ("email", "email2", "home_email"):
        if row[field] and not _EMAIL.match(row[field]):
            cast.fail(field)
    if row["user_id"] is None:
        row["user_id"] = ctx.actor
    if cast.errors:
        raise unprocessable(cast.errors)
    if "company_name" in body and "company_id" not in body:
        name = cast.text(body["company_name"])
        row["company_id"] = ctx.company_for_name(name) if name else None
    row["updated_at"] = ctx.now
    return row


def build_company(body: Row, existing: Row | None, ctx: WriteContext) -> Row:
    cast = Caster()
    defaults: dict[str, Any] = dict.fromkeys(COMPANY_TEXT)
    defaults.update(owner_id=None, is_customer=False, custom_fields={}, is_sample=False)
    defaults.update(import_id=None)
    row = _start(existing, ctx, defaults)
    _texts(row, body, COMPANY_TEXT, cast)
    _reference(row, body, "owner_id", cast, ctx.is_user)
    if "is_customer" in body:
        row["is_customer"] = bool(cast.boolean("is_customer", body["is_customer"]))
    _custom(row, body, "company", cast, ctx)
    duplicates_matter = ctx.options.get("check_for_duplicates") and existing is None
    if not row["name"]:
        cast.fail("name", "can't be blank")
    elif duplicates_matter and ctx.store.company_named(row["name"]) is not None:
        cast.fail("name", "has already been taken")
    if cast.errors:
        raise unprocessable(cast.errors)
    row["updated_at"] = ctx.now
    return row


def build_deal(body: Row, existing: Row | None, ctx: WriteContext) -> Row:
    cast, lookups = Caster(), ctx.store.lookups
    defaults: dict[str, Any] = dict.fromkeys(DEAL_TEXT)
    defaults.update(user_id=ctx.actor, deal_stage_id=None, deal_pipeline_id=None, value=None)
    defaults.update(primary_contact_id=None, person_ids=[], company_id=None, probability=None)
    defaults.update(expected_close_date=None, status=None, source_id=None, closed_time=None)
    defaults.update(is_archived=False, custom_fields={}, is_sample=False, import_id=None)
    row = _start(existing, ctx, defaults)
    _texts(row, body, DEAL_TEXT, cast)
    if "deal_source" in body and "source_id" not in body:
        body = {**body, "source_id": body["deal_source"]}
    _reference(row, body, "user_id", cast, ctx.is_user)
    _reference(row, body, "deal_stage_id", cast, lambda i: lookups.find("stage", i))
    _reference(row, body, "deal_pipeline_id", cast, lambda i: lookups.find("pipeline", i))
    _reference(row, body, "primary_contact_id", cast, lambda i: ctx.store.find("person", i))
    _reference(row, body, "company_id", cast, lambda i: ctx.store.find("company", i))
    _reference(row, body, "source_id", cast, lambda i: lookups.find("lead_source", i))
    for field in ("probability", "status"):
        if field in body:
            row[field] = cast.integer(field, body[field])
    if "person_ids" in body:
        row["person_ids"] = cast.ids("person_ids", body["person_ids"])
        if any(ctx.store.find("person", p) is None for p in row["person_ids"]):
            cast.fail("person_ids")
    if "value" in body:
        row["value"] = cast.money("value", body["value"])
    if "expected_close_date" in body:
        row["expected_close_date"] = cast.day("expected_close_date", body["expected_close_date"])
    if "is_archived" in body:
        row["is_archived"] = bool(cast.boolean("is_archived", body["is_archived"]))
    _custom(row, body, "deal", cast, ctx)
    if not row["name"]:
        cast.fail("name", "can't be blank")
    if cast.errors:
        raise unprocessable(cast.errors)
    _place_in_pipeline(row, body, existing, cast, ctx)
    if cast.errors:
        raise unprocessable(cast.errors)
    if row["primary_contact_id"] is not None and row["primary_contact_id"] not in row["person_ids"]:
        row["person_ids"] = [row["primary_contact_id"], *row["person_ids"]]
    if "company_name" in body and "company_id" not in body:
        name = cast.text(body["company_name"])
        row["company_id"] = ctx.company_for_name(name) if name else None
    row["updated_by_user_id"] = ctx.actor
    row["updated_at"] = ctx.now
    return row


def _place_in_pipeline(
    row: Row, body: Row, existing: Row | None, cast: Caster, ctx: WriteContext
) -> None:
    lookups = ctx.store.lookups
    stage = lookups.find("stage", row["deal_stage_id"])
    if "deal_pipeline_id" not in body and stage is not None:
        row["deal_pipeline_id"] = stage.pipeline_id
    if row["deal_pipeline_id"] is None:
        row["deal_pipeline_id"] = lookups.default_pipeline().id
    if stage is None or stage.pipeline_id != row["deal_pipeline_id"]:
        if "deal_stage_id" in body and stage is not None:
            cast.fail("deal_stage_id", "does not belong to the deal's pipeline")
            return
        stage = lookups.first_stage(row["deal_pipeline_id"])
        row["deal_stage_id"] = stage.id
    stage_changed = existing is None or existing["deal_stage_id"] != stage.id
    if "probability" not in body and stage_changed:
        row["probability"] = stage.percent
    pipeline = lookups.find("pipeline", row["deal_pipeline_id"])
    closing = stage.id in (pipeline.won_stage, pipeline.lost_stage)
    if not closing:
        row["closed_time"] = None
    elif row["closed_time"] is None:
        row["closed_time"] = ctx.now
