"""Re-running the import is safe (SYNC-RULES 4.7) and a dry run writes nothing (4.9)."""

from __future__ import annotations

from decimal import Decimal

from schemas.decisions import ImportFinished, LinkMade
from schemas.imports import WouldClear
from schemas.qbo import QboCustomerChanged, QboInvoiceChanged
from schemas.requests import DocumentLine
from tests.streams.importing.conftest import TENANT
from tests.streams.importing.test_first_import import EMAIL, vendor_example


async def everything(world):
    """Both sandboxes' records as JSON, and the CRM's notifications."""
    return (
        [c.model_dump(mode="json") for c in await world.customers()],
        [p.model_dump(mode="json") for p in await world.people()],
        [c.model_dump(mode="json") for c in await world.companies()],
        world.notifications(),
    )


async def test_a_rerun_duplicates_nothing_and_hands_linked_customers_to_section_5(world):
    john, person = await vendor_example(world)
    ann = await world.customer(
        DisplayName="Ann New", GivenName="Ann", CompanyName="New Co", **{EMAIL: "ann@new.test"}
    )
    line = DocumentLine(item_id="1", quantity=Decimal(1), unit_price=Decimal(10))
    await world.qbo.create_invoice(ann.Id, [line], "inv-ann")
    world.settings("both")
    await world.job.run(world.start())
    people, companies = await world.people(), await world.companies()
    ann_link = world.store.link_for_customer(TENANT, ann.Id)
    john_now = await world.qbo.get_customer(john.Id)
    renamed = await world.qbo.update_customer(
        john.Id, john_now.SyncToken, {"GivenName": "Jane"}, "rename-john"
    )
    later = await world.customer(DisplayName="Late Comer", **{EMAIL: "late@new.test"})
    world.publisher.sent.clear()
    commands_before = len(world.runner.commands)

    run = await world.job.run(world.start())

    summary = run.summary
    assert (summary.linked_existing, summary.people_created, summary.companies_created) == (
        0,
        1,
        0,
    )
    assert len(await world.people()) == len(people) + 1  # only the new QBO customer's person
    assert len(await world.companies()) == len(companies)
    assert world.store.link_for_customer(TENANT, ann.Id) == ann_link
    assert world.store.link_for_customer(TENANT, john.Id).person_id == person.id
    assert world.store.link_for_customer(TENANT, later.Id) is not None
    new_commands = world.runner.commands[commands_before:]
    assert [c.type for c in new_commands] == [
        "qbsync.command.crm.person.create.v1",
        "qbsync.command.crm.notification.post.v1",
    ]
    made = world.events(LinkMade)
    assert [m.data.customer_id for m in made] == [later.Id]
    changed = {e.data.entity.Id: e for e in world.events(QboCustomerChanged)}
    assert set(changed) == {john.Id, ann.Id}  # linked before: section 5 decides on them
    assert changed[john.Id].data.entity.SyncToken == renamed.SyncToken
    assert changed[john.Id].data.entity.GivenName == "Jane"
    assert changed[john.Id].time == renamed.MetaData.LastUpdatedTime
    assert changed[john.Id].id != changed[ann.Id].id
    assert [e.data.entity.CustomerRef.value for e in world.events(QboInvoiceChanged)] == [ann.Id]
    assert summary.invoices_imported == 1
    assert world.store.import_run(TENANT, "req-2").counts["already_linked"] == 2
    assert len(world.notifications()) == 2  # one per import


async def test_a_dry_run_writes_nothing_and_lists_what_a_later_qbo_update_would_clear(world):
    john, person = await vendor_example(world)
    await world.customer(
        DisplayName="Ann New", GivenName="Ann", CompanyName="New Co", **{EMAIL: "ann@new.test"}
    )
    world.settings("qbo_to_crm")
    before = await everything(world)

    run = await world.job.run(world.start(dry_run=True))

    assert await everything(world) == before  # not one write, not even the notification
    assert world.runner.commands == []
    assert world.store.link_for_customer(TENANT, john.Id) is None
    assert world.events(LinkMade) == []
    summary = run.summary
    assert (summary.linked_existing, summary.people_created, summary.companies_created) == (
        1,
        1,
        1,
    )
    assert [c.crm_field for c in summary.conflicts] == ["work_city"]
    assert set(summary.would_clear) == {
        WouldClear(person_id=person.id, crm_field="phone", value="555-1234"),
        WouldClear(person_id=person.id, crm_field="website", value="www.smith.example"),
        WouldClear(person_id=person.id, crm_field="work_address_1", value="1 Main St"),
    }  # work_city is not cleared: QBO has one (it would be overwritten, not cleared)
    [finished] = world.events(ImportFinished)
    assert finished.data.dry_run and finished.data.summary == summary
    report = world.job.last_report
    assert [(link.customer_id, link.person_id) for link in report.would_link] == [
        (john.Id, person.id)
    ]
    assert report.would_create_companies == ("New Co",)


async def test_a_dry_run_with_both_directions_would_clear_nothing(world):
    await vendor_example(world)
    world.settings("both")

    run = await world.job.run(world.start(dry_run=True))

    assert run.summary.would_clear == () and run.summary.linked_existing == 1
    assert world.runner.commands == []
