"""The demo's proposal act (SYNC-RULES 6): from a deal to a paid-for invoice, as a CRM user would.

A proposal (a QBO estimate) is created on John's deal and sent at once; the customer accepts it
in QBO; converting it makes an invoice with the same lines and a LinkedTxn to the estimate, which
QBO closes; the invoice then shows on John and on his company through the query API.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import httpx

from qbsync.demo_watch import DecisionWatch
from qbsync.up_tenant import admin_request
from schemas.requests import EstimateConvertRequested, EstimateCreateRequested

if TYPE_CHECKING:
    from qbsync.demo import Report
    from qbsync.up_table import Stack

Record = dict[str, Any]
CREATED = "qbsync.decision.document.created.v1"
LINES = (
    {"description": "Garden design", "quantity": "1", "unit_price": "1200.00"},
    {"description": "Planting (hours)", "quantity": "8", "unit_price": "75.00"},
)


async def _item_id(stack: Stack, qbo: Any) -> str:
    """The sandbox company's "Services" item (seeding with no customers adds only the items)."""
    seed = f"{stack.qbo.url}/_sandbox/realms/{stack.realm_id}/seed"
    async with httpx.AsyncClient(timeout=30) as http:
        (await http.post(seed, params={"customers": 0})).raise_for_status()
    items = [item async for item in qbo.query("SELECT * FROM Item WHERE Name = 'Services'")]
    return str(items[0].Id)


async def _deal(stack: Stack, person_id: int, company_id: int | None) -> Record:
    config = stack.crm.config
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.post(
            f"{stack.crm.api_url}/deals.json",
            params={"api_key": config.admin_api_key, "app_key": config.app_key},
            json={
                "deal": {
                    "name": "Garden makeover",
                    "person_ids": [person_id],
                    "primary_contact_id": person_id,
                    "company_id": company_id,
                }
            },
        )
    answer.raise_for_status()
    deal: Record = answer.json()
    return deal


async def _created(watch: DecisionWatch, request_id: str) -> Record | None:
    found = await watch.wait(
        lambda r: (
            r["type"]
            in ("qbsync.decision.document.created.v1", "qbsync.decision.request.denied.v1")
            and request_id in (r["data"].get("request_id"), r["data"].get("input_id"))
        ),
        timeout=60,
    )
    if found is None or found["type"] != CREATED:
        return None
    data: Record = found["data"]
    return data


async def _documents(stack: Stack, path: str) -> list[Record]:
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.get(
            f"{stack.api.url}/v1/tenants/{stack.tenant}/{path}/documents",
            params={"user_id": 1, "is_admin": True},
            headers={"Authorization": f"Bearer {stack.keys.ingest_key}"},
        )
    answer.raise_for_status()
    body = answer.json()
    return list(body["items"])


async def act_proposal(
    stack: Stack, watch: DecisionWatch, qbo: Any, crm: Any, report: Report, person_id: int
) -> None:
    from qbsync.demo import until

    report.act("2. A proposal from a deal: sent, accepted in QBO, converted to an invoice")
    person = await crm.get_person(person_id)
    deal = await _deal(stack, person_id, person.company_id)
    item = await _item_id(stack, qbo)
    lines = [{"item_id": item, **line} for line in LINES]
    create = admin_request(
        EstimateCreateRequested,
        stack.tenant,
        {"deal_id": deal["id"], "person_id": person_id, "lines": lines, "send_now": True},
    )
    await watch.publish(create)
    estimate = await _created(watch, create.id)
    report.check(estimate is not None, f"proposal created on deal {deal['id']!r} ({deal['name']})")
    if estimate is None:
        return
    snapshot = estimate["snapshot"]
    report.check(
        estimate["sent"] and snapshot.get("EmailStatus") == "EmailSent",
        f"estimate {snapshot.get('DocNumber')} for {snapshot.get('TotalAmt')} sent to "
        f"{(snapshot.get('BillEmail') or {}).get('Address')}",
    )
    current = await qbo.get_estimate(estimate["qbo_id"])
    accepted = await qbo.update_estimate(
        current.Id, current.SyncToken, {"TxnStatus": "Accepted"}, str(uuid.uuid4())
    )
    report.check(accepted.TxnStatus == "Accepted", "the customer accepted it (in QBO)")

    convert = admin_request(
        EstimateConvertRequested, stack.tenant, {"estimate_id": estimate["qbo_id"]}
    )
    await watch.publish(convert)
    invoice = await _created(watch, convert.id)
    report.check(invoice is not None, "converted to an invoice")
    if invoice is None:
        return
    linked = invoice["snapshot"].get("LinkedTxn") or []
    report.check(
        any(t.get("TxnId") == estimate["qbo_id"] and t.get("TxnType") == "Estimate" for t in linked)
        and invoice["snapshot"].get("TotalAmt") == snapshot.get("TotalAmt"),
        f"invoice {invoice['snapshot'].get('DocNumber')} copies the lines "
        f"({invoice['snapshot'].get('TotalAmt')}) and links the estimate",
    )
    closed = await qbo.get_estimate(estimate["qbo_id"])
    report.check(closed.TxnStatus == "Closed", "the estimate is Closed")

    def shows(path: str) -> Any:
        async def probe() -> set[str]:
            return {str(d["qbo_id"]) for d in await _documents(stack, path)}

        return probe

    wanted = {invoice["qbo_id"], estimate["qbo_id"]}
    on_person = await until(shows(f"people/{person_id}"), lambda ids: wanted <= ids, within=30)
    report.check(wanted <= on_person, f"both show on person {person_id} in the query API")
    if person.company_id is not None:
        on_company = await until(
            shows(f"companies/{person.company_id}"), lambda ids: wanted <= ids, within=30
        )
        report.check(wanted <= on_company, f"and on company {person.company_id}")
