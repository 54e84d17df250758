"""Authentication by api_key + app_key, admins and basic users (reference 1.3)."""

from __future__ import annotations

import httpx

from sandbox.crm.server import create_app
from tests.sandbox.crm.conftest import Crm, fast_config
from tests.support.servers import serving


def test_a_request_without_an_api_key_is_401_unknown_api_key(crm: Crm) -> None:
    response = httpx.get(
        f"{crm.base_url}/api/v3/people.json", params={"app_key": crm.config.app_key}
    )
    assert response.status_code == 401
    assert response.json() == {"error": "Unknown api_key"}


def test_an_unknown_api_key_is_401(crm: Crm) -> None:
    with crm.as_user("not-a-key-of-anyone") as stranger:
        response = stranger.get("/profile.json")
    assert response.status_code == 401
    assert response.json() == {"error": "Unknown api_key"}


def test_an_api_key_without_the_app_key_is_401_as_recorded(crm: Crm) -> None:
    url = f"{crm.base_url}/api/v3/account.json"
    response = httpx.get(url, params={"api_key": crm.config.admin_api_key})
    assert response.status_code == 401
    assert response.json() == {"error": "Unknown api_key"}


def test_an_unknown_app_key_is_401(crm: Crm) -> None:
    params = {"api_key": crm.config.admin_api_key, "app_key": "0" * 32}
    response = httpx.get(f"{crm.base_url}/api/v3/profile", params=params)
    assert response.status_code == 401
    assert "error" in response.json()


def test_an_api_key_alone_works_when_the_account_allows_unregistered_apps() -> None:
    config = fast_config(allow_unregistered_app=True)
    with serving(create_app(config)) as base_url:
        response = httpx.get(
            f"{base_url}/api/v3/profile.json", params={"api_key": config.admin_api_key}
        )
    assert response.status_code == 200
    assert response.json()["features"]["allow_unregistered_app"] is True


def test_profile_shows_whether_the_caller_is_an_admin_or_a_basic_user(crm: Crm) -> None:
    admin = crm.ok(crm.api.get("/profile.json"))
    assert admin["is_account_admin"] is True and admin["level"] == 3
    assert admin["api_key"] == crm.config.admin_api_key
    assert admin["account_key"] == crm.config.account_key
    basic = crm.basic_user()
    with crm.as_user(basic["api_key"]) as client:
        profile = crm.ok(client.get("/profile"))
    assert profile["id"] == basic["id"]
    assert profile["is_account_admin"] is False and profile["level"] == 1


def test_basic_users_get_403_in_the_admin_namespace(crm: Crm) -> None:
    basic = crm.basic_user()
    with crm.as_user(basic["api_key"]) as client:
        for path in ("/admin/webhooks.json", "/admin/deal_stages.json", "/admin/users"):
            response = client.get(path)
            assert response.status_code == 403, path
            assert "error" in response.json()
        assert client.get("/people.json").status_code == 200
    assert crm.api.get("/admin/deal_stages.json").status_code == 200


def test_every_user_has_their_own_api_key_and_owns_what_they_create(crm: Crm) -> None:
    basic = crm.basic_user()
    assert basic["api_key"] != crm.config.admin_api_key
    with crm.as_user(basic["api_key"]) as client:
        person = crm.ok(client.post("/people.json", json={"person": {"full_name": "Mine Own"}}))
    assert person["user_id"] == basic["id"] == person["created_by_user_id"]
    assert person["user"] == {"id": basic["id"], "first_name": "Basil", "last_name": "User"}
    assert person["owner"] == "Basil User"


def test_a_deactivated_users_key_stops_working(crm: Crm) -> None:
    basic = crm.basic_user()
    crm.control.post(f"/users/{basic['id']}/deactivate").raise_for_status()
    with crm.as_user(basic["api_key"]) as client:
        assert client.get("/profile").status_code == 401
    users = crm.ok(crm.api.get("/users.json"))["entries"]
    assert basic["id"] not in [u["id"] for u in users]
    everyone = crm.ok(
        crm.api.get("/admin/users", params={"conditions[including_inactive]": "true"})
    )
    assert basic["id"] in [u["id"] for u in everyone["entries"]]
