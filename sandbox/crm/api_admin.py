"""`/api/v3/admin/...`: account-admin only (403 for basic users), reference 2.1, 4.1.

- `webhooks`: GET `{"webhooks": [...]}` (no pagination, as recorded), POST `{"webhook":
  {event_model, event_action, url, failure_email}}` -> the webhook object, DELETE -> 200 `null`;
- lookups (list envelope): `deal_stages`, `deal_pipelines`,
  `{person,company,deal}_custom_field_labels`, `lead_statuses`, `lead_sources`,
  `predefined_contacts_tags`, `custom_field_label_dropdown_entries`
  (`conditions[custom_field_label_id]`); `users` (with their api keys).
Lookups are read-only here: the sandbox's account configuration is fixed (lookups.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from sandbox.crm import errors
from sandbox.crm.account_records import add_webhook
from sandbox.crm.account_views import lookup_entries, user_json, webhook_view
from sandbox.crm.api import DataApi, parse_id
from sandbox.crm.auth import authenticate, require_admin
from sandbox.crm.errors import CrmJSONResponse
from sandbox.crm.inputs import query_params, read_root
from sandbox.crm.store import CrmStore, Row


def make_admin_api(store: CrmStore, data: DataApi) -> APIRouter:
    router = APIRouter(prefix="/api/v3/admin")

    def admin(request: Request) -> Row:
        user = authenticate(request, store)
        require_admin(user)
        return user

    @router.get("/webhooks")
    async def webhooks(request: Request) -> Response:
        admin(request)
        return CrmJSONResponse({"webhooks": [webhook_view(w) for w in store.rows("webhook")]})

    @router.post("/webhooks")
    async def create_webhook(request: Request) -> Response:
        admin(request)
        row = add_webhook(store, await read_root(request, "webhook"))
        return CrmJSONResponse(webhook_view(row))

    @router.delete("/webhooks/{webhook_id}")
    async def delete_webhook(request: Request, webhook_id: str) -> Response:
        admin(request)
        id_ = parse_id(webhook_id)
        with store.locked():
            store.get("webhook", id_)
            del store.tables["webhook"][id_]
        return CrmJSONResponse(None)

    @router.get("/users")
    async def users(request: Request) -> Response:
        admin(request)
        conditions = query_params(request).get("conditions")
        rows = store.rows("user")
        wanted = conditions.get("including_inactive") if isinstance(conditions, dict) else None
        if str(wanted).lower() != "true":
            rows = [u for u in rows if u["deleted_at"] is None]
        return data.page(request, rows, lambda u: user_json(store, u, credentials=True))

    @router.get("/{lookup}")
    async def lookup(request: Request, lookup: str) -> Response:
        admin(request)
        with store.locked():
            entries = lookup_entries(store, lookup)
        if entries is None:
            raise errors.not_found()
        if lookup == "custom_field_label_dropdown_entries":
            conditions = query_params(request).get("conditions")
            wanted = (
                (conditions or {}).get("custom_field_label_id")
                if isinstance(conditions, dict)
                else None
            )
            if wanted is not None:
                entries = [e for e in entries if str(e["custom_field_label_id"]) == str(wanted)]
        return data.page(request, entries, lambda entry: entry)

    return router
