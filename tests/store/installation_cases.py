"""Contract cases: the installation lifecycle (SYNC-RULES 2, 3)."""

from __future__ import annotations

import pytest

from schemas.settings import FieldPair, IntegrationSettings, Permissions
from store import InvalidTransition, NotAllowed
from store import installation as inst
from store.installation import InvalidSettings, NotConnected
from tests.store.helpers import ADMIN, BASIC, REALM, TENANT, installed

CUSTOM = IntegrationSettings(
    direction="both",
    field_mapping=(
        FieldPair(crm="email", qbo="PrimaryEmailAddr.Address"),
        FieldPair(crm="custom_fields.custom_label_12", qbo="Notes"),
    ),
    permissions=Permissions(basic_can_create_invoices=True),
    visibility="installation_owner",
)


class InstallationCases:
    def test_an_installation_starts_disabled_unconnected_and_owned_by_its_installer(self, store):
        installation = installed(store, connected=False)
        assert (installation.enabled, installation.connected) == (False, False)
        assert (installation.owner_user_id, installation.crm_account_id) == (ADMIN.user_id, 4242)
        assert installation.settings == IntegrationSettings()
        assert store.installation("other-tenant") is None

    @pytest.mark.parametrize(
        ("command", "action"),
        [
            (lambda i: inst.save_settings(i, BASIC, CUSTOM), "change settings"),
            (lambda i: inst.connect(i, BASIC, REALM), "connect QuickBooks"),
            (lambda i: inst.disconnect(i, BASIC), "disconnect QuickBooks"),
            (lambda i: inst.enable(i, BASIC), "enable the integration"),
            (lambda i: inst.disable(i, BASIC), "disable the integration"),
            (lambda i: inst.uninstall(i, BASIC), "uninstall the integration"),
        ],
        ids=["settings", "connect", "disconnect", "enable", "disable", "uninstall"],
    )
    def test_a_non_admin_is_refused_with_the_reason(self, store, command, action):
        installation = installed(store)
        with pytest.raises(NotAllowed, match=f"user 8 is not an admin; only admins may {action}"):
            command(installation)
        assert store.installation(TENANT) == installation

    def test_a_non_admin_cannot_install(self, store):
        with pytest.raises(NotAllowed, match="only admins may install"):
            inst.install(TENANT, 4242, BASIC)

    def test_settings_are_saved_and_read_back(self, store):
        installation = installed(store)
        store.record(inst.save_settings(installation, ADMIN, CUSTOM))
        assert store.installation(TENANT).settings == CUSTOM

    def test_settings_given_as_a_document_are_validated_by_the_settings_model(self, store):
        installation = installed(store)
        store.record(inst.save_settings(installation, ADMIN, {"direction": "crm_to_qbo"}))
        assert store.installation(TENANT).settings.direction == "crm_to_qbo"
        unknown = {"field_mapping": [{"crm": "shoe_size", "qbo": "Notes"}]}
        with pytest.raises(InvalidSettings, match="unknown CRM person field 'shoe_size'"):
            inst.save_settings(store.installation(TENANT), ADMIN, unknown)

    def test_enabling_needs_a_connection(self, store):
        installation = installed(store, connected=False)
        with pytest.raises(NotConnected, match="not connected to QuickBooks"):
            inst.enable(installation, ADMIN)
        store.record(inst.connect(installation, ADMIN, REALM))
        store.record(inst.enable(store.installation(TENANT), ADMIN))
        assert store.installation(TENANT).enabled
        assert inst.enable(store.installation(TENANT), ADMIN) is None  # already enabled

    def test_disconnecting_disables_and_another_realm_needs_a_disconnect_first(self, store):
        installation = installed(store)
        store.record(inst.enable(installation, ADMIN))
        with pytest.raises(InvalidTransition, match="disconnect before connecting realm 555"):
            inst.connect(store.installation(TENANT), ADMIN, "555")
        store.record(inst.disconnect(store.installation(TENANT), ADMIN))
        installation = store.installation(TENANT)
        assert (installation.connected, installation.enabled) == (False, False)
        store.record(inst.connect(installation, ADMIN, "555"))
        assert store.installation(TENANT).realm_id == "555"

    def test_uninstall_stops_everything_and_a_reinstall_starts_over(self, store):
        installation = installed(store)
        store.record(inst.save_settings(installation, ADMIN, CUSTOM))
        store.record(inst.enable(store.installation(TENANT), ADMIN))
        store.record(inst.uninstall(store.installation(TENANT), ADMIN))
        gone = store.installation(TENANT)
        assert gone.uninstalled and not gone.enabled
        with pytest.raises(InvalidTransition, match="uninstalled; cannot enable"):
            inst.enable(gone, ADMIN)
        store.record(inst.install(TENANT, 4242, ADMIN, current=gone))
        again = store.installation(TENANT)
        assert (again.uninstalled, again.connected, again.settings) == (
            False,
            False,
            IntegrationSettings(),
        )
        with pytest.raises(InvalidTransition, match="already installed"):
            inst.install(TENANT, 4242, ADMIN, current=again)
