"""Restore (issue 7) over the pure core: after the vendor's overwrite cleared John's phone,
website and address, a restore puts them back through ordinary commands; the rules hold."""

from __future__ import annotations

from typing import Any

import pytest

from engine.restore import FieldFilter, fields_to_restore
from schemas.commands import UpdateCrmPerson, UpdateQboCustomer
from schemas.decisions import InputIgnored, LinkSynced, RequestDenied
from schemas.requests import RestoreRequested
from schemas.settings import IntegrationSettings
from tests.unit.engine.builders import BOTH, CRM_TO_QBO, QBO_TO_CRM
from tests.unit.engine.test_decide_linked import JOHN_CRM, T0, Story, at

BEFORE_OVERWRITE = {
    "phone": JOHN_CRM["phone"],
    "website": JOHN_CRM["website"],
    "work_address_1": JOHN_CRM["work_address_1"],
    "work_city": JOHN_CRM["work_city"],
}


def restore(story: Story, *, admin: bool = True, values: dict[str, Any] | None = None):
    return story.decide(
        story._envelope(
            RestoreRequested,
            {
                "actor": {"user_id": 7, "is_admin": admin},
                "person_id": 4211,
                "as_of": T0.isoformat(),
                "values": values or BEFORE_OVERWRITE,
                "restore_id": "restore-1",
                "scope": "record",
                "scope_id": "4211",
            },
            at(30),
        )
    )


def overwritten(story: Story) -> None:
    """QBO drops phone, website and address (qbo_to_crm overwrites the CRM), and the CRM's
    report of that write comes back."""
    cleared = {"PrimaryPhone": None, "WebAddr": None, "BillAddr": None}
    decision = story.qbo_change(at(5), "1", **cleared)
    update = next(c for c in decision.commands if isinstance(c, UpdateCrmPerson))
    story.succeeded(update, {"person": {**story.link.crm, "updated_at": at(6).isoformat()}})


def commands_of(decision) -> dict[type, Any]:
    return {type(command): command for command in decision.commands}


def test_restore_writes_the_cleared_crm_fields_back_and_leaves_qbo_alone_with_qbo_to_crm():
    story = Story(QBO_TO_CRM)
    overwritten(story)
    decision = restore(story)
    commands = commands_of(decision)
    assert set(commands) == {UpdateCrmPerson}
    assert commands[UpdateCrmPerson].data.fields == BEFORE_OVERWRITE
    [synced] = [e for e in decision.events if isinstance(e, LinkSynced)]
    assert synced.data.input_id == decision.events[-1].data.input_id  # caused by the request
    assert {c.field: (c.before, c.after) for c in synced.data.changes}["phone"] == (
        None,
        "555-1234",
    )


def test_with_both_restore_writes_qbo_too_and_neither_echo_is_sent_back():
    story = Story(BOTH)
    overwritten_both = story.qbo_change(at(5), "1", PrimaryPhone=None, WebAddr=None, BillAddr=None)
    update = next(c for c in overwritten_both.commands if isinstance(c, UpdateCrmPerson))
    story.succeeded(update, {"person": {**story.link.crm, "updated_at": at(6).isoformat()}})
    decision = restore(story)
    commands = commands_of(decision)
    assert set(commands) == {UpdateCrmPerson, UpdateQboCustomer}
    assert commands[UpdateQboCustomer].data.fields == {
        "PrimaryPhone.FreeFormNumber": "555-1234",
        "WebAddr.URI": "https://smith.example",
        "BillAddr.Line1": "1 Main St",
        "BillAddr.City": "Springfield",
    }
    # Both writes come back holding the restored values: recognised, nothing written again.
    crm_echo = story.crm_change(at(31), **BEFORE_OVERWRITE)
    assert crm_echo.commands == ()
    qbo_echo = story.qbo_change(
        at(31),
        "3",
        PrimaryPhone={"FreeFormNumber": "555-1234"},
        WebAddr={"URI": "https://smith.example"},
        BillAddr={"Line1": "1 Main St", "City": "Springfield"},
    )
    assert qbo_echo.commands == ()


def test_with_crm_to_qbo_restore_writes_qbo_where_it_differs():
    story = Story(CRM_TO_QBO)
    story.link = story.link.model_copy(update={"qbo": {**story.link.qbo, "PrimaryPhone": None}})
    decision = restore(story, values={"phone": "555-1234"})
    commands = commands_of(decision)
    assert set(commands) == {UpdateQboCustomer}  # the CRM holds it already
    assert commands[UpdateQboCustomer].data.fields == {"PrimaryPhone.FreeFormNumber": "555-1234"}


def test_a_basic_user_may_not_restore_and_nothing_is_written():
    story = Story(BOTH)
    overwritten(story)
    decision = restore(story, admin=False)
    assert decision.commands == ()
    [denied] = [e for e in decision.events if isinstance(e, RequestDenied)]
    assert denied.data.code == "not_allowed" and "only admins" in denied.data.reason


def test_while_disabled_a_restore_writes_nothing():
    story = Story(QBO_TO_CRM, enabled=False)
    decision = restore(story)
    assert decision.commands == ()
    [denied] = [e for e in decision.events if isinstance(e, RequestDenied)]
    assert denied.data.code == "disabled"


def test_a_record_already_holding_the_values_is_ignored_with_the_reason():
    decision = restore(Story(BOTH))
    assert decision.commands == ()
    [ignored] = [e for e in decision.events if isinstance(e, InputIgnored)]
    assert ignored.data.reason == "no_mapped_change"


def test_an_unlinked_person_is_ignored_as_not_linked():
    story = Story(BOTH)
    story.link = None
    [ignored] = [e for e in restore(story).events if isinstance(e, InputIgnored)]
    assert ignored.data.reason == "not_linked"


def test_display_name_is_never_emptied_in_qbo_by_a_restore():
    story = Story(BOTH)
    decision = restore(story, values={"full_name": None, "phone": "555-9"})
    qbo = commands_of(decision)[UpdateQboCustomer]
    assert "DisplayName" not in qbo.data.fields


def test_the_same_request_decided_twice_gives_the_same_commands():
    first, second = Story(QBO_TO_CRM), Story(QBO_TO_CRM)
    overwritten(first)
    overwritten(second)
    assert [c.id for c in restore(first).commands] == [c.id for c in restore(second).commands]


# --- which fields a restore plans to put back (pure) --------------------------------------------

THEN = {
    "full_name": "J. Smith",
    "first_name": "John",
    "phone": "555-1234",
    "email": "John@Smith.example",
    "website": None,
}
NOW = {
    "full_name": "J. Smith",
    "first_name": "Jane",
    "phone": None,
    "email": "john@smith.example",
    "website": "w.example",
}


@pytest.mark.parametrize(
    ("only", "expected"),
    [
        (  # everything that differs; an email differing only in case is the same address
            FieldFilter(),
            {
                "first_name": ("Jane", "John"),
                "phone": (None, "555-1234"),
                "website": ("w.example", None),
            },
        ),
        (FieldFilter(only_cleared=True), {"phone": (None, "555-1234")}),
        (FieldFilter(fields=frozenset({"first_name"})), {"first_name": ("Jane", "John")}),
        (FieldFilter(fields=frozenset({"first_name"}), only_cleared=True), {}),
    ],
)
def test_fields_to_restore_are_the_mapped_fields_that_differ_as_the_filter_chooses(only, expected):
    mapping = IntegrationSettings().field_mapping
    found = fields_to_restore(THEN, NOW, mapping, only)
    assert {c.field: (c.now, c.restored) for c in found} == expected
