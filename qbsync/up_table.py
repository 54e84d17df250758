"""What `qbsync up` prints once the stack is up: every part, where it listens, how to try it.

The sandboxes' development credentials are shown on purpose (they are the sandboxes' own
values), and so is this run's demo ingest key; the secret key, OAuth tokens and the CRM webhook
token never are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from qbsync.up_api import Api, DemoKeys
from qbsync.up_children import Part
from qbsync.up_sandboxes import CrmSandbox, QboSandbox
from schemas.topics import TOPICS


@dataclass(frozen=True)
class Stack:
    tenant: str
    seed: int
    bootstrap: str
    broker_desc: str
    qbo: QboSandbox
    realm_id: str
    crm: CrmSandbox
    api: Api
    keys: DemoKeys
    worker: Part
    worker_web_port: int
    log_dir: Path
    parts: list[Part]


def print_stack(console: Console, stack: Stack) -> None:
    qbo, crm, api, tenant = stack.qbo, stack.crm, stack.api, stack.tenant
    crm_keys = f"api_key={crm.config.admin_api_key}&app_key={crm.config.app_key}"
    table = Table(title=f"qbsync is up — demo tenant {tenant!r}", show_lines=True)
    table.add_column("part", no_wrap=True)
    table.add_column("where", overflow="fold")
    table.add_row("Kafka broker", f"{stack.bootstrap}  ({stack.broker_desc})")
    table.add_row("topics", ", ".join(t.name for t in TOPICS))
    table.add_row(
        f"QBO sandbox\npid {qbo.part.pid}",
        f"{qbo.url}/v3  (seed {stack.seed} customers per company)\n"
        f"discovery  {qbo.discovery_url}\n"
        f"realm {stack.realm_id} connected as tenant {tenant} through OAuth (tokens encrypted "
        f"under the data dir); client id {qbo.config.client_id}\n"
        f"a token for your own calls: POST {qbo.url}/_sandbox/oauth/grant"
        f"?realm_id={stack.realm_id}\n"
        f"webhooks → {api.qbo_webhook_url}",
    )
    table.add_row(
        f"CRM sandbox\npid {crm.part.pid}",
        f"{crm.api_url}  (seed {stack.seed} people, emails overlapping QBO's)\n"
        f"admin api_key {crm.config.admin_api_key}  app_key {crm.config.app_key}\n"
        f"try  {crm.api_url}/people.json?{crm_keys}\n"
        f"webhooks person/company/deal x create/update/destroy → "
        f"{api.crm_webhook_url(tenant)}?token=…",
    )
    table.add_row(
        f"HTTP API\npid {api.part.pid}",
        f"{api.url}  (parts: {', '.join(api.parts) or 'none'})\n"
        f"POST /v1/tenants/{tenant}/crm-events  with  Authorization: Bearer "
        f"{stack.keys.ingest_key}\n"
        f"POST /v1/crm/webhooks/{tenant} · POST /v1/qbo/webhooks · GET /healthz · /docs",
    )
    table.add_row(f"engine worker\npid {stack.worker.pid}", f"web port {stack.worker_web_port}")
    table.add_row("logs", f"{stack.log_dir}/  " + ", ".join(p.log.name for p in stack.parts))
    console.print(table)
    console.print(
        "A change in either sandbox reaches qbsync.crm.changes.v1 / qbsync.qbo.changes.v1; "
        "the worker decides on qbsync.decisions.v1. Ctrl-C stops everything."
    )
