"""`qbsync demo`, act 5 (issue 7): who cleared Jane Smith's fields, and putting them back.

The timeline of the person (the query API's history endpoint) names the engine's write that
cleared the website and address, and its cause: the QBO rename. The record as it was before the
rename still holds them. A restore of only what that QBO change cleared, with direction `both`,
brings them back in the CRM and in QBO, keeps the name Jane, and the echoes of both writes are
recognised: nothing is written a third time.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import httpx

from qbsync.demo_watch import DecisionWatch
from qbsync.up_table import Stack

Record = dict[str, Any]
RESTORED = ("website", "work_address_1", "work_city")  # act 4 gave the phone a new value


def _cleared_website(entry: Record) -> bool:
    return entry["reported_by"] == "engine" and any(
        c["field"] == "website" and c["after"] is None for c in entry["changes"]
    )


def _holds_website(customer: Any, website: str) -> bool:
    uri = getattr(customer.WebAddr, "URI", None)
    return uri is not None and uri == website


async def act_history(
    stack: Stack,
    watch: DecisionWatch,
    qbo: Any,
    crm: Any,
    report: Any,
    person_id: int,
    customer_id: str,
    before_rename: datetime,
    crm_only: dict[str, str],
) -> None:
    from qbsync.demo import until

    report.act("5. Who cleared Jane's website and address, and putting them back")
    base = f"{stack.api.url}/v1/tenants/{stack.tenant}"
    headers = {"Authorization": f"Bearer {stack.keys.ingest_key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as http:

        async def history(**params: str) -> Record | None:
            answer = await http.get(f"/history/person/{person_id}", params=params)
            return answer.json() if answer.status_code == 200 else None

        found = await until(
            history, lambda h: h is not None and any(map(_cleared_website, h["entries"])), 30
        )
        writes = [e for e in (found or {"entries": []})["entries"] if _cleared_website(e)]
        cause = writes[0]["cause"] if writes else None
        report.check(
            cause is not None and cause["type"] == "qbsync.qbo.customer.changed.v1",
            "the timeline names the engine's write that cleared them, caused by the QBO change",
        )
        if cause is None:
            return
        renamed = [f"{c['field']}: {c['before']!r} → {c['after']!r}" for c in cause["changes"]]
        report.say(f"  cause: {cause['summary']} ({'; '.join(renamed)})")
        then = await history(as_of=before_rename.isoformat())
        held = {f: (then or {}).get("record", {}).get(f) for f in RESTORED}
        report.check(
            held == {f: crm_only[f] for f in RESTORED},
            f"as of {before_rename:%H:%M:%S} the history still holds them: {held}",
        )
        synced_before = watch.count(lambda r: r["type"] == "qbsync.decision.link.synced.v1")
        answer = await http.post(
            "/restores",
            json={
                "actor": {"user_id": 1, "is_admin": True},
                "scope": "qbo_change",
                "id": cause["id"],
                "as_of": before_rename.isoformat(),
                "only_cleared": True,
            },
        )
    report.check(answer.status_code == 202, "restore of what that QBO change cleared, sent")
    person = await until(
        lambda: crm.get_person(person_id), lambda p: p.website == crm_only["website"], 60
    )
    report.check(
        all(getattr(person, f) == crm_only[f] for f in RESTORED) and person.first_name == "Jane",
        "the CRM has them back, and is still Jane",
    )
    customer = await until(
        lambda: qbo.get_customer(customer_id),
        lambda c: _holds_website(c, crm_only["website"]),
        60,
    )
    report.check(
        customer.WebAddr is not None and customer.BillAddr is not None,
        f"QBO too (direction both): {customer.WebAddr and customer.WebAddr.URI}, "
        f"{customer.BillAddr and customer.BillAddr.City}",
    )
    await asyncio.sleep(3)  # both echoes come back meanwhile
    synced = watch.count(lambda r: r["type"] == "qbsync.decision.link.synced.v1")
    report.check(
        synced - synced_before == 2,
        f"one write to each side and no echo loop ({synced - synced_before} writes)",
    )
