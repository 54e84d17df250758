"""`?requestid=`: the first answer per company is replayed, the operation is not run again."""

from __future__ import annotations

import httpx

from tests.sandbox.qbo.conftest import Qbo, fault_code


def _count(qbo: Qbo) -> int:
    response = qbo.ok(qbo.query("SELECT COUNT(*) FROM Customer"))
    return int(response["QueryResponse"]["totalCount"])


def test_a_repeated_requestid_replays_the_first_answer_without_creating_again(qbo: Qbo) -> None:
    first = qbo.post("customer", {"DisplayName": "Once Only"}, requestid="req-1")
    again = qbo.post("customer", {"DisplayName": "Once Only"}, requestid="req-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()  # `time` included: verbatim
    assert _count(qbo) == 1


def test_a_replay_ignores_a_different_body_under_the_same_requestid(qbo: Qbo) -> None:
    first = qbo.post("customer", {"DisplayName": "First Body"}, requestid="req-2")
    second = qbo.post("customer", {"DisplayName": "Other Body"}, requestid="req-2")
    assert second.json() == first.json()
    assert _count(qbo) == 1


def test_a_fault_is_replayed_too(qbo: Qbo) -> None:
    qbo.customer("Taken Name")
    first = qbo.post("customer", {"DisplayName": "Taken Name"}, requestid="req-3")
    assert fault_code(first) == "6240"
    # Even if the clash is gone, the same requestid keeps its first answer.
    again = qbo.post("customer", {"DisplayName": "Now Free"}, requestid="req-3")
    assert (again.status_code, again.json()) == (first.status_code, first.json())


def test_writes_without_a_requestid_or_with_a_new_one_run_normally(qbo: Qbo) -> None:
    qbo.post("customer", {"DisplayName": "A"}, requestid="req-4")
    qbo.post("customer", {"DisplayName": "B"}, requestid="req-5")
    qbo.post("customer", {"DisplayName": "C"})
    assert _count(qbo) == 3


def test_a_batch_with_a_requestid_is_replayed(qbo: Qbo) -> None:
    body = {
        "BatchItemRequest": [
            {"bId": "1", "operation": "create", "Customer": {"DisplayName": "Batch Once"}}
        ]
    }
    first = qbo.post("batch", body, requestid="batch-1")
    again = qbo.post("batch", body, requestid="batch-1")
    assert again.json() == first.json()
    assert "Customer" in first.json()["BatchItemResponse"][0]
    assert _count(qbo) == 1


def test_requestids_are_kept_per_company(qbo: Qbo) -> None:
    other_realm = qbo.sandbox.config.realms[1].realm_id
    grant = qbo.http.post(
        "/_sandbox/oauth/grant", params={"realm_id": other_realm, "username": "accountant"}
    )
    token = grant.json()["access_token"]
    qbo.http.post(f"/_sandbox/realms/{other_realm}/reset").raise_for_status()
    qbo.post("customer", {"DisplayName": "Realm One"}, requestid="shared-id")
    other = httpx.post(
        f"{qbo.sandbox.base_url}/v3/company/{other_realm}/customer",
        params={"requestid": "shared-id"},
        json={"DisplayName": "Realm Two"},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    assert other.json()["Customer"]["DisplayName"] == "Realm Two"
