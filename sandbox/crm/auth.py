"""Who is calling: the `api_key` + `app_key` query parameters (reference 1.3, mode 1).

A missing or unknown api_key, or an api_key without the app_key while the account does not
"Allow Unregistered API", answers 401 `{"error": "Unknown api_key"}` (recorded in 2023). An
unknown app_key is 401 too ("Unknown app_key" is a guess). A deactivated user's key stops
working. The admin namespace (`/api/v3/admin/...`) needs an account admin: 403 otherwise.
JWT (mode 3) and `account_key` are not simulated.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from fastapi import Request

from sandbox.crm import errors

if TYPE_CHECKING:
    from sandbox.crm.store import CrmStore


def authenticate(request: Request, store: CrmStore) -> dict[str, Any]:
    """The calling user's row, or an ApiError."""
    config = store.config
    api_key = request.query_params.get("api_key", "")
    app_key = request.query_params.get("app_key")
    user = store.user_by_api_key(api_key) if api_key else None
    if user is None or user["deleted_at"] is not None:
        raise errors.unauthorized()
    if app_key is None or app_key == "":
        if not config.allow_unregistered_app:
            raise errors.unauthorized()
    elif not secrets.compare_digest(app_key, config.app_key):
        raise errors.unauthorized("Unknown app_key")
    return user


def require_admin(user: dict[str, Any]) -> None:
    if not user["is_account_admin"]:
        raise errors.forbidden()
