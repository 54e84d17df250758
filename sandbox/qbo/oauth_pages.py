"""The HTML an Intuit user sees while connecting an app: the company picker and error pages."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from fastapi.responses import HTMLResponse

from sandbox.qbo.config import SandboxRealm

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><main>{body}</main></body></html>"""


def company_picker(
    consent_path: str, request_id: str, username: str, realms: list[SandboxRealm]
) -> HTMLResponse:
    """One link per company: following it connects that company (the consent step)."""

    def link(realm: SandboxRealm) -> str:
        query = urlencode({"request": request_id, "realmId": realm.realm_id})
        return (
            f'<li><a class="company" data-realm-id="{escape(realm.realm_id)}" '
            f'href="{escape(consent_path)}?{escape(query)}">{escape(realm.company_name)}</a></li>'
        )

    cancel = urlencode({"request": request_id, "decision": "deny"})
    body = (
        f"<h1>Select a company</h1><p>Signed in as {escape(username)}.</p>"
        f"<ul>{''.join(link(r) for r in realms)}</ul>"
        f'<p><a class="cancel" href="{escape(consent_path)}?{escape(cancel)}">Cancel</a></p>'
    )
    return HTMLResponse(_PAGE.format(title="Connect to QuickBooks", body=body))


def error_page(status: int, error: str, description: str) -> HTMLResponse:
    """For errors that must not redirect (bad client or redirect URI, per RFC 6749 4.1.2.1)."""
    body = f"<h1>{escape(error)}</h1><p>{escape(description)}</p>"
    return HTMLResponse(_PAGE.format(title=escape(error), body=body), status_code=status)
