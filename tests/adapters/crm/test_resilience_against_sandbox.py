"""Faults Pipeline and networks produce, injected by the sandbox: the adapter retries what is
safe to retry, never sends a create twice when its outcome is unknown, and gives up in time."""

from __future__ import annotations

import dataclasses
import socket

import pytest

from adapters.crm.errors import ServerError, UnreachableError
from tests.adapters.crm.conftest import TEST_POLICY, make_client, unique


async def test_injected_server_errors_are_retried_to_success(client, sandbox):
    sandbox.set_faults(script=["http_500", "http_503", "http_500"])
    profile = await client.profile()
    assert profile.is_admin
    injected = sandbox.injected()
    assert (injected["http_500"], injected["http_503"]) == (2, 1)
    assert client.calls == 4


async def test_an_update_whose_answer_was_lost_is_sent_again(client, sandbox):
    person = await client.create_person({"full_name": f"Lou {unique()}"})
    sandbox.set_faults(script=["lost_response"], timeout_s=0.3, only_writes=True)
    quick = client.with_policy(dataclasses.replace(TEST_POLICY, timeout_s=0.1))
    updated = await quick.update_person(person.id, {"position": "Chief"})
    assert updated.position == "Chief" and sandbox.injected()["lost_response"] == 1


async def test_a_create_whose_answer_was_lost_is_not_sent_again_but_flagged(client, sandbox):
    email = f"lost.{unique()}@example.com"
    sandbox.set_faults(script=["lost_response"], timeout_s=0.3, only_writes=True)
    quick = client.with_policy(dataclasses.replace(TEST_POLICY, timeout_s=0.1))
    with pytest.raises(UnreachableError) as caught:
        await quick.create_person({"full_name": "Lost Answer", "email": email})
    assert caught.value.maybe_applied
    # It did happen, once: the caller looks before creating again.
    assert len(await client.find_people_by_email(email)) == 1


async def test_a_server_error_on_a_create_is_not_retried(client, sandbox):
    sandbox.set_faults(script=["http_500"], only_writes=True)
    with pytest.raises(ServerError) as caught:
        await client.create_company(f"Flaky {unique()}")
    assert caught.value.maybe_applied and caught.value.status == 500
    assert sandbox.injected()["considered"] == 1


async def test_transient_errors_give_up_after_the_allowed_attempts(client, sandbox):
    sandbox.set_faults(http_503=1.0)
    with pytest.raises(ServerError) as caught:
        await client.get_person(1)
    assert caught.value.status == 503 and not caught.value.maybe_applied
    assert sandbox.injected()["considered"] == TEST_POLICY.max_attempts


async def test_a_refused_connection_is_retried_even_for_a_create_then_reported(sandbox, http):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(sandbox, http, base_url=f"http://127.0.0.1:{port}/api/v3")
    with pytest.raises(UnreachableError) as caught:
        await client.create_person({"full_name": "Nobody Home"})
    assert not caught.value.maybe_applied  # nothing was sent, so nothing can have happened
    assert client.calls == TEST_POLICY.max_attempts
