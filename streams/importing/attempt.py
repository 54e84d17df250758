"""One attempt at an import run: read, plan, then link customer after customer, resuming what an
earlier attempt (killed at any moment) left.

Why it is safe to kill anywhere (every write below is followed by a record, or is repeatable):
- Before any write, the plan's lists (skipped, ambiguous, companies to create) are recorded.
- A company: create (look-before-create, deterministic command id), then record its id.
- A customer: record the intent (the merge and its writes), then run its commands (ids derived
  from the request and the customer), then record the link, the item's outcome and the outbox
  holding the `LinkMade` in one transaction, then publish. Killed before the intent: nothing was
  written, the next attempt decides afresh. Killed between intent and link: the next attempt
  runs the same commands again (QBO replays by requestid, a person or company is found by
  look-before-create, an update writes the same values) and records the link. Killed after the
  link: the item is done; its `LinkMade` is published again from the outbox, its documents from
  a fresh read.
- Every `progress_every` customers, after a flush, `published_through` records that every
  customer up to that id is done and published, so a resumed attempt skips them quickly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from engine.companies import company_key
from engine.dry_run import DryRunReport, dry_run_report
from engine.import_plan import ImportPlan, PlannedLink, PlannedPerson
from engine.matching import plan_import
from engine.merge import merge_first_import
from qbsync.logs import get_logger
from schemas.settings import IntegrationSettings
from schemas.topics import DECISIONS_TOPIC, QBO_CHANGES, topic_for
from store import CustomerAlreadyLinked, InvalidTransition, QbsyncStore
from store import import_run as runs
from store.import_run import (
    CompanyResult,
    ImportItem,
    ImportRun,
    ItemIntent,
    ItemOutcome,
    mutate_import_item,
    mutate_import_run,
)
from store.model import DomainEvent
from streams.importing.commands import Commands, ItemFailure, RunFailure
from streams.importing.envelopes import Envelopes
from streams.importing.intents import (
    agreed_values,
    create_intent,
    kept_conflicts,
    link_intent,
    writes_anything,
)
from streams.importing.ports import CommandRunner, ImportGateways, Publisher
from streams.importing.reading import Calls, Snapshot, read_everything
from streams.importing.records import load_items, load_links, record_link, recorded_outputs
from streams.importing.summary import (
    Figures,
    dry_run_summary,
    import_summary,
    inactive_count,
    planned_import,
)

log = get_logger(__name__)
Clock = Callable[[], datetime]
DUPLICATE_NAME = "6240"  # QBO: another customer has this DisplayName
UNIQUE_NAME_FIELDS = frozenset({"DisplayName", "PrintOnCheckName"})


CONCURRENT_CUSTOMERS = 8


async def _together(steps: list[Coroutine[Any, Any, None]]) -> None:
    """Run the steps at once; if one fails, stop the others before raising (as a crash would)."""
    tasks = [asyncio.create_task(step) for step in steps]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


class ImportAttempt:
    def __init__(
        self,
        *,
        store: QbsyncStore,
        publisher: Publisher,
        runner: CommandRunner,
        gateways: ImportGateways,
        clock: Clock,
        envelopes: Envelopes,
        settings: IntegrationSettings,
        run: ImportRun,
        progress_every: int,
    ) -> None:
        self.store, self.publisher, self.runner = store, publisher, runner
        self.gateways, self.clock, self.env = gateways, clock, envelopes
        self.settings, self.run, self.every = settings, run, max(1, progress_every)
        self.tenant, self.request_id = run.tenant, run.request_id
        self.resumed = run.planned is not None
        self.calls = Calls(qbo=run.counts.get("qbo_calls", 0), crm=run.counts.get("crm_calls", 0))
        self.commands = Commands(runner, self.calls)
        self.items: dict[str, ImportItem] = {}
        self.outcomes: dict[str, ItemOutcome] = {}
        self.refreshed: set[str] = set()
        self.processed = 0
        self.snapshot = Snapshot((), (), (), (), ())
        self.plan = ImportPlan()
        self.report: DryRunReport | None = None
        self._creates: dict[str, PlannedPerson] = {}
        self._links: dict[str, PlannedLink] = {}

    # --- the run ----------------------------------------------------------------------------

    async def execute(self) -> ImportRun:
        qbo = self.gateways.qbo(self.tenant, self.env.realm_id)
        crm = self.gateways.crm(self.tenant)
        self.snapshot = await read_everything(qbo, crm, self.calls)
        customer_ids = [customer.Id for customer in self.snapshot.customers]
        links = await asyncio.to_thread(load_links, self.store, self.tenant, customer_ids)
        self.plan = plan_import(
            self.snapshot.customers, self.snapshot.people, self.snapshot.companies, links,
            self.settings,
        )  # fmt: skip
        self._creates = {planned.customer_id: planned for planned in self.plan.creates}
        self._links = {link.customer_id: link for link in self.plan.links}
        if self.run.dry_run:
            return await self._dry_run()
        if self.resumed:
            self.items = await asyncio.to_thread(
                load_items, self.store, self.tenant, self.request_id, customer_ids
            )
        else:
            total = len(self.plan.links) + len(self.plan.creates)
            await self._record(runs.plan(self.run, planned_import(self.plan, total)))
        await self._companies()
        work = self._work()
        # Customers are independent (each has its own item aggregate and its own person), so a
        # few run at once: a slow or retried call of one does not hold up the rest. A checkpoint
        # is taken only between windows, when every customer before it is done.
        since_checkpoint = 0
        for start in range(0, len(work), CONCURRENT_CUSTOMERS):
            window = work[start : start + CONCURRENT_CUSTOMERS]
            await _together([self._one(customer_id) for customer_id in window])
            self.processed = start + len(window)
            since_checkpoint += len(window)
            if since_checkpoint >= self.every and self.processed < len(work):
                await self._checkpoint(int(window[-1]), len(work))
                since_checkpoint = 0
        last = int(work[-1]) if work else 0
        await self._checkpoint(last, len(work))
        return await self._finish()

    def _work(self) -> list[str]:
        plan = self.plan
        ids = {link.customer_id for link in plan.links}
        ids |= {create.customer_id for create in plan.creates}
        ids |= {existing.customer_id for existing in plan.already_linked}
        ids |= {cid for cid, item in self.items.items() if item.intent or item.outcome}
        return sorted(ids, key=int)

    async def _one(self, customer_id: str) -> None:
        item = self.items.get(customer_id)
        fresh = int(customer_id) > self.run.published_through
        if item is not None and item.outcome is not None:
            self.outcomes[customer_id] = item.outcome
            if fresh and item.outcome.status in ("linked", "created"):
                await self._republish(customer_id)
        elif item is not None and item.intent is not None:
            await self._link(customer_id, item.intent, resumed=True)
        elif customer_id in self._links or customer_id in self._creates:
            await self._link(customer_id, None, resumed=False)
        else:
            self.refreshed.add(customer_id)
            customer = self.snapshot.by_id[customer_id]
            if fresh:
                await self.publisher.publish(QBO_CHANGES, self.env.customer_changed(customer))
                await self._publish_documents(customer_id)

    # --- companies (4.4) ---------------------------------------------------------------------

    async def _companies(self) -> None:
        assert self.run.planned is not None
        for name in self.run.planned.companies:
            key = company_key(name) or name
            if key in self.run.companies:
                continue
            try:
                result = await self.commands.run(self.env.create_company(key, name, self.clock()))
            except ItemFailure as failure:
                resolved = CompanyResult(name=name, error=str(failure))
            else:
                company = result["company"]
                created = not result.get("found_existing") or self.resumed
                resolved = CompanyResult(name=name, company_id=int(company["id"]), created=created)
            await self._record(runs.resolve_company(self.run, key, resolved))

    def _company_for(self, customer_id: str) -> int | None:
        choice = self.plan.companies.get(customer_id)
        if choice is None:
            return None
        if choice.company_id is not None:
            return choice.company_id
        resolved = self.run.companies.get(company_key(choice.name) or choice.name)
        return resolved.company_id if resolved else None

    # --- one customer (4.3, 4.5, 4.6) ----------------------------------------------------------

    def _intent(self, customer_id: str) -> ItemIntent | ItemOutcome:
        customer = self.snapshot.by_id[customer_id]
        company_id = self._company_for(customer_id)
        planned = self._creates.get(customer_id)
        if planned is not None:
            return create_intent(customer, planned.fields, company_id)
        link = self._links[customer_id]
        current = self.store.link(self.tenant, link.person_id)
        if current is not None and current.status != "ended":
            reason = f"person {link.person_id} is linked to QBO customer {current.customer_id}"
            return ItemOutcome(status="failed", person_id=link.person_id, error=reason)
        person = self.snapshot.person(link.person_id)
        assert person is not None
        return link_intent(person, customer, self.settings, company_id)

    async def _link(self, customer_id: str, intent: ItemIntent | None, *, resumed: bool) -> None:
        if intent is None:
            decided = await asyncio.to_thread(self._intent, customer_id)
            if isinstance(decided, ItemOutcome):
                await self._done(customer_id, decided)
                return
            intent = decided
            if writes_anything(intent):
                await self._record_item(
                    runs.plan_item(None, self.tenant, self.request_id, customer_id, intent)
                )
        try:
            person, created, customer, applied = await self._write(customer_id, intent, resumed)
        except ItemFailure as failure:
            outcome = ItemOutcome(status="failed", person_id=intent.person_id, error=str(failure))
            await self._done(customer_id, outcome)
            return
        person_id = int(person["id"])
        decision = self.env.link_made(
            customer_id,
            person,
            customer,
            intent,
            person_created=created,
            agreed=agreed_values(person, customer, self.settings),
            applied_qbo=applied,
            now=self.clock(),
        )
        outcome = ItemOutcome(
            status="created" if created else "linked",
            person_id=person_id,
            conflicts=kept_conflicts(intent, person_id, customer_id),
        )
        try:
            item = self.items.get(customer_id)
            done = await asyncio.to_thread(record_link, self.store, item, decision, outcome)
        except CustomerAlreadyLinked as refused:
            outcome = ItemOutcome(status="already_linked", person_id=person_id, error=str(refused))
            await self._done(customer_id, outcome)
            return
        except InvalidTransition as refused:  # the person was linked meanwhile
            outcome = ItemOutcome(status="failed", person_id=person_id, error=str(refused))
            await self._done(customer_id, outcome)
            return
        self.items[customer_id] = mutate_import_item(done, item)
        self.outcomes[customer_id] = outcome
        await self.publisher.publish(DECISIONS_TOPIC, decision)
        await self._publish_documents(customer_id)

    async def _write(
        self, customer_id: str, intent: ItemIntent, resumed: bool
    ) -> tuple[dict[str, Any], bool, dict[str, Any], set[str]]:
        """Run the intent's commands: (person, created, customer, QBO fields applied)."""
        now = self.clock()
        created = False
        if intent.person_id is None:
            result = await self.commands.run(self.env.create_person(customer_id, intent, now))
            person: dict[str, Any] = result["person"]
            # Found at the first try: someone else made it. After a crash: most likely ours.
            created = not result.get("found_existing") or resumed
        elif intent.crm_updates:
            command = self.env.update_person(customer_id, intent.person_id, intent, now)
            person = (await self.commands.run(command))["person"]
        else:
            person = await self._person_json(intent.person_id)
        person_id = int(person["id"])
        customer = self.snapshot.by_id.get(customer_id)
        if customer is None:
            raise ItemFailure(f"QBO customer {customer_id} is no longer there")
        customer_json: dict[str, Any] = customer.model_dump(mode="json", by_alias=True)
        applied: set[str] = set()
        if intent.qbo_updates:
            written = await self._write_back(customer_id, person_id, intent, now)
            if written is not None:
                customer_json = written["customer"]
                applied = set(written.get("applied") or {})
        return person, created, customer_json, applied

    async def _write_back(
        self, customer_id: str, person_id: int, intent: ItemIntent, now: datetime
    ) -> dict[str, Any] | None:
        """`both`: the merged record to QBO (4.6). When the CRM's name is another customer's
        DisplayName (6240: names are unique in QBO), QBO keeps its own name and the rest is
        written; the conflict is recorded either way. None: nothing was left to write."""
        command = self.env.update_customer(customer_id, person_id, intent, now)
        try:
            return await self.commands.run(command)
        except ItemFailure as failure:
            if failure.code != DUPLICATE_NAME:
                raise
        fields = {k: v for k, v in intent.qbo_updates.items() if k not in UNIQUE_NAME_FIELDS}
        log.info("import_keeps_qbo_display_name", tenant=self.tenant, customer_id=customer_id)
        if not fields:
            return None
        command = self.env.update_customer(customer_id, person_id, intent, now, fields=fields)
        return await self.commands.run(command)

    async def _person_json(self, person_id: int) -> dict[str, Any]:
        person = self.snapshot.person(person_id)
        if person is None:
            person = await self.gateways.crm(self.tenant).get_person(person_id)
            self.calls.crm += 1
        if person is None:
            raise ItemFailure(f"CRM person {person_id} is no longer there")
        return person.model_dump(mode="json", by_alias=True)

    # --- records and publishing ----------------------------------------------------------------

    async def _record(self, event: DomainEvent) -> None:
        await asyncio.to_thread(self.store.record, event)
        self.run = mutate_import_run(event, self.run)

    async def _record_item(self, event: runs.ItemEvent) -> None:
        await asyncio.to_thread(self.store.record, event)
        self.items[event.customer_id] = mutate_import_item(event, self.items.get(event.customer_id))

    async def _done(self, customer_id: str, outcome: ItemOutcome) -> None:
        event = runs.finish_item(
            self.items.get(customer_id), self.tenant, self.request_id, customer_id, outcome
        )
        await self._record_item(event)
        self.outcomes[customer_id] = outcome

    async def _republish(self, customer_id: str) -> None:
        outputs = await asyncio.to_thread(
            recorded_outputs, self.store, self.tenant, self.request_id, customer_id
        )
        for output in outputs:
            await self.publisher.publish(topic_for(type(output)), output)
        await self._publish_documents(customer_id)

    async def _publish_documents(self, customer_id: str) -> None:
        for document in self.snapshot.documents.get(customer_id, ()):
            await self.publisher.publish(QBO_CHANGES, self.env.document_changed(document))

    async def _checkpoint(self, through: int, total: int) -> None:
        await self.publisher.flush()
        counts = self.counts(total)
        through = max(through, self.run.published_through)
        await self._record(runs.progress(self.run, counts, published_through=through))
        await self.publisher.publish(
            DECISIONS_TOPIC, self.env.progressed(counts, total, self.clock())
        )
        await self.publisher.flush()

    # --- the end -------------------------------------------------------------------------------

    def counts(self, total: int) -> dict[str, int]:
        statuses = [outcome.status for outcome in self.outcomes.values()]
        return {
            "customers_read": len(self.snapshot.customers),
            "total": total,
            "processed": self.processed,
            "linked_existing": statuses.count("linked"),
            "people_created": statuses.count("created"),
            "already_linked": len(self.refreshed) + statuses.count("already_linked"),
            "companies_created": sum(1 for c in self.run.companies.values() if c.created),
            "errors": statuses.count("failed"),
            "conflicts": sum(len(outcome.conflicts) for outcome in self.outcomes.values()),
            "skipped": sum(1 for s in self.plan.skipped if s.reason == "no_email"),
            "inactive": inactive_count(self.plan),
            "ambiguous": len(self.plan.ambiguous),
            "qbo_calls": self.calls.qbo,
            "crm_calls": self.calls.crm,
            # QBO query pages of this attempt's read, per entity (the minimum is ceil(n / 1000))
            **{f"qbo_pages_{name.lower()}": n for name, n in self.calls.qbo_pages.items()},
        }

    def _figures(self, linked: set[str]) -> Figures:
        invoices, estimates = self.snapshot.document_counts(linked)
        return Figures(
            customers_read=len(self.snapshot.customers),
            invoices=invoices,
            estimates=estimates,
            duration_s=(self.clock() - self.run.started_at).total_seconds(),
            api_calls=self.calls.total,
        )

    async def _finish(self) -> ImportRun:
        assert self.run.planned is not None
        linked = {cid for cid, o in self.outcomes.items() if o.status in ("linked", "created")}
        figures = self._figures(linked | self.refreshed)
        summary = import_summary(
            self.run.planned, self.outcomes, self.run.companies.values(), figures
        )
        await self._record(runs.finish(self.run, summary, at=self.clock()))
        return self.run

    async def _dry_run(self) -> ImportRun:
        plan, read = self.plan, self.snapshot
        merges = {
            link.customer_id: merge_first_import(
                read.person(link.person_id) or {}, read.by_id[link.customer_id], self.settings
            )
            for link in plan.links
        }
        report = dry_run_report(plan, merges)
        log.info("import_dry_run", tenant=self.tenant, request_id=self.request_id,
                 report=report.model_dump(mode="json"))  # fmt: skip
        self.report = report
        touched = {link.customer_id for link in plan.links}
        touched |= {create.customer_id for create in plan.creates}
        touched |= {existing.customer_id for existing in plan.already_linked}
        summary = dry_run_summary(plan, report, self._figures(touched))
        counts = self.counts(len(touched))
        await self._record(runs.progress(self.run, counts))
        await self._record(runs.finish(self.run, summary, at=self.clock()))
        return self.run


__all__ = ["ImportAttempt", "ItemFailure", "RunFailure"]
