"""The vendor's own example end to end, over the pure rules (the story `qbsync demo` tells).

John Smith is in both systems; QBO has no phone, address or website; the CRM has phone
555-1234, an address and a website. The import links them and keeps the CRM's data (4.6); with
`qbo_to_crm`, renaming him to Jane Smith in QBO makes the CRM show Jane Smith with phone, address
and website cleared (5). With `both`, the first import writes the CRM's data to QBO, a phone
edited in the CRM reaches QBO (5), and the change QBO then reports is recognised as our echo.
"""

from __future__ import annotations

from engine.crm_changes import qbo_fields_for_crm_change
from engine.crm_names import crm_values_after_write
from engine.echo import is_qbo_echo, remember_qbo_write
from engine.fields import crm_values, qbo_values
from engine.import_plan import PlannedLink
from engine.matching import plan_import
from engine.merge import merge_first_import
from engine.overwrite import overwrite_from_qbo
from tests.unit.engine.builders import (
    BOTH,
    JOHN_IN_CRM,
    JOHN_IN_QBO,
    JOHNS_CRM_ONLY_DATA,
    JOHNS_CRM_ONLY_DATA_IN_QBO,
    QBO_TO_CRM,
    customer,
)

MAPPED = [pair.crm for pair in QBO_TO_CRM.field_mapping]


def test_vendor_example_with_qbo_to_crm_the_rename_clears_phone_address_and_website():
    plan = plan_import([JOHN_IN_QBO], [JOHN_IN_CRM], [], {}, QBO_TO_CRM)
    assert plan.links == (
        PlannedLink(customer_id="58", person_id=4211, email="john.smith@example.com"),
    )

    merge = merge_first_import(JOHN_IN_CRM, JOHN_IN_QBO, QBO_TO_CRM)
    assert merge.crm_updates == {} and merge.conflicts == ()  # the CRM's data is kept
    crm = crm_values_after_write(
        crm_values(JOHN_IN_CRM, QBO_TO_CRM.field_mapping), merge.crm_updates, MAPPED
    )
    assert crm["phone"] == "555-1234"

    renamed = customer(
        {
            **qbo_values(JOHN_IN_QBO, QBO_TO_CRM.field_mapping),
            "DisplayName": "Jane Smith",
            "GivenName": "Jane",
        },
        sync_token="1",
    )
    overwrite = overwrite_from_qbo(crm, renamed, QBO_TO_CRM)
    crm = crm_values_after_write(crm, overwrite.crm_updates, MAPPED)
    assert crm["full_name"] == "Jane Smith"
    assert {field: crm[field] for field in JOHNS_CRM_ONLY_DATA} == dict.fromkeys(
        JOHNS_CRM_ONLY_DATA
    )
    assert {
        c.pair.crm: c.old_value for c in overwrite.cleared
    } == JOHNS_CRM_ONLY_DATA  # kept in history


def test_vendor_example_with_both_the_crm_data_reaches_qbo_and_no_echo_comes_back():
    merge = merge_first_import(JOHN_IN_CRM, JOHN_IN_QBO, BOTH)
    assert merge.qbo_updates == JOHNS_CRM_ONLY_DATA_IN_QBO
    qbo = customer(
        {**qbo_values(JOHN_IN_QBO, BOTH.field_mapping), **merge.qbo_updates}, sync_token="1"
    )

    renamed = customer(
        {**qbo_values(qbo, BOTH.field_mapping), "DisplayName": "Jane Smith", "GivenName": "Jane"},
        sync_token="2",
    )
    overwrite = overwrite_from_qbo(JOHN_IN_CRM, renamed, BOTH)
    assert overwrite.crm_updates == {"first_name": "Jane"} and overwrite.cleared == ()

    jane = JOHN_IN_CRM.model_copy(update={"first_name": "Jane", "full_name": "Jane Smith"})
    edited = jane.model_copy(update={"phone": "555-9876"})
    fields = qbo_fields_for_crm_change(jane, edited, BOTH, customer=renamed)
    assert fields == {"PrimaryPhone.FreeFormNumber": "555-9876"}

    write = remember_qbo_write(renamed, fields, BOTH, sync_token="3")
    reported = customer({**qbo_values(renamed, BOTH.field_mapping), **fields}, sync_token="3")
    assert is_qbo_echo(write, reported, BOTH)
    assert overwrite_from_qbo(edited, reported, BOTH).crm_updates == {}  # nothing to send back
