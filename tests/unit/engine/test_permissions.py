"""SYNC-RULES 3 and 6, permissions: admins always; a basic user only with the matching switch;
a denial is a RequestDenied with the reason, and no command is issued."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.decide import decide
from engine.state import TenantState
from schemas.decisions import InputApplied, RequestDenied
from schemas.envelope import Envelope
from schemas.requests import (
    DocumentSendRequested,
    EstimateConvertRequested,
    EstimateCreateRequested,
    InvoiceCreateRequested,
)
from schemas.settings import IntegrationSettings, Permissions

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LINES = [{"item_id": "1", "quantity": "2", "unit_price": "50.00"}]


def _request(cls: type[Envelope], is_admin: bool, **data: Any) -> Envelope:
    return cls.model_validate(
        {
            "id": f"req-{cls.__name__}-{is_admin}",
            "source": "/test",
            "time": NOW,
            "tenant": "acme-co",
            "data": {"actor": {"user_id": 8, "is_admin": is_admin}, **data},
        }
    )


def invoice(is_admin: bool) -> Envelope:
    return _request(InvoiceCreateRequested, is_admin, deal_id=1, person_id=2, lines=LINES)


def estimate(is_admin: bool) -> Envelope:
    return _request(EstimateCreateRequested, is_admin, deal_id=1, person_id=2, lines=LINES)


def convert(is_admin: bool) -> Envelope:
    return _request(EstimateConvertRequested, is_admin, estimate_id="7")


def send(is_admin: bool, kind: str) -> Envelope:
    return _request(DocumentSendRequested, is_admin, document_type=kind, qbo_id="7")


ALL_ON = Permissions(
    basic_can_create_estimates=True,
    basic_can_create_invoices=True,
    basic_can_convert_estimates=True,
)
CASES = [
    # (request, the one switch that allows a basic user, what the denial names)
    (invoice, Permissions(basic_can_create_invoices=True), "create invoices"),
    (estimate, Permissions(basic_can_create_estimates=True), "create estimates"),
    (convert, Permissions(basic_can_convert_estimates=True), "convert estimates"),
    (lambda a: send(a, "invoice"), Permissions(basic_can_create_invoices=True), "send invoices"),
    (
        lambda a: send(a, "estimate"),
        Permissions(basic_can_create_estimates=True),
        "send estimates",
    ),
]
IDS = ["invoice", "estimate", "convert", "send-invoice", "send-estimate"]


def _decide(request: Envelope, permissions: Permissions) -> tuple[Envelope, ...]:
    settings = IntegrationSettings(permissions=permissions)
    state = TenantState(installed=True, enabled=True, settings=settings, realm_id="9130357")
    decision = decide(state, request, settings, NOW)
    denied = any(isinstance(event, RequestDenied) for event in decision.events)
    assert (decision.commands == ()) == denied  # a denied request sends nothing to QBO
    return decision.events


@pytest.mark.parametrize(("make", "switch", "what"), CASES, ids=IDS)
def test_rule_6_a_basic_user_without_the_switch_is_denied_with_the_reason(make, switch, what):
    others_on = Permissions(
        **{name: name not in switch.model_fields_set for name in Permissions.model_fields}
    )
    [denied] = _decide(make(False), others_on)  # every other switch on: only this one counts
    assert isinstance(denied, RequestDenied)
    assert denied.data.code == "not_allowed"
    assert what in denied.data.reason and "user 8" in denied.data.reason


@pytest.mark.parametrize(("make", "switch", "what"), CASES, ids=IDS)
def test_rule_6_a_basic_user_with_the_switch_is_not_denied(make, switch, what):
    [outcome] = _decide(make(False), switch)
    assert isinstance(outcome, InputApplied) and len(outcome.data.command_ids) == 1


@pytest.mark.parametrize(("make", "switch", "what"), CASES, ids=IDS)
def test_rule_3_admins_may_always(make, switch, what):
    [outcome] = _decide(make(True), Permissions())
    assert not isinstance(outcome, RequestDenied)


def test_rule_3_every_switch_is_off_by_default():
    assert Permissions() != ALL_ON
    assert not any(Permissions().model_dump().values())
