"""Who may ask for what (SYNC-RULES 3 and 6): admins always; basic users only with the switch.

Checked in the engine on every request, before anything reaches QBO. Sending a document needs
the switch that creates that kind of document (a user who may not create invoices may not mail
them either); converting an estimate needs its own switch.
"""

from __future__ import annotations

from schemas.envelope import Envelope
from schemas.requests import (
    DocumentSendRequested,
    EstimateConvertRequested,
    EstimateCreateRequested,
    InvoiceCreateRequested,
    RequestData,
)
from schemas.settings import Permissions

DOCUMENT_REQUESTS = (
    InvoiceCreateRequested,
    EstimateCreateRequested,
    DocumentSendRequested,
    EstimateConvertRequested,
)


def _switch(request: Envelope, permissions: Permissions) -> tuple[bool, str]:
    """Whether the basic-user switch for this request is on, and what the request is."""
    if isinstance(request, InvoiceCreateRequested):
        return permissions.basic_can_create_invoices, "create invoices"
    if isinstance(request, EstimateCreateRequested):
        return permissions.basic_can_create_estimates, "create estimates (proposals)"
    if isinstance(request, EstimateConvertRequested):
        return permissions.basic_can_convert_estimates, "convert estimates to invoices"
    if isinstance(request, DocumentSendRequested):
        if request.data.document_type == "invoice":
            return permissions.basic_can_create_invoices, "send invoices"
        return permissions.basic_can_create_estimates, "send estimates (proposals)"
    raise TypeError(f"{request.type} is not a document request")


def denial(request: Envelope, permissions: Permissions) -> str | None:
    """Why this request is refused, or None when its actor may make it."""
    data = request.data
    assert isinstance(data, RequestData)
    if data.actor.is_admin:
        return None
    allowed, what = _switch(request, permissions)
    if allowed:
        return None
    return (
        f"user {data.actor.user_id} is a basic user and basic users may not {what} "
        "(an admin can allow it in the integration's permissions)"
    )
