"""The jobs topic side: a RunImport message runs to its end and its position is recorded (a
redelivery after that is skipped); bad messages are dead-lettered; a job that keeps failing
fails its run instead of holding the partition; the Faust agent is registered on the topic."""

from __future__ import annotations

from engine.deadletter import RawMessage
from schemas.catalog import encode
from schemas.deadletter import DeadLettered
from schemas.decisions import ImportFailed, ImportFinished
from schemas.topics import JOBS_TOPIC
from streams.importer import ImportJob, handle_job_message
from streams.importing.ports import ImportGateways
from tests.streams.importing.conftest import TENANT
from tests.streams.importing.test_first_import import vendor_example

CLUSTER = "test-cluster"


def message(value: bytes, offset: int, key: bytes | None = TENANT.encode()) -> RawMessage:
    return RawMessage(JOBS_TOPIC.name, 0, offset, key, value)


async def no_sleep(_: float) -> None:
    return None


async def test_a_job_message_runs_once_and_its_redelivery_is_skipped(world):
    await vendor_example(world)
    job = world.start()

    handled = await handle_job_message(
        world.job, world.publisher, world.store, message(encode(job), 7), CLUSTER
    )
    commands = len(world.runner.commands)
    again = await handle_job_message(
        world.job, world.publisher, world.store, message(encode(job), 7), CLUSTER
    )

    assert (handled, again) == ("done", "replayed")
    assert world.store.import_run(TENANT, "req-1").status == "finished"
    assert len(world.runner.commands) == commands and len(world.events(ImportFinished)) == 1


async def test_bad_job_messages_are_dead_lettered_and_accounted_for(world):
    job = world.start()
    outcomes = [
        await handle_job_message(
            world.job, world.publisher, world.store, message(b"not json", 1), CLUSTER
        ),
        await handle_job_message(
            world.job, world.publisher, world.store, message(encode(job), 2, b"other"), CLUSTER
        ),
    ]

    assert outcomes == ["dead_lettered", "dead_lettered"]
    letters = world.events(DeadLettered)
    assert [letter.data.offset for letter in letters] == [1, 2]
    assert "not the job's tenant" in letters[1].data.reason
    assert world.store.import_run(TENANT, "req-1").status == "running"  # not run
    assert world.store.processed_offset(CLUSTER, JOBS_TOPIC.name, 0) == 2


async def test_a_job_that_keeps_raising_fails_its_run_after_its_attempts(world):
    def broken(tenant: str):
        raise RuntimeError("the CRM client cannot be built")

    job = ImportJob(
        world.store,
        world.publisher,
        world.runner,
        ImportGateways(qbo=lambda tenant, realm: world.qbo, crm=broken),
    )
    run_import = world.start()

    handled = await handle_job_message(
        job, world.publisher, world.store, message(encode(run_import), 3), CLUSTER,
        attempts=3, sleep=no_sleep,
    )  # fmt: skip

    assert handled == "done"
    run = world.store.import_run(TENANT, "req-1")
    assert run.status == "failed" and "stopped after 3 attempts" in run.failure
    assert "cannot be built" in run.failure
    [failed] = world.events(ImportFailed)
    assert failed.data.reason == run.failure


async def test_the_importer_agent_reads_the_jobs_topic(world, tmp_path):
    from qbsync.config import Settings
    from streams.app import create_app
    from streams.importer import add_importer_agent

    settings = Settings(data_dir=tmp_path)
    app = create_app(settings, "127.0.0.1:9")  # nothing connects until the app starts
    agent = add_importer_agent(app, settings, world.publisher, world.store, world.job, CLUSTER)

    assert app.agents["qbsync.importer"] is agent
    assert [topic for topic in agent.channel.topics] == [JOBS_TOPIC.name]
