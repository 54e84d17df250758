"""Command envelopes for executor tests, as the decider would issue them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from schemas.commands import (
    ConvertQboEstimate,
    ConvertQboEstimateData,
    CreateCrmCompany,
    CreateCrmCompanyData,
    CreateCrmPerson,
    CreateCrmPersonData,
    CreateQboCustomer,
    CreateQboCustomerData,
    CreateQboDocumentData,
    CreateQboEstimate,
    CreateQboInvoice,
    CreateQboInvoiceData,
    PostCrmNotification,
    PostCrmNotificationData,
    SendQboDocument,
    SendQboDocumentData,
    UpdateCrmPerson,
    UpdateCrmPersonData,
    UpdateQboCustomer,
    UpdateQboCustomerData,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TENANT = "acme"


def new_id() -> str:
    return str(uuid.uuid4())


def _envelope(subject: str, tenant: str, command_id: str | None) -> dict[str, Any]:
    return {
        "id": command_id or new_id(),
        "source": "/qbsync/decider",
        "subject": subject,
        "time": NOW,
        "tenant": tenant,
        "correlationid": "flow-1",
        "causationid": "cause-1",
    }


def create_customer(
    realm: str, person_id: int, fields: dict[str, str | None], *, tenant: str = TENANT,
    command_id: str | None = None,
) -> CreateQboCustomer:  # fmt: skip
    data = CreateQboCustomerData(realm_id=realm, person_id=person_id, fields=fields)
    return CreateQboCustomer(**_envelope(f"crm/person/{person_id}", tenant, command_id), data=data)


def update_customer(
    realm: str, customer_id: str, sync_token: str, fields: dict[str, str | None],
    base: dict[str, str | None], *, tenant: str = TENANT, command_id: str | None = None,
) -> UpdateQboCustomer:  # fmt: skip
    data = UpdateQboCustomerData(
        realm_id=realm, customer_id=customer_id, sync_token=sync_token, fields=fields, base=base
    )
    return UpdateQboCustomer(
        **_envelope(f"qbo/customer/{customer_id}", tenant, command_id), data=data
    )


# What every document command carries back through its outcome: the user's request.
ASKED: dict[str, Any] = {"request_id": "req-1", "requested_by": 7}


def create_invoice(
    realm: str, data: dict[str, Any], *, command_id: str | None = None
) -> CreateQboInvoice:
    body = CreateQboInvoiceData(realm_id=realm, **{**ASKED, **data})
    return CreateQboInvoice(**_envelope(f"crm/deal/{body.deal_id}", TENANT, command_id), data=body)


def create_estimate(
    realm: str, data: dict[str, Any], *, command_id: str | None = None
) -> CreateQboEstimate:
    body = CreateQboDocumentData(realm_id=realm, **{**ASKED, **data})
    return CreateQboEstimate(**_envelope(f"crm/deal/{body.deal_id}", TENANT, command_id), data=body)


def send_document(realm: str, kind: str, qbo_id: str, send_to: str | None) -> SendQboDocument:
    data = SendQboDocumentData(
        realm_id=realm,
        document_type=kind,
        qbo_id=qbo_id,
        send_to=send_to,
        **ASKED,  # type: ignore[arg-type]
    )
    return SendQboDocument(**_envelope(f"qbo/{kind}/{qbo_id}", TENANT, None), data=data)


def convert_estimate(
    realm: str, estimate_id: str, *, command_id: str | None = None
) -> ConvertQboEstimate:
    data = ConvertQboEstimateData(realm_id=realm, estimate_id=estimate_id, **ASKED)
    return ConvertQboEstimate(
        **_envelope(f"qbo/estimate/{estimate_id}", TENANT, command_id), data=data
    )


def create_person(
    fields: dict[str, str | None], *, company_id: int | None = None, tenant: str = TENANT,
    command_id: str | None = None,
) -> CreateCrmPerson:  # fmt: skip
    data = CreateCrmPersonData(fields=fields, company_id=company_id)
    return CreateCrmPerson(**_envelope("qbo/customer/1", tenant, command_id), data=data)


def update_person(
    person_id: int, fields: dict[str, str | None], *, tenant: str = TENANT
) -> UpdateCrmPerson:
    data = UpdateCrmPersonData(person_id=person_id, fields=fields)
    return UpdateCrmPerson(**_envelope(f"crm/person/{person_id}", tenant, None), data=data)


def create_company(name: str, *, command_id: str | None = None) -> CreateCrmCompany:
    data = CreateCrmCompanyData(name=name)
    return CreateCrmCompany(**_envelope("crm/company", TENANT, command_id), data=data)


def post_notification(title: str, message: str) -> PostCrmNotification:
    data = PostCrmNotificationData(title=title, message=message)
    return PostCrmNotification(**_envelope("crm/account", TENANT, None), data=data)
