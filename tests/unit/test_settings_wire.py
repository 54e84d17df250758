"""Settings on the wire: defaults per SYNC-RULES 3; an unknown mapped field is refused at save."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas.settings import DEFAULT_FIELD_MAPPING, FieldPair, IntegrationSettings


def test_default_direction_is_qbo_to_crm():
    assert IntegrationSettings().direction == "qbo_to_crm"


def test_basic_user_switches_are_all_off_by_default():
    permissions = IntegrationSettings().permissions
    assert not permissions.basic_can_create_estimates
    assert not permissions.basic_can_create_invoices
    assert not permissions.basic_can_convert_estimates


def test_default_mapping_is_the_fourteen_pairs_of_the_rules():
    pairs = {(p.crm, p.qbo) for p in DEFAULT_FIELD_MAPPING}
    assert len(pairs) == 14
    assert ("full_name", "DisplayName") in pairs
    assert ("work_state", "BillAddr.CountrySubDivisionCode") in pairs
    assert ("phone", "PrimaryPhone.FreeFormNumber") in pairs


@pytest.mark.parametrize(
    ("pair", "field", "name"),
    [
        ({"crm": "favourite_colour", "qbo": "GivenName"}, "crm", "favourite_colour"),
        ({"crm": "phone", "qbo": "PrimaryPhone.Number"}, "qbo", "PrimaryPhone.Number"),
    ],
)
def test_a_mapping_naming_an_unknown_field_is_rejected_when_saved(pair, field, name):
    with pytest.raises(ValidationError) as caught:
        IntegrationSettings.model_validate({"field_mapping": [pair]})
    error = caught.value.errors()[0]
    assert error["loc"][-1] == field
    assert name in error["msg"]


def test_custom_crm_fields_can_be_mapped_by_key():
    pair = FieldPair(crm="custom_fields.custom_label_12", qbo="Notes")
    assert pair.crm == "custom_fields.custom_label_12"


def test_a_field_mapped_twice_is_rejected():
    with pytest.raises(ValidationError, match="mapped more than once"):
        IntegrationSettings.model_validate(
            {
                "field_mapping": [
                    {"crm": "phone", "qbo": "PrimaryPhone.FreeFormNumber"},
                    {"crm": "mobile", "qbo": "PrimaryPhone.FreeFormNumber"},
                ]
            }
        )
