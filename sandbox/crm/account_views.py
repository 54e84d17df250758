"""The account-level shapes: users, `/profile`, `/account`, account notifications, admin lookups,
webhooks (reference 2.5, 2.7, 4.1; key sets from the recorded 2023-2026 responses, trimmed of UI
preferences).

Admins are `level` 3, basic users `level` 1, as in every recording. Every user shares the
account's time zone (Pipeline has one per user; the sandbox keeps one clock).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sandbox.crm.formats import crm_timestamp, iso_z
from sandbox.crm.lookups import USD

if TYPE_CHECKING:
    from sandbox.crm.store import CrmStore, Row


def user_json(store: CrmStore, user: Row, *, credentials: bool = False) -> dict[str, Any]:
    config, admin = store.config, bool(user["is_account_admin"])
    body: dict[str, Any] = {
        "id": user["id"],
        "first_name": user["first_name"],
        "last_name": user["last_name"],
        "full_name": f"{user['first_name']} {user['last_name']}",
        "name": None,
        "email": user["email"],
        "other_emails": [],
        "is_account_admin": admin,
        "is_backend_admin": False,
        "level": 3 if admin else 1,
        "read_only": False,
        "is_allowed_to_delete": True,
        "is_allowed_to_export": admin,
        "is_allowed_to_merge_records": admin,
        "account_id": config.account_id,
        "team_id": None,
        "manager_id": None,
        "deleted_at": crm_timestamp(user["deleted_at"], config.zone),
        "time_zone": config.time_zone,
        "date_format": "us",
        "time_format": "US",
        "currency": USD,
        "avatar_thumb_url": None,
        "updated_at": crm_timestamp(user["updated_at"], config.zone),
        "features": {
            "allow_unregistered_app": config.allow_unregistered_app or None,
            "quickbooks_online_integration": True,
            "automations": True,
            "multi_currency": True,
        },
    }
    if credentials:
        body.update(api_key=user["api_key"], mfa_enabled=False)
    return body


def profile_json(store: CrmStore, user: Row) -> dict[str, Any]:
    return {**user_json(store, user, credentials=True), "account_key": store.config.account_key}


def notification_json(store: CrmStore, row: Row) -> dict[str, Any]:
    zone = store.config.zone
    return {
        "id": row["id"],
        "account_id": None,
        "user_id": row["user_id"],
        "text": row["text"],
        "read_at": crm_timestamp(row["read_at"], zone),
        "created_at": crm_timestamp(row["created_at"], zone),
        "updated_at": crm_timestamp(row["updated_at"], zone),
        "seen": row["seen"],
    }


def lookup_entries(store: CrmStore, name: str) -> list[dict[str, Any]] | None:
    """The rows of one `/admin/<name>` lookup, or None for a lookup the sandbox lacks."""
    lookups = store.lookups

    def stamp(moment: datetime) -> str | None:
        return crm_timestamp(moment, store.config.zone)

    if name == "deal_stages":
        return [lookups.stage_json(stage, stamp) for stage in lookups.stages]
    if name == "deal_pipelines":
        deals = store.rows("deal")
        return [
            lookups.pipeline_json(p, sum(1 for d in deals if d["deal_pipeline_id"] == p.id), stamp)
            for p in lookups.pipelines
        ]
    if name.endswith("_custom_field_labels"):
        kind = name.removesuffix("_custom_field_labels")
        labels = [label for label in lookups.labels if label.kind == kind]
        if kind not in ("person", "company", "deal"):
            return None
        return [lookups.label_json(label, i, stamp) for i, label in enumerate(labels, 1)]
    if name == "custom_field_label_dropdown_entries":
        return [
            {"id": entry, "name": text, "position": i, "custom_field_label_id": label.id}
            for label in lookups.labels
            for i, (entry, text) in enumerate(label.entries, 1)
        ]
    if name == "lead_statuses":
        return [{"id": i, "name": n, "hex_color": c} for i, n, c in lookups.lead_statuses]
    if name == "lead_sources":
        return [lookups.lead_source_json(i) or {} for i, _ in lookups.lead_sources]
    if name == "predefined_contacts_tags":
        return [{"id": t[0], "name": t[1]} for t in lookups.person_tags]
    return None


def account_json(store: CrmStore) -> dict[str, Any]:
    config = store.config
    users = [u for u in store.rows("user") if u["deleted_at"] is None]
    return {
        "id": config.account_id,
        "company_name": config.account_name,
        "currency_id": USD["id"],
        "currency_symbol": USD["symbol"],
        "selected_currencies": [{**USD, "position": 1}],
        "date_format": "us",
        "time_format": "us",
        "visibility_settings": "private_people_shared_companies",
        "deal_stages": lookup_entries(store, "deal_stages"),
        "deal_pipelines": lookup_entries(store, "deal_pipelines"),
        "lead_statuses": lookup_entries(store, "lead_statuses"),
        "lead_sources": lookup_entries(store, "lead_sources"),
        "predefined_contacts_tags": lookup_entries(store, "predefined_contacts_tags"),
        "person_custom_field_labels": lookup_entries(store, "person_custom_field_labels"),
        "company_custom_field_labels": lookup_entries(store, "company_custom_field_labels"),
        "deal_custom_field_labels": lookup_entries(store, "deal_custom_field_labels"),
        "users": [user_json(store, u) for u in users],
        "inactive_users": [],
    }


def webhook_view(row: Row) -> dict[str, Any]:
    """Reference 4.1: ISO-Z times, a generated name and description, the URL not echoed."""
    view = {k: v for k, v in row.items() if k not in ("url", "failure_email")}
    view["created_at"], view["updated_at"] = iso_z(row["created_at"]), iso_z(row["updated_at"])
    view["last_run_at"] = iso_z(row["last_run_at"])
    return view
