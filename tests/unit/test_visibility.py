"""SYNC-RULES 3, visibility: documents created from the CRM are shown to everyone (on the deals
the CRM lets them see); documents created in QBO follow the tenant's setting."""

from __future__ import annotations

import pytest

from engine.visibility import may_see, visible_origins
from schemas.requests import Actor

OWNER = 7
ADMIN = Actor(user_id=1, is_admin=True)
INSTALLER = Actor(user_id=OWNER, is_admin=False)
BASIC = Actor(user_id=19, is_admin=False)

# (viewer, origin, visibility) -> may see
RULES = [
    # created from the CRM: everyone, whatever the setting
    *[
        (viewer, "crm", setting, True)
        for viewer in (ADMIN, INSTALLER, BASIC)
        for setting in ("admin", "everyone", "installation_owner")
    ],
    # created in QBO, setting `admin`: admins only
    (ADMIN, "qbo", "admin", True),
    (INSTALLER, "qbo", "admin", False),
    (BASIC, "qbo", "admin", False),
    # `everyone`
    (ADMIN, "qbo", "everyone", True),
    (INSTALLER, "qbo", "everyone", True),
    (BASIC, "qbo", "everyone", True),
    # `installation_owner`: the installer and admins
    (ADMIN, "qbo", "installation_owner", True),
    (INSTALLER, "qbo", "installation_owner", True),
    (BASIC, "qbo", "installation_owner", False),
]


@pytest.mark.parametrize(("viewer", "origin", "visibility", "expected"), RULES)
def test_who_sees_a_document_by_its_origin_and_the_tenants_setting(
    viewer, origin, visibility, expected
):
    assert may_see(viewer, origin, visibility, OWNER) is expected
    assert (origin in visible_origins(viewer, visibility, OWNER)) is expected


def test_installation_owner_hides_qbo_documents_from_basic_users_when_no_owner_is_known():
    assert not may_see(INSTALLER, "qbo", "installation_owner", None)
    assert may_see(ADMIN, "qbo", "installation_owner", None)


def test_the_visible_origins_are_the_rule_as_a_set():
    assert visible_origins(BASIC, "admin", OWNER) == {"crm"}
    assert visible_origins(BASIC, "everyone", OWNER) == {"crm", "qbo"}
    assert visible_origins(INSTALLER, "installation_owner", OWNER) == {"crm", "qbo"}
