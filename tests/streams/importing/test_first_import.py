"""The import against the real sandboxes (SYNC-RULES 4): matching by email, the first-import
merge, companies, skipped and ambiguous customers, documents, the summary and its notification,
and a revoked QBO connection."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from engine.fields import match_key
from schemas.decisions import FieldChange, ImportFailed, ImportFinished, LinkMade
from schemas.imports import AmbiguousMatch, ConflictKept, SkippedCustomer
from schemas.qbo import QboEstimateChanged, QboInvoiceChanged
from schemas.requests import DocumentLine
from tests.streams.importing.conftest import TENANT

EMAIL = "PrimaryEmailAddr.Address"


async def vendor_example(world):
    """John Smith in both: QBO has no phone, address or website but a mobile and another city;
    the CRM has phone 555-1234, an address and a website."""
    customer = await world.customer(
        GivenName="John",
        FamilyName="Smith",
        DisplayName="John Smith",
        **{EMAIL: "john.smith@example.com", "Mobile.FreeFormNumber": "555-7777"},
        **{"BillAddr.City": "Cambridge"},
    )
    person = await world.person(
        first_name="John",
        last_name="Smith",
        email="John.Smith@Example.com",
        phone="555-1234",
        work_address_1="1 Main St",
        work_city="Boston",
        website="www.smith.example",
    )
    return customer, person


@pytest.mark.parametrize("direction", ["qbo_to_crm", "both"])
async def test_the_vendor_example_keeps_crm_data_fills_its_gaps_and_keeps_the_conflict(
    world, direction
):
    customer, person = await vendor_example(world)
    world.settings(direction)

    run = await world.job.run(world.start())

    assert run.status == "finished"
    after = await world.crm.get_person(person.id)
    assert (after.phone, after.work_address_1, after.website) == (
        "555-1234",
        "1 Main St",
        "www.smith.example",
    )
    assert after.mobile == "555-7777"  # empty in the CRM: taken from QBO
    assert after.work_city == "Boston"  # both set: the CRM's value is kept...
    conflict = ConflictKept(
        person_id=person.id,
        customer_id=customer.Id,
        crm_field="work_city",
        qbo_field="BillAddr.City",
        crm_value="Boston",
        qbo_value="Cambridge",
    )
    assert run.summary.conflicts == (conflict,)  # ...and the conflict is in the summary
    assert (run.summary.linked_existing, run.summary.people_created) == (1, 0)
    assert len(await world.people()) == 1

    link = world.store.link_for_customer(TENANT, customer.Id)
    assert link.person_id == person.id and link.state.first_import_done
    assert link.state.import_request_id == "req-1"
    [made] = world.events(LinkMade)
    assert made.data.crm_changes == (FieldChange(field="mobile", before=None, after="555-7777"),)
    assert made.data.crm["mobile"] == "555-7777" and made.data.person_created is False
    assert [note.crm_field for note in made.data.conflicts] == ["work_city"]
    assert made.data.agreed["work_city"].value == "Boston"
    assert made.data.agreed["mobile"].value == "555-7777"

    qbo_now = await world.qbo.get_customer(customer.Id)
    if direction == "both":  # the merged record is written to QBO too (4.6)
        assert qbo_now.PrimaryPhone.FreeFormNumber == "555-1234"
        assert qbo_now.WebAddr.URI == "www.smith.example"
        assert (qbo_now.BillAddr.Line1, qbo_now.BillAddr.City) == ("1 Main St", "Boston")
        assert {change.field for change in made.data.qbo_changes} == {
            "PrimaryPhone.FreeFormNumber",
            "WebAddr.URI",
            "BillAddr.Line1",
            "BillAddr.City",
        }
        assert made.data.qbo_sync_token == qbo_now.SyncToken == "1"
    else:
        assert qbo_now.SyncToken == "0" and qbo_now.PrimaryPhone is None
        assert made.data.qbo_changes == () and made.data.qbo_sync_token == "0"


async def test_skipped_ambiguous_and_created_people_are_in_the_summary_and_the_notification(
    world,
):
    no_mail = await world.customer(DisplayName="No Mail Ltd", GivenName="Nora")
    shared = await world.customer(DisplayName="Ann Lee", **{EMAIL: "ann@x.test"})
    older = await world.person(first_name="Ann", last_name="Lee", email="ann@x.test")
    newer = await world.person(first_name="Annie", last_name="Lee", email="ANN@x.test ")
    first = await world.customer(DisplayName="Bo Berg", GivenName="Bo", **{EMAIL: "bo@x.test"})
    second = await world.customer(DisplayName="Bo Berg 2", **{EMAIL: "Bo@X.test"})
    await world.person(first_name="Jo", email="jo.bo@x.test")  # a substring, not a match

    run = await world.job.run(world.start())

    summary = run.summary
    assert summary.skipped == (
        SkippedCustomer(customer_id=no_mail.Id, name="No Mail Ltd", reason="no_email"),
    )
    assert set(summary.ambiguous) == {
        AmbiguousMatch(
            email="ann@x.test", side="crm", linked_id=str(older.id), other_ids=(str(newer.id),)
        ),
        AmbiguousMatch(email="bo@x.test", side="qbo", linked_id=first.Id, other_ids=(second.Id,)),
    }
    assert world.store.link_for_customer(TENANT, shared.Id).person_id == older.id
    assert world.store.link_for_customer(TENANT, second.Id) is None
    bo = world.store.link_for_customer(TENANT, first.Id)
    people = await world.people()
    assert Counter(match_key(p.email) for p in people)["bo@x.test"] == 1  # one person for Bo
    created = next(p for p in people if p.id == bo.person_id)
    assert (created.first_name, created.email) == ("Bo", "bo@x.test")
    assert (summary.customers_read, summary.linked_existing, summary.people_created) == (4, 1, 1)
    assert summary.errors == ()
    counts = world.store.import_run(TENANT, "req-1").counts
    assert (counts["qbo_pages_customer"], counts["qbo_pages_invoice"]) == (1, 1)
    # 3 QBO pages + 2 CRM pages + Bo's person (a look-up and a create) = 7
    assert (summary.api_calls, counts["qbo_calls"], counts["crm_calls"]) == (7, 3, 4)
    [made_for_bo] = [m for m in world.events(LinkMade) if m.data.customer_id == first.Id]
    assert made_for_bo.data.person_created

    [notification] = world.notifications()
    assert notification["text"].startswith("QuickBooks import finished")
    assert "No Mail Ltd" in notification["text"] and "people created: 1" in notification["text"]
    assert world.store.import_run(TENANT, "req-1").notification_posted
    [finished] = world.events(ImportFinished)
    assert finished.data.summary == summary


async def test_a_company_is_found_case_insensitively_or_created_once_and_people_are_attached(
    world,
):
    acme = await world.crm.create_company("Acme Tools")
    found = await world.customer(
        DisplayName="Al Ace", GivenName="Al", CompanyName="acme tools", **{EMAIL: "al@acme.test"}
    )
    existing = await world.person(first_name="Cy", email="cy@acme.test")
    matched = await world.customer(
        DisplayName="Cy Ace", CompanyName="ACME TOOLS", **{EMAIL: "cy@acme.test"}
    )
    new_one = await world.customer(
        DisplayName="Di New", CompanyName="Brand New Co", **{EMAIL: "di@new.test"}
    )
    same_new = await world.customer(
        DisplayName="Ed New", CompanyName=" brand new co", **{EMAIL: "ed@new.test"}
    )

    run = await world.job.run(world.start())

    companies = await world.companies()
    assert sorted(c.name for c in companies) == ["Acme Tools", "Brand New Co"]
    brand_new = next(c for c in companies if c.name == "Brand New Co")
    assert run.summary.companies_created == 1
    people = {p.id: p for p in await world.people()}

    def company_of(customer):
        return people[world.store.link_for_customer(TENANT, customer.Id).person_id].company_id

    assert company_of(found) == acme.id  # a created person, in the existing company
    assert company_of(matched) == acme.id and people[existing.id].company_id == acme.id
    assert company_of(new_one) == company_of(same_new) == brand_new.id


async def test_every_invoice_and_estimate_of_a_linked_customer_is_published_for_its_person(world):
    linked = await world.customer(DisplayName="Fay Doc", **{EMAIL: "fay@doc.test"})
    skipped = await world.customer(DisplayName="No Mail Doc")
    line = DocumentLine(item_id="1", quantity=Decimal(2), unit_price=Decimal(50))
    invoice = await world.qbo.create_invoice(linked.Id, [line], "inv-linked")
    estimate = await world.qbo.create_estimate(linked.Id, [line], "est-linked")
    await world.qbo.create_invoice(skipped.Id, [line], "inv-skipped")

    run = await world.job.run(world.start())

    assert (run.summary.invoices_imported, run.summary.estimates_imported) == (1, 1)
    [published_invoice] = world.events(QboInvoiceChanged)
    [published_estimate] = world.events(QboEstimateChanged)
    assert published_invoice.data.entity.Id == invoice.Id
    assert published_estimate.data.entity.Id == estimate.Id
    assert published_invoice.tenant == TENANT and published_invoice.source == "/qbsync/import"
    assert world.store.link_for_customer(TENANT, linked.Id) is not None


async def test_a_revoked_qbo_connection_fails_the_run_and_a_redelivery_changes_nothing(world):
    await vendor_example(world)
    world.revoke_qbo()
    job = world.start()

    run = await world.job.run(job)

    assert run.status == "failed" and "InvalidGrant" in run.failure
    [failed] = world.events(ImportFailed)
    assert failed.data.request_id == "req-1" and failed.data.reason == run.failure
    assert world.runner.commands == [] and world.notifications() == []
    again = await world.job.run(job)
    assert again.status == "failed" and world.runner.commands == []
    assert len(world.events(ImportFailed)) == 2  # announced again, same id
    assert len({event.id for event in world.events(ImportFailed)}) == 1


async def test_when_the_crm_name_is_another_customers_displayname_qbo_keeps_its_own(world):
    """`both` writes the merged record to QBO; DisplayName is unique there (6240), so the
    customer keeps its name, gets the rest, and the link is made with the conflict kept."""
    await world.customer(DisplayName="John Smith", **{EMAIL: "john@one.test"})
    jon = await world.customer(
        DisplayName="Jon Smith", GivenName="Jon", FamilyName="Smith", **{EMAIL: "jon@two.test"}
    )
    person = await world.person(
        first_name="John", last_name="Smith", email="jon@two.test", phone="555-0101"
    )
    world.settings("both")

    run = await world.job.run(world.start())

    after = await world.qbo.get_customer(jon.Id)
    assert after.DisplayName == "Jon Smith" and after.GivenName == "John"
    assert after.PrimaryPhone.FreeFormNumber == "555-0101"
    assert world.store.link_for_customer(TENANT, jon.Id).person_id == person.id
    assert {(c.crm_field, c.crm_value, c.qbo_value) for c in run.summary.conflicts} == {
        ("first_name", "John", "Jon"),
        ("full_name", "John Smith", "Jon Smith"),
    }
    assert run.summary.errors == ()
    [made] = [m for m in world.events(LinkMade) if m.data.customer_id == jon.Id]
    assert "DisplayName" not in {change.field for change in made.data.qbo_changes}
    assert made.data.qbo["DisplayName"] == "Jon Smith"


async def test_a_customer_whose_write_fails_is_listed_as_an_error_and_the_rest_go_on(world):
    gone = await world.person(first_name="Gil", email="gil@x.test")  # deleted meanwhile
    gil = await world.customer(DisplayName="Gil G", FamilyName="Gee", **{EMAIL: "gil@x.test"})
    kept = await world.customer(DisplayName="Hal H", **{EMAIL: "hal@x.test"})

    async def delete_gil(command):
        if command.type == "qbsync.command.crm.person.update.v1":
            await world.crm.delete_person(gone.id)

    world.runner.before = delete_gil

    run = await world.job.run(world.start())

    assert run.status == "finished"
    [problem] = run.summary.errors
    assert problem.record == f"qbo/customer/{gil.Id}" and "NotFound" in problem.reason
    assert world.store.link_for_customer(TENANT, gil.Id) is None
    assert world.store.link_for_customer(TENANT, kept.Id) is not None
    assert (run.summary.linked_existing, run.summary.people_created) == (0, 1)
