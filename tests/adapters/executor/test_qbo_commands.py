"""QBO commands run by the CommandRunner against the real QBO sandbox over HTTP."""

from __future__ import annotations

from adapters.executor.outcomes import outcome_id
from engine.ids import derived_id
from schemas.catalog import encode
from schemas.outcomes import CommandFailed, CommandSucceeded
from schemas.qbo import QboCustomer
from tests.adapters.executor import builders
from tests.adapters.executor.builders import NOW, TENANT, new_id
from tests.adapters.executor.conftest import runner_for
from tests.adapters.qbo.conftest import REALM, unique


async def customers_named(qbo, name: str) -> int:
    escaped = name.replace("\\", "\\\\").replace("'", "\\'")
    return await qbo.count("Customer", f"DisplayName = '{escaped}'")


def succeeded(outcome) -> dict:
    assert isinstance(outcome, CommandSucceeded), outcome
    return outcome.data.result


# -- create ---------------------------------------------------------------------------------
async def test_a_customer_created_twice_under_one_command_id_exists_once(runner, qbo):
    name = unique("Jane Twice")
    command = builders.create_customer(
        REALM, 4211, {"DisplayName": name, "PrimaryEmailAddr.Address": "jane@example.com"}
    )

    first = succeeded(await runner.run(command))
    again = succeeded(await runner.run(command))  # redelivered after a crash, say

    assert first["customer"]["Id"] == again["customer"]["Id"]
    assert first["display_name"] == again["display_name"] == name
    assert await customers_named(qbo, name) == 1
    created = QboCustomer.model_validate(first["customer"])  # the result round-trips
    assert created == await qbo.get_customer(created.Id)


async def test_the_outcome_envelope_points_back_at_its_command(runner):
    command = builders.create_customer(REALM, 7, {"DisplayName": unique("Env")})
    outcome = await runner.run(command)
    assert isinstance(outcome, CommandSucceeded)
    assert outcome.id == outcome_id(command.id) == derived_id(command.id, "outcome")
    assert (outcome.tenant, outcome.subject, outcome.time) == (command.tenant, command.subject, NOW)
    assert (outcome.causationid, outcome.correlationid) == (command.id, "flow-1")
    assert outcome.source == "/qbsync/executor"
    assert (outcome.data.command_id, outcome.data.command_type) == (command.id, command.type)
    assert outcome.data.attempts == 1


async def test_a_create_whose_answer_was_lost_is_retried_into_qbos_replay_not_a_second_customer(
    runner, qbo, qbo_sandbox
):
    name = unique("Lost Answer")
    qbo_sandbox.set_faults(script=["lost_response"], timeout_s=0.2, only_writes=True)
    result = succeeded(await runner.run(builders.create_customer(REALM, 9, {"DisplayName": name})))
    assert result["display_name"] == name
    assert await customers_named(qbo, name) == 1


async def test_a_taken_display_name_gets_the_persons_crm_suffix(runner, qbo):
    name = unique("Jane Smith")
    await qbo.create_customer({"DisplayName": name}, new_id())  # typed into QBO by someone
    command = builders.create_customer(
        REALM, 4211, {"DisplayName": name, "GivenName": "Jane", "FamilyName": "Smith"}
    )

    outcome = await runner.run(command)
    result = succeeded(outcome)
    assert result["display_name"] == f"{name} (CRM 4211)"
    assert result["customer"]["DisplayName"] == f"{name} (CRM 4211)"
    assert outcome.data.attempts == 2
    # Running it again lands on the same customer: each attempt's requestid is replayed.
    assert succeeded(await runner.run(command))["customer"]["Id"] == result["customer"]["Id"]
    assert await customers_named(qbo, name) == 1
    assert await customers_named(qbo, f"{name} (CRM 4211)") == 1


async def test_when_the_suffixed_name_is_taken_too_the_next_numbered_one_is_used(runner, qbo):
    name = unique("Bo Ek")
    await qbo.create_customer({"DisplayName": name}, new_id())
    await qbo.create_customer({"DisplayName": f"{name} (CRM 7)"}, new_id())
    result = succeeded(await runner.run(builders.create_customer(REALM, 7, {"DisplayName": name})))
    assert result["display_name"] == f"{name} (CRM 7-2)"


async def test_a_name_clash_that_outlasts_every_suffix_fails_for_good(qbo_adapter, crm, qbo):
    name = unique("Crowded")
    await qbo.create_customer({"DisplayName": name}, new_id())
    await qbo.create_customer({"DisplayName": f"{name} (CRM 5)"}, new_id())
    runner = runner_for(qbo_adapter, crm, name_retries=1)
    outcome = await runner.run(builders.create_customer(REALM, 5, {"DisplayName": name}))
    assert isinstance(outcome, CommandFailed)
    assert (outcome.data.code, outcome.data.retryable, outcome.data.attempts) == ("6240", False, 2)


# -- update ---------------------------------------------------------------------------------
async def arrange_customer(qbo, **fields: str) -> QboCustomer:
    return await qbo.create_customer({"DisplayName": unique("Ann Berg"), **fields}, new_id())


async def test_an_update_on_the_current_sync_token_is_one_sparse_write(runner, qbo):
    customer = await arrange_customer(qbo, GivenName="Ann", **{"BillAddr.City": "Oslo"})
    command = builders.update_customer(
        REALM,
        customer.Id,
        customer.SyncToken,
        {"BillAddr.City": "Bergen"},
        {"BillAddr.City": "Oslo"},
    )
    outcome = await runner.run(command)
    result = succeeded(outcome)
    assert result["applied"] == {"BillAddr.City": "Bergen"}
    assert result["skipped_concurrent"] == []
    stored = await qbo.get_customer(customer.Id)
    assert QboCustomer.model_validate(result["customer"]) == stored
    assert stored.BillAddr.City == "Bergen" and stored.GivenName == "Ann"
    assert (stored.SyncToken, outcome.data.attempts) == ("1", 1)


async def test_a_stale_update_where_qbo_changed_another_field_keeps_both_changes(runner, qbo):
    customer = await arrange_customer(qbo, GivenName="Ann", **{"BillAddr.City": "Oslo"})
    await qbo.update_customer(customer.Id, "0", {"BillAddr.City": "Bergen"}, new_id())  # in QBO
    command = builders.update_customer(
        REALM, customer.Id, "0", {"GivenName": "Anna"}, {"GivenName": "Ann"}
    )

    outcome = await runner.run(command)

    result = succeeded(outcome)
    stored = await qbo.get_customer(customer.Id)
    assert stored.GivenName == "Anna" and stored.BillAddr.City == "Bergen"
    assert result["applied"] == {"GivenName": "Anna"} and result["skipped_concurrent"] == []
    assert QboCustomer.model_validate(result["customer"]) == stored
    assert outcome.data.attempts == 2


async def test_a_stale_update_where_qbo_changed_the_same_field_keeps_qbos_value(runner, qbo):
    customer = await arrange_customer(qbo, GivenName="Ann")
    await qbo.update_customer(customer.Id, "0", {"GivenName": "Annie"}, new_id())  # in QBO
    command = builders.update_customer(
        REALM, customer.Id, "0",
        {"GivenName": "Anna", "FamilyName": "Berg"}, {"GivenName": "Ann", "FamilyName": None},
    )  # fmt: skip

    result = succeeded(await runner.run(command))

    stored = await qbo.get_customer(customer.Id)
    assert (stored.GivenName, stored.FamilyName) == ("Annie", "Berg")
    assert result["skipped_concurrent"] == ["GivenName"]
    assert result["applied"] == {"FamilyName": "Berg"}


async def test_a_stale_update_with_nothing_left_to_apply_succeeds_without_a_write(runner, qbo):
    customer = await arrange_customer(qbo, GivenName="Ann")
    changed = await qbo.update_customer(customer.Id, "0", {"GivenName": "Annie"}, new_id())
    command = builders.update_customer(
        REALM, customer.Id, "0", {"GivenName": "Anna"}, {"GivenName": "  ann  ".strip().title()}
    )

    outcome = await runner.run(command)
    result = succeeded(outcome)

    stored = await qbo.get_customer(customer.Id)
    assert stored.SyncToken == changed.SyncToken == "1"  # no second write
    assert outcome.data.attempts == 1  # nor a second attempt at one
    assert result == {
        "customer": stored.model_dump(mode="json", by_alias=True),
        "applied": {},
        "skipped_concurrent": ["GivenName"],
    }


async def test_base_values_compare_trimmed_with_empty_as_none(runner, qbo):
    customer = await arrange_customer(qbo, GivenName="Ann")  # FamilyName absent in QBO
    await qbo.update_customer(customer.Id, "0", {"BillAddr.City": "Oslo"}, new_id())
    command = builders.update_customer(
        REALM, customer.Id, "0",
        {"GivenName": "Anna", "FamilyName": "Berg"}, {"GivenName": " Ann ", "FamilyName": ""},
    )  # fmt: skip
    result = succeeded(await runner.run(command))
    assert result["applied"] == {"GivenName": "Anna", "FamilyName": "Berg"}
    stored = await qbo.get_customer(customer.Id)
    assert (stored.GivenName, stored.FamilyName) == ("Anna", "Berg")


async def test_a_field_without_a_base_value_is_applied_again_after_a_stale_token(runner, qbo):
    customer = await arrange_customer(qbo, GivenName="Ann")
    await qbo.update_customer(customer.Id, "0", {"GivenName": "Annie"}, new_id())
    command = builders.update_customer(REALM, customer.Id, "0", {"GivenName": "Anna"}, {})
    result = succeeded(await runner.run(command))
    assert result["applied"] == {"GivenName": "Anna"} and result["skipped_concurrent"] == []
    assert (await qbo.get_customer(customer.Id)).GivenName == "Anna"


async def test_an_update_run_again_after_it_succeeded_writes_nothing_more(runner, qbo):
    customer = await arrange_customer(qbo, GivenName="Ann")
    await qbo.update_customer(customer.Id, "0", {"GivenName": "Annie"}, new_id())
    command = builders.update_customer(
        REALM, customer.Id, "0",
        {"GivenName": "Anna", "FamilyName": "Berg"}, {"GivenName": "Ann", "FamilyName": None},
    )  # fmt: skip
    first = succeeded(await runner.run(command))
    token = (await qbo.get_customer(customer.Id)).SyncToken

    again = succeeded(await runner.run(command))

    assert (await qbo.get_customer(customer.Id)).SyncToken == token
    assert again["applied"] == first["applied"] == {"FamilyName": "Berg"}
    assert again["skipped_concurrent"] == first["skipped_concurrent"] == ["GivenName"]


async def test_a_sync_token_that_stays_stale_fails_retryably(qbo_adapter, crm, qbo):
    customer = await arrange_customer(qbo, GivenName="Ann")
    await qbo.update_customer(customer.Id, "0", {"BillAddr.City": "Oslo"}, new_id())
    runner = runner_for(qbo_adapter, crm, stale_retries=0)
    command = builders.update_customer(REALM, customer.Id, "0", {"GivenName": "Anna"}, {})
    outcome = await runner.run(command)
    assert isinstance(outcome, CommandFailed)
    assert (outcome.data.code, outcome.data.retryable) == ("5010", True)
    assert (await qbo.get_customer(customer.Id)).GivenName == "Ann"


async def test_an_update_of_a_missing_customer_fails_for_good(runner):
    command = builders.update_customer(REALM, "99999999", "0", {"GivenName": "X"}, {})
    outcome = await runner.run(command)
    assert isinstance(outcome, CommandFailed)
    assert outcome.data.retryable is False and outcome.data.code in ("610", "404")


# -- failures -------------------------------------------------------------------------------
async def test_a_revoked_connection_fails_as_not_connected_and_not_retryable(
    runner, qbo_adapter, qbo_sandbox
):
    tokens = await qbo_adapter.vault.load(TENANT, REALM)
    qbo_sandbox.control("POST", "/_sandbox/oauth/revoke", params={"realm_id": REALM})
    outcome = await runner.run(builders.create_customer(REALM, 1, {"DisplayName": unique("R")}))
    assert isinstance(outcome, CommandFailed)
    assert (outcome.data.code, outcome.data.retryable) == ("not_connected", False)
    assert "an admin must connect" in outcome.data.reason
    text = encode(outcome).decode()
    assert tokens.access_token not in text and tokens.refresh_token not in text


async def test_a_tenant_never_connected_fails_as_not_connected(runner):
    command = builders.create_customer(REALM, 1, {"DisplayName": "X"}, tenant="other-co")
    outcome = await runner.run(command)
    assert isinstance(outcome, CommandFailed)
    assert (outcome.data.code, outcome.data.retryable) == ("not_connected", False)


async def test_server_faults_that_outlast_the_adapters_retries_fail_retryably(
    runner, qbo, qbo_sandbox
):
    name = unique("Flaky")
    qbo_sandbox.set_faults(http_503=1.0, only_writes=True)
    outcome = await runner.run(builders.create_customer(REALM, 1, {"DisplayName": name}))
    assert isinstance(outcome, CommandFailed)
    assert (outcome.data.code, outcome.data.retryable) == ("10000", True)  # QBO's SystemFault
    assert outcome.data.attempts == 1  # one write; the adapter's own retries are inside it
    qbo_sandbox.control("POST", "/_sandbox/faults/reset")
    assert await customers_named(qbo, name) == 0
