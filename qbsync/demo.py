"""`qbsync demo`: the vendor's own example, end to end on the real local stack, as a report.

John Smith exists in both systems: QBO without phone, address or website; the CRM with phone
555-1234, an address and a website. The import links them and keeps the CRM's data (4.6).
Renaming him to Jane Smith in QBO makes the CRM show Jane Smith with phone, address and website
cleared (5, the vendor's overwrite). Then the direction is set to `both`: a phone edited in the
CRM reaches QBO, and the change QBO reports back is recognised as our own echo.

Between the two, a proposal (6): created and sent from a deal, accepted in QBO, converted to
an invoice that shows on the person and the company in the query API, the estimate Closed.
Last (issue 7): the person's timeline names the engine's write that cleared the fields and the
QBO rename that caused it, and a restore of what that change cleared brings them back on both
sides without an echo loop.

Everything runs as `qbsync up` runs it (broker, sandboxes, worker, api, webhooks) in a fresh
temporary data dir; each step waits for the real effect in the other system, and the exit code
says whether every check held.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console

from adapters.crm.connector import CrmConnector
from adapters.qbo.connector import QboConnector
from qbsync.config import Settings
from qbsync.demo_history import act_history
from qbsync.demo_proposal import act_proposal
from qbsync.demo_watch import DecisionWatch
from qbsync.logs import configure_logging
from qbsync.up import start_stack
from qbsync.up_api import qbo_app_env, settings_with
from qbsync.up_table import Stack
from qbsync.up_tenant import DEMO_CRM_ACCOUNT, admin_request
from schemas.crm import CrmPerson
from schemas.qbo import QboCustomer
from schemas.requests import (
    EnableRequested,
    ImportRequested,
    InstallRequested,
    SettingsSaveRequested,
)
from schemas.settings import IntegrationSettings

T = TypeVar("T")
JOHN_EMAIL = "john.smith@example.com"
CRM_ONLY = {
    "phone": "555-1234",
    "work_address_1": "12 Elm Street",
    "work_city": "Springfield",
    "website": "https://johnsmith.example",
}
# The sandboxes' webhook delays, shortened so the story takes seconds (children inherit these).
FAST_SANDBOXES = {
    "QBSYNC_QBO_SANDBOX_WEBHOOK_BATCH_WINDOW_S": "0.5",
    "QBSYNC_CRM_SANDBOX_WEBHOOK_DELAY_S": "0.2",
}


class Report:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.failed: list[str] = []

    def act(self, title: str) -> None:
        self.console.rule(f"[bold]{title}")

    def say(self, text: str) -> None:
        self.console.print(text, highlight=False)

    def check(self, ok: bool, text: str) -> None:
        mark = "[green]✓[/green]" if ok else "[red]✗[/red]"
        self.console.print(f"  {mark} {text}", highlight=False)
        if not ok:
            self.failed.append(text)


async def until(probe: Callable[[], Awaitable[T]], ok: Callable[[T], bool], within: float) -> T:
    """Poll `probe` until `ok(value)`; the last value either way."""
    deadline = time.monotonic() + within
    value = await probe()
    while not ok(value) and time.monotonic() < deadline:
        await asyncio.sleep(0.3)
        value = await probe()
    return value


def _person_line(person: CrmPerson) -> str:
    fields = ("full_name", "email", "phone", "work_address_1", "work_city", "website")
    return ", ".join(f"{f}={getattr(person, f, None)!r}" for f in fields)


def _customer_line(customer: QboCustomer) -> str:
    phone = customer.PrimaryPhone.FreeFormNumber if customer.PrimaryPhone else None
    return f"DisplayName={customer.DisplayName!r}, phone={phone!r}, SyncToken={customer.SyncToken}"


async def _story(stack: Stack, settings: Settings, report: Report) -> None:
    tenant, realm = stack.tenant, stack.realm_id
    api_port = int(stack.api.url.rsplit(":", 1)[1])
    qbo_settings = settings_with(
        {**qbo_app_env(stack.qbo, api_port), "QBSYNC_DATA_DIR": str(settings.data_dir)}
    )
    crm_settings = settings_with(
        {
            "QBSYNC_CRM_BASE_URL": stack.crm.api_url,
            "QBSYNC_CRM_API_KEY": stack.crm.config.admin_api_key,
            "QBSYNC_CRM_APP_KEY": stack.crm.config.app_key,
        }
    )
    qbo_connector, crm_connector = QboConnector(qbo_settings), CrmConnector(crm_settings)
    watch = DecisionWatch(stack.bootstrap)
    await watch.start()
    try:
        qbo, crm = qbo_connector.client(tenant, realm), crm_connector.client()
        person_id, customer_id = await _act_one(stack, watch, qbo, crm, report)
        await act_proposal(stack, watch, qbo, crm, report, person_id)
        await asyncio.sleep(1.1)  # the CRM stamps changes in whole seconds
        before_rename = datetime.now(UTC)
        await asyncio.sleep(1.1)
        await _act_two(watch, qbo, crm, report, person_id, customer_id)
        await _act_three(stack, watch, qbo, crm, report, person_id, customer_id)
        await act_history(
            stack, watch, qbo, crm, report, person_id, customer_id, before_rename, CRM_ONLY
        )
    finally:
        await watch.stop()
        await qbo_connector.aclose()
        await crm_connector.aclose()


async def _act_one(
    stack: Stack, watch: DecisionWatch, qbo: Any, crm: Any, report: Report
) -> tuple[int, str]:
    report.act("1. John Smith in both systems; the first import links him")
    customer = await qbo.create_customer(
        {
            "GivenName": "John",
            "FamilyName": "Smith",
            "DisplayName": "John Smith",
            "PrimaryEmailAddr.Address": JOHN_EMAIL,
        },
        request_id=str(uuid.uuid4()),
    )
    company = await crm.create_company("Smith & Sons")
    person = await crm.create_person(
        {"first_name": "John", "last_name": "Smith", "email": JOHN_EMAIL, **CRM_ONLY},
        company_id=company.id,
    )
    report.say(f"QBO customer {customer.Id}: {_customer_line(customer)}")
    report.say(f"CRM person {person.id}: {_person_line(person)}")
    tenant = stack.tenant
    requests = [
        admin_request(
            InstallRequested,
            tenant,
            {"crm_account_id": DEMO_CRM_ACCOUNT, "realm_id": stack.realm_id},
        ),
        admin_request(EnableRequested, tenant, {}),
        admin_request(ImportRequested, tenant, {"dry_run": False}),
    ]
    await watch.publish(*requests)
    finished = await watch.wait(
        lambda r: (
            r["type"] == "qbsync.decision.import.finished.v1"
            and r["data"]["request_id"] == requests[-1].id
        ),
        timeout=120,
    )
    summary = finished["data"]["summary"] if finished else {}
    report.check(finished is not None, f"import finished: {summary.get('linked_existing')} linked")
    made = watch.find(
        lambda r: (
            r["type"] == "qbsync.decision.link.made.v1" and r["data"]["person_id"] == person.id
        )
    )
    report.check(
        made is not None and made["data"]["customer_id"] == customer.Id,
        f"CRM person {person.id} linked to QBO customer {customer.Id} (matched by email)",
    )
    after = await crm.get_person(person.id)
    kept = all(getattr(after, k, None) == v for k, v in CRM_ONLY.items())
    report.check(kept, f"the CRM kept its data: {_person_line(after)}")
    return person.id, customer.Id


async def _act_two(
    watch: DecisionWatch, qbo: Any, crm: Any, report: Report, person_id: int, customer_id: str
) -> None:
    report.act("3. Renamed to Jane Smith in QBO (direction qbo_to_crm, the default)")
    current = await qbo.get_customer(customer_id)
    renamed = await qbo.update_customer(
        customer_id,
        current.SyncToken,
        {"GivenName": "Jane", "DisplayName": "Jane Smith"},
        request_id=str(uuid.uuid4()),
    )
    report.say(f"QBO customer {customer_id}: {_customer_line(renamed)}")
    person = await until(
        lambda: crm.get_person(person_id), lambda p: p.first_name == "Jane", within=60
    )
    report.check(person.first_name == "Jane", f"the CRM shows {person.full_name!r}")
    cleared = all(getattr(person, k, None) in (None, "") for k in CRM_ONLY)
    report.check(
        cleared, f"phone, address and website cleared, as QBO has none: {_person_line(person)}"
    )
    synced = watch.find(
        lambda r: (
            r["type"] == "qbsync.decision.link.synced.v1"
            and r["data"]["person_id"] == person_id
            and r["data"]["written_side"] == "crm"
        )
    )
    if synced:
        lost = {c["field"]: c["before"] for c in synced["data"]["changes"] if c["after"] is None}
        report.say(f"  the history keeps what was cleared: {lost}")


async def _act_three(
    stack: Stack,
    watch: DecisionWatch,
    qbo: Any,
    crm: Any,
    report: Report,
    person_id: int,
    customer_id: str,
) -> None:
    report.act("4. Direction both: a phone edited in the CRM reaches QBO, and no echo comes back")
    save = admin_request(
        SettingsSaveRequested,
        stack.tenant,
        {"settings": IntegrationSettings(direction="both").model_dump(mode="json")},
    )
    await watch.publish(save)
    saved = await watch.wait(
        lambda r: (
            r["type"] == "qbsync.decision.installation.changed.v1"
            and r["data"]["input_id"] == save.id
        ),
        timeout=60,
    )
    report.check(saved is not None, "settings saved: direction both")
    await crm.update_person(person_id, {"phone": "555-7777"})
    customer = await until(
        lambda: qbo.get_customer(customer_id),
        lambda c: c.PrimaryPhone is not None and c.PrimaryPhone.FreeFormNumber == "555-7777",
        within=60,
    )
    report.check(
        customer.PrimaryPhone is not None and customer.PrimaryPhone.FreeFormNumber == "555-7777",
        f"QBO now has it: {_customer_line(customer)}",
    )
    echo = await watch.wait(
        lambda r: (
            r["type"] == "qbsync.decision.input.ignored.v1"
            and r["data"]["reason"] == "echo"
            and r["data"]["input_type"] == "qbsync.qbo.customer.changed.v1"
        ),
        timeout=60,
    )
    report.check(echo is not None, "QBO's report of our write was recognised as our echo")
    await asyncio.sleep(2)
    person = await crm.get_person(person_id)
    writes_back = watch.count(
        lambda r: (
            r["type"] == "qbsync.decision.link.synced.v1" and r["data"]["written_side"] == "crm"
        )
    )
    report.check(
        person.phone == "555-7777" and writes_back == 1,
        "nothing was written back to the CRM (one CRM write in the whole story: the rename)",
    )


def run_demo(settings: Settings) -> int:
    configure_logging("WARNING", settings.log_format)
    console = Console(width=100)
    report = Report(console)
    os.environ.update(FAST_SANDBOXES)
    with tempfile.TemporaryDirectory(prefix="qbsync-demo-") as tmp, ExitStack() as cleanup:
        demo_settings = settings.model_copy(update={"data_dir": Path(tmp)})
        console.print("starting broker, sandboxes, worker and api…")
        stack = start_stack(demo_settings, 0, cleanup, threading.Event())
        asyncio.run(_story(stack, demo_settings, report))
    console.rule()
    if report.failed:
        console.print(f"[red]{len(report.failed)} check(s) failed[/red]")
        return 1
    console.print("[green]every check held[/green]")
    return 0
