"""Intuit webhook signatures and both payload formats."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from adapters.qbo_bridge import signature
from adapters.qbo_bridge.payloads import PayloadError, parse

VERIFIER = "verifier-token-123"
BODY = b'{"eventNotifications":[]}'


def independent_signature(body: bytes, key: str) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def test_a_signature_made_with_the_verifier_token_is_accepted():
    assert signature.is_valid(BODY, independent_signature(BODY, VERIFIER), VERIFIER)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        independent_signature(BODY, "another-token"),
        independent_signature(BODY + b" ", VERIFIER),
        "not base64 at all",
    ],
    ids=["missing", "empty", "wrong-key", "other-body", "garbage"],
)
def test_a_forged_or_missing_signature_is_refused(header):
    assert not signature.is_valid(BODY, header, VERIFIER)


def test_signatures_are_compared_in_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(signature.hmac, "compare_digest", spy)
    signature.is_valid(BODY, independent_signature(BODY, VERIFIER), VERIFIER)
    assert len(calls) == 1


def test_legacy_payload_yields_one_notification_per_synced_entity():
    body = json.dumps(
        {
            "eventNotifications": [
                {
                    "realmId": "123",
                    "dataChangeEvent": {
                        "entities": [
                            {
                                "name": "Customer",
                                "id": "1",
                                "operation": "Create",
                                "lastUpdated": "2026-11-24T14:42:19-0700",
                            },
                            {
                                "name": "Customer",
                                "id": "9",
                                "operation": "Merge",
                                "lastUpdated": "2026-11-24T14:43:00.000Z",
                                "deletedId": "7",
                            },
                            {
                                "name": "Vendor",
                                "id": "3",
                                "operation": "Create",
                                "lastUpdated": "2026-11-24T14:42:19-0700",
                            },
                        ]
                    },
                }
            ]
        }
    ).encode()
    parsed = parse(body)
    assert parsed.ignored == 1
    first, merge = parsed.notifications
    assert (first.realm_id, first.entity, first.entity_id, first.operation) == (
        "123",
        "Customer",
        "1",
        "Create",
    )
    assert first.occurred_at.utcoffset().total_seconds() == -7 * 3600
    assert (merge.operation, merge.deleted_id) == ("Merge", "7")


def test_cloudevents_payload_is_read_with_its_types_and_nanosecond_times():
    body = json.dumps(
        [
            {
                "specversion": "1.0",
                "id": "88cd-Invoice-130",
                "source": "intuit.x",
                "type": "qbo.invoice.voided.v1",
                "time": "2026-11-24T21:31:25.179851517Z",
                "intuitentityid": "130",
                "intuitaccountid": "456",
            },
            {
                "specversion": "1.0",
                "id": "88ce-Customer-9",
                "source": "intuit.x",
                "type": "qbo.customer.merged.v1",
                "time": "2026-11-24T21:31:26Z",
                "intuitentityid": "9",
                "intuitaccountid": "456",
                "data": {"deletedid": "27"},
            },
            {
                "specversion": "1.0",
                "id": "x",
                "source": "intuit.x",
                "type": "qbo.account.created.v1",
                "time": "2026-11-24T21:31:26Z",
                "intuitentityid": "1",
                "intuitaccountid": "456",
            },
        ]
    ).encode()
    parsed = parse(body)
    assert parsed.ignored == 1
    voided, merged = parsed.notifications
    assert (voided.entity, voided.operation, voided.dedupe_key) == (
        "Invoice",
        "Void",
        "88cd-Invoice-130",
    )
    assert (merged.entity, merged.operation, merged.deleted_id) == ("Customer", "Merge", "27")


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b"nope", "not JSON"),
        (b'{"eventNotifications": [{"realmId": "1"}]}', "dataChangeEvent"),
        (b'[{"specversion": "1.0", "id": "1", "type": "qbo.customer.created.v1"}]', "time"),
    ],
)
def test_an_unreadable_payload_is_refused_naming_what_is_wrong(body, where):
    with pytest.raises(PayloadError, match=where):
        parse(body)
