"""CRM commands run by the CommandRunner against the real Pipeline CRM sandbox over HTTP.

Pipeline takes no idempotency key, so creates look before they create (ADR 0007)."""

from __future__ import annotations

from schemas.crm import CrmCompany, CrmPerson
from schemas.outcomes import CommandFailed, CommandSucceeded
from tests.adapters.crm.conftest import unique
from tests.adapters.executor import builders


def succeeded(outcome) -> dict:
    assert isinstance(outcome, CommandSucceeded), outcome
    return outcome.data.result


async def test_a_person_created_twice_with_one_email_exists_once(runner, crm):
    email = f"pat.{unique()}@example.com"
    command = builders.create_person({"full_name": "Pat Doe", "email": email, "phone": "555"})

    first_outcome = await runner.run(command)
    first = succeeded(first_outcome)
    again = succeeded(await runner.run(command))

    assert first["found_existing"] is False and again["found_existing"] is True
    assert first["person"]["id"] == again["person"]["id"]
    assert [p.id for p in await crm.find_people_by_email(email)] == [first["person"]["id"]]
    person = CrmPerson.model_validate(first["person"])  # the result round-trips
    assert (person.email, person.phone) == (email, "555")
    assert first_outcome.data.attempts == 1


async def test_a_person_already_in_the_crm_under_that_email_is_adopted_not_duplicated(runner, crm):
    email = f"kim.{unique()}@example.com"
    oldest = await crm.create_person({"full_name": "Kim One", "email": email})
    await crm.create_person({"full_name": "Kim Two", "email": email.upper()})
    command = builders.create_person({"full_name": "Kim Q", "email": f"  {email} "})
    result = succeeded(await runner.run(command))
    assert result == {
        "person": oldest.model_dump(mode="json", by_alias=True),
        "found_existing": True,
    }
    assert len(await crm.find_people_by_email(email)) == 2  # nothing added


async def test_a_person_is_created_in_the_company_given(runner, crm):
    company = await crm.create_company(f"Berg AS {unique()}")
    command = builders.create_person(
        {"full_name": "Liv Berg", "email": f"liv.{unique()}@example.com"}, company_id=company.id
    )
    result = succeeded(await runner.run(command))
    assert result["person"]["company_id"] == company.id


async def test_a_person_create_whose_answer_was_lost_is_looked_up_not_sent_again(
    runner, crm, crm_sandbox
):
    email = f"lost.{unique()}@example.com"
    crm_sandbox.set_faults(script=["lost_response"], timeout_s=0.2, only_writes=True)
    result = succeeded(await runner.run(builders.create_person({"full_name": "L", "email": email})))
    assert crm_sandbox.injected()["lost_response"] == 1  # the create did happen, unanswered
    found = await crm.find_people_by_email(email)
    assert [p.id for p in found] == [result["person"]["id"]]
    assert result["found_existing"] is False  # it is the one this command created


async def test_a_lost_create_without_an_email_fails_for_an_operator_to_check(runner, crm_sandbox):
    crm_sandbox.set_faults(script=["lost_response"], timeout_s=0.2, only_writes=True)
    outcome = await runner.run(builders.create_person({"full_name": f"No Mail {unique()}"}))
    assert isinstance(outcome, CommandFailed)
    assert (outcome.data.code, outcome.data.retryable) == ("maybe_applied", False)


async def test_a_company_is_found_by_name_before_it_is_created(runner, crm):
    name = f"Fjord Fisk {unique()}"
    first = succeeded(await runner.run(builders.create_company(name)))
    again = succeeded(await runner.run(builders.create_company(f" {name.upper()} ")))
    assert first["found_existing"] is False and again["found_existing"] is True
    assert first["company"]["id"] == again["company"]["id"]
    assert CrmCompany.model_validate(first["company"]).name == name
    assert (await crm.find_company_by_name(name)).id == first["company"]["id"]


async def test_a_company_name_that_only_contains_the_wanted_one_is_not_a_match(runner, crm):
    name = f"Acme {unique()}"
    longer = await crm.create_company(f"{name} International")
    result = succeeded(await runner.run(builders.create_company(name)))
    assert result["found_existing"] is False and result["company"]["id"] != longer.id


async def test_a_person_is_updated_and_a_cleared_field_comes_back_empty(runner, crm):
    person = await crm.create_person({"full_name": "Ola N", "phone": "1", "work_city": "Oslo"})
    command = builders.update_person(person.id, {"phone": None, "work_city": "Bergen"})
    result = succeeded(await runner.run(command))
    stored = await crm.get_person(person.id)
    assert stored is not None and (stored.phone, stored.work_city) == (None, "Bergen")
    assert CrmPerson.model_validate(result["person"]).work_city == "Bergen"


async def test_an_update_of_a_deleted_person_fails_as_not_found_and_not_retryable(runner, crm):
    person = await crm.create_person({"full_name": "Gone Soon"})
    await crm.delete_person(person.id)
    outcome = await runner.run(builders.update_person(person.id, {"phone": "2"}))
    assert isinstance(outcome, CommandFailed)
    assert (outcome.data.code, outcome.data.retryable) == ("not_found", False)


async def test_an_account_notification_is_posted(runner, crm_sandbox):
    title = f"Import finished {unique()}"
    result = succeeded(await runner.run(builders.post_notification(title, "3 linked")))
    shown = crm_sandbox.control("GET", "/account_notifications")["entries"]
    assert any(n["id"] == result["notification"]["id"] for n in shown)
    assert result["notification"]["text"] == f"{title}\n\n3 linked"


async def test_crm_server_faults_that_outlast_the_retries_fail_retryably(runner, crm_sandbox):
    crm_sandbox.set_faults(http_500=1.0)
    outcome = await runner.run(builders.update_person(1, {"phone": "3"}))
    assert isinstance(outcome, CommandFailed)
    assert (outcome.data.code, outcome.data.retryable) == ("500", True)


async def test_a_rejected_record_fails_for_good_with_the_status(runner):
    outcome = await runner.run(builders.create_person({"full_name": "X", "email": "not-an-email"}))
    assert isinstance(outcome, CommandFailed)
    assert (outcome.data.code, outcome.data.retryable) == ("422", False)
    assert "email" in outcome.data.reason


async def test_a_tenant_without_crm_credentials_fails_as_not_connected(runner):
    outcome = await runner.run(builders.update_person(1, {"phone": "1"}, tenant="other-co"))
    assert isinstance(outcome, CommandFailed)
    assert (outcome.data.code, outcome.data.retryable) == ("not_connected", False)


async def test_a_command_the_runner_does_not_know_fails_as_unsupported(runner):
    from schemas.commands import RunImport, RunImportData

    job = RunImport(
        id="job-1", source="/t", time=builders.NOW, tenant="acme",
        data=RunImportData(request_id="r1", requested_by=1),
    )  # fmt: skip
    outcome = await runner.run(job)
    assert isinstance(outcome, CommandFailed)
    assert (outcome.data.code, outcome.data.retryable) == ("unsupported", False)
