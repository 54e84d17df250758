"""Crash safety (SYNC-RULES 4.7, 7): a job killed at any point and redelivered resumes, and ends
exactly where an uninterrupted run ends: no duplicate person or company, every link, the same
summary, every LinkMade published.

The sandboxes' own seed data (links, creations, conflicts, ambiguities, customers without email,
invoices and estimates) is imported with direction `both` (so QBO is written too), once without
interruption, then again from scratch for each point of death: before a command is sent, after
a command's write (nothing recorded yet), at a publish (after a record, before Kafka has it),
and twice in one run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from engine.fields import match_key
from schemas.decisions import ImportFinished, LinkMade
from schemas.qbo import QboEstimateChanged, QboInvoiceChanged
from tests.streams.importing.conftest import (
    TENANT,
    Killed,
    World,
    make_world,
    reset_sandboxes,
    seed_sandboxes,
)

RECORDS, SEED = 24, 11


@dataclass(frozen=True)
class Result:
    links: dict[str, str]  # QBO customer id → email of the linked CRM person
    emails: Counter[str]  # CRM people per email: a duplicate shows as a count of 2
    people: int
    companies: int
    figures: tuple[Any, ...]
    published_links: frozenset[str]
    published_documents: frozenset[str]
    notifications: int


async def result_of(world: World, run: Any) -> Result:
    people = await world.people()
    email_of = {person.id: match_key(person.email) for person in people}
    links = {}
    for customer in await world.customers():
        link = world.store.link_for_customer(TENANT, customer.Id)
        if link is not None:
            links[customer.Id] = email_of[link.person_id]
    s = run.summary
    figures = (
        s.customers_read,
        s.linked_existing,
        s.people_created,
        s.companies_created,
        s.skipped,
        frozenset(s.ambiguous),
        frozenset((c.customer_id, c.crm_field, c.crm_value, c.qbo_value) for c in s.conflicts),
        s.invoices_imported,
        s.estimates_imported,
        s.errors,
    )
    documents = world.events(QboInvoiceChanged) + world.events(QboEstimateChanged)
    return Result(
        links=links,
        emails=Counter(email_of.values()),
        people=len(people),
        companies=len(await world.companies()),
        figures=figures,
        published_links=frozenset(m.data.customer_id for m in world.events(LinkMade)),
        published_documents=frozenset(d.data.entity.Id for d in documents),
        notifications=len(world.notifications()),
    )


async def seeded_world(qbo_sandbox, crm_sandbox, http, path) -> World:
    reset_sandboxes(qbo_sandbox, crm_sandbox)
    world = await make_world(qbo_sandbox, crm_sandbox, http, path)
    seed_sandboxes(world, RECORDS, SEED)
    world.settings("both")
    return world


@pytest.fixture(scope="module")
async def baseline(qbo_sandbox, crm_sandbox, tmp_path_factory):
    async with httpx.AsyncClient(timeout=10) as http:
        world = await seeded_world(
            qbo_sandbox, crm_sandbox, http, tmp_path_factory.mktemp("baseline")
        )
        run = await world.job.run(world.start())
        result = await result_of(world, run)
        commands = [command.type for command in world.runner.commands]
        published = world.publisher.published
        world.store.close()
    # The data exercises what a resume must get right:
    assert result.figures[1] >= 5 and result.figures[2] >= 3 and result.figures[3] >= 1
    assert result.figures[4] and result.figures[5] and result.figures[6]  # skips, ambiguity...
    assert "qbsync.command.qbo.customer.update.v1" in commands
    assert result.notifications == 1 and not result.figures[-1]
    return result, commands, published


def kill_points(commands: list[str], published: int) -> list[list[tuple[str, int]]]:
    writes = len(commands) - 1  # the last is the notification
    kinds = {kind: commands.index(kind) + 1 for kind in dict.fromkeys(commands[:-1])}
    return [
        [("after", kinds["qbsync.command.crm.company.create.v1"])],
        [("after", kinds["qbsync.command.crm.person.create.v1"])],
        [("before", kinds["qbsync.command.crm.person.create.v1"])],
        [("after", kinds["qbsync.command.qbo.customer.update.v1"])],
        [("after", writes // 2)],
        [("after", writes)],
        [("publish", 2)],
        [("publish", published // 2)],
        [("after", writes // 3), ("publish", 5)],
    ]


def arm(world: World, kind: str, at: int) -> None:
    if kind == "after":
        world.runner.die_after = len(world.runner.commands) + at
    elif kind == "before":
        world.runner.die_before = len(world.runner.commands) + at
    else:
        world.publisher.die_at = world.publisher.published + at


async def test_a_killed_import_resumes_to_exactly_what_an_uninterrupted_one_does(
    baseline, qbo_sandbox, crm_sandbox, tmp_path
):
    expected, commands, published = baseline
    async with httpx.AsyncClient(timeout=10) as http:
        for number, kills in enumerate(kill_points(commands, published)):
            world = await seeded_world(qbo_sandbox, crm_sandbox, http, tmp_path / str(number))
            job = world.start()
            for kind, at in kills:
                arm(world, kind, at)
                with pytest.raises(Killed):
                    await world.job.run(job)
            run = await world.job.run(job)  # the redelivered RunImport

            assert run.status == "finished", kills
            got = await result_of(world, run)
            assert got == expected, kills
            assert world.store.import_run(TENANT, job.data.request_id).notification_posted
            world.store.close()


async def test_a_finished_job_delivered_again_posts_nothing_and_announces_the_same_summary(
    qbo_sandbox, crm_sandbox, tmp_path
):
    async with httpx.AsyncClient(timeout=10) as http:
        world = await seeded_world(qbo_sandbox, crm_sandbox, http, tmp_path)
        job = world.start()
        first = await world.job.run(job)
        commands = len(world.runner.commands)

        again = await world.job.run(job)

        assert again.summary == first.summary and len(world.runner.commands) == commands
        assert len(world.notifications()) == 1
        finished = world.events(ImportFinished)
        assert len(finished) == 2 and finished[0] == finished[1]  # same id, time and summary
        world.store.close()


async def test_killed_between_the_notification_and_its_record_the_summary_is_posted_twice(
    qbo_sandbox, crm_sandbox, tmp_path
):
    """The one duplicate left (ADR 0007: a duplicate summary beats a lost one)."""
    async with httpx.AsyncClient(timeout=10) as http:
        world = await seeded_world(qbo_sandbox, crm_sandbox, http, tmp_path)
        job = world.start()
        original, armed = world.runner.run, []

        async def die_after_notification(command):
            if command.type == "qbsync.command.crm.notification.post.v1" and not armed:
                armed.append(True)
                world.runner.die_after = len(world.runner.commands) + 1
            return await original(command)

        world.runner.run = die_after_notification
        with pytest.raises(Killed):
            await world.job.run(job)
        run = await world.job.run(job)

        assert run.notification_posted and len(world.notifications()) == 2
        world.store.close()
