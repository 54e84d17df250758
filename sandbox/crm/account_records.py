"""Records of the account rather than of the CRM data: account notifications (the bell in
Pipeline's UI; the engine posts import summaries there) and webhook registrations.

Notification rules are the recorded ones: 400 with Pipeline's own text when `text` is blank;
`user_id` picks the recipient (default: the caller); `hide_popup` marks it seen. A webhook gets
the generated `name` "<app name> <model>:<action>" and `description` "<name> => <url>"
(reference 4.1); its URL and failure email are kept but never shown as fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sandbox.crm import errors
from sandbox.crm.coerce import Caster

if TYPE_CHECKING:
    from sandbox.crm.store import CrmStore, Row

BLANK_TEXT = (
    "Text cannot be blank. You have to pass parameters like: account_notification: "
    '{user_id: 1000, text: "message", hide_popup: true'
)


def add_notification(store: CrmStore, body: dict[str, Any], actor: int) -> Row:
    cast = Caster()
    text = cast.text(body.get("text"))
    if text is None:
        raise errors.bad_request(BLANK_TEXT)
    user_id = cast.integer("user_id", body.get("user_id")) or actor
    if store.find("user", user_id) is None:
        cast.fail("user_id")
    if cast.errors:
        raise errors.unprocessable(cast.errors)
    now = store.clock.now()
    row = {
        "id": store.new_id("account_notification"),
        "user_id": user_id,
        "text": text,
        "read_at": None,
        "seen": bool(cast.boolean("hide_popup", body.get("hide_popup"))),
        "created_at": now,
        "updated_at": now,
    }
    return store.put("account_notification", row)


def add_webhook(store: CrmStore, body: dict[str, Any]) -> Row:
    from sandbox.crm.store import ACTIONS, MODELS  # the store imports its neighbours

    cast, config = Caster(), store.config
    model, action = cast.text(body.get("event_model")), cast.text(body.get("event_action"))
    url = cast.text(body.get("url"))
    if model not in MODELS:
        cast.fail("event_model", "is not included in the list")
    if action not in ACTIONS:
        cast.fail("event_action", "is not included in the list")
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        cast.fail("url", "is invalid")
    if cast.errors:
        raise errors.unprocessable(cast.errors)
    now = store.clock.now()
    name = f"{config.app_name} {model}:{action}"
    row = {
        "id": store.new_id("webhook"),
        "event_model": model,
        "event_action": action,
        "name": name,
        "description": f"{name} => {url}",
        "is_activated": True,
        "account_id": config.account_id,
        "app_id": config.app_id,
        "last_run_at": None,
        "updated_by": None,
        "debug_enabled": False,
        "event_column": None,
        "event_column_delta": None,
        "event_trigger_time": None,
        "automation_folder_id": None,
        "source": "user",
        "position": 0,
        "created_at": now,
        "updated_at": now,
        "url": url,
        "failure_email": cast.text(body.get("failure_email")),
    }
    return store.put("webhook", row)
