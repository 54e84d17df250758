"""Customers and items over HTTP: envelope, required fields, unique names, SyncToken, updates."""

from __future__ import annotations

from datetime import datetime

from tests.sandbox.qbo.conftest import Qbo, fault_code


def test_created_customer_has_an_id_sync_token_zero_metadata_and_a_time(qbo: Qbo) -> None:
    response = qbo.ok(qbo.post("customer", {"DisplayName": "King's Groceries"}))
    customer = response["Customer"]
    assert customer["Id"].isdigit()
    assert customer["SyncToken"] == "0"
    assert customer["domain"] == "QBO" and customer["sparse"] is False
    created = datetime.fromisoformat(customer["MetaData"]["CreateTime"])
    assert created.utcoffset() is not None and created.microsecond == 0
    assert customer["MetaData"]["LastUpdatedTime"] == customer["MetaData"]["CreateTime"]
    assert datetime.fromisoformat(response["time"]).tzinfo is not None
    assert customer["Active"] is True and customer["Balance"] == 0
    assert customer["FullyQualifiedName"] == customer["PrintOnCheckName"] == "King's Groceries"


def test_a_created_customer_reads_back_the_same(qbo: Qbo) -> None:
    created = qbo.customer("Amy's Bird Sanctuary", PrimaryEmailAddr={"Address": "amy@x.com"})
    read = qbo.ok(qbo.get(f"customer/{created['Id']}"))["Customer"]
    assert read == created


def test_empty_properties_are_not_stored_or_returned(qbo: Qbo) -> None:
    # python-quickbooks sends every attribute, most as "" or null.
    customer = qbo.customer("Bill's Windsurf", Title="", MiddleName=None, Notes="", Mobile={})
    assert not {"Title", "MiddleName", "Notes", "Mobile"} & customer.keys()


def test_customer_without_display_name_gets_one_from_the_name_parts(qbo: Qbo) -> None:
    customer = qbo.create("Customer", {"GivenName": "Jane", "FamilyName": "Doe"})
    assert customer["DisplayName"] == "Jane Doe"


def test_customer_without_any_name_is_refused_with_2020(qbo: Qbo) -> None:
    response = qbo.post("customer", {"CompanyName": "Nameless Inc."})
    assert response.status_code == 400
    assert fault_code(response) == "2020"
    assert response.json()["Fault"]["Error"][0]["element"] == "DisplayName"


def test_duplicate_display_name_is_refused_with_6240_ignoring_case(qbo: Qbo) -> None:
    qbo.customer("John Smith")
    response = qbo.post("customer", {"DisplayName": "JOHN  smith"})
    assert response.status_code == 400
    assert fault_code(response) == "6240"
    assert response.json()["Fault"]["type"] == "ValidationFault"


def test_an_inactive_customer_still_holds_its_display_name(qbo: Qbo) -> None:
    customer = qbo.customer("Dormant Ltd")
    qbo.ok(qbo.post("customer", {**_version(customer), "sparse": True, "Active": False}))
    assert fault_code(qbo.post("customer", {"DisplayName": "Dormant Ltd"})) == "6240"


def test_renaming_onto_another_customers_name_is_refused_but_keeping_ones_own_is_fine(
    qbo: Qbo,
) -> None:
    qbo.customer("Alpha")
    beta = qbo.customer("Beta")
    rename = {**_version(beta), "sparse": True, "DisplayName": "alpha"}
    assert fault_code(qbo.post("customer", rename)) == "6240"
    keep = {**_version(beta), "sparse": True, "DisplayName": "Beta", "Notes": "same name"}
    assert qbo.ok(qbo.post("customer", keep))["Customer"]["Notes"] == "same name"


def test_stale_sync_token_is_refused_with_5010(qbo: Qbo) -> None:
    customer = qbo.customer("Cool Cars")
    first = {**_version(customer), "sparse": True, "Notes": "first"}
    assert qbo.ok(qbo.post("customer", first))["Customer"]["SyncToken"] == "1"
    response = qbo.post("customer", {**first, "Notes": "second"})
    assert response.status_code == 400
    assert fault_code(response) == "5010"


def test_sparse_update_changes_only_the_given_fields(qbo: Qbo) -> None:
    customer = qbo.customer("Diego Rodriguez", PrimaryEmailAddr={"Address": "diego@x.com"})
    updated = qbo.ok(
        qbo.post("customer", {**_version(customer), "sparse": True, "CompanyName": "Diego Co"})
    )["Customer"]
    assert updated["CompanyName"] == "Diego Co"
    assert updated["PrimaryEmailAddr"] == {"Address": "diego@x.com"}
    assert updated["MetaData"]["CreateTime"] == customer["MetaData"]["CreateTime"]


def test_a_sparse_update_clears_a_field_sent_empty_and_merges_nested_objects(qbo: Qbo) -> None:
    customer = qbo.customer(
        "Priya Natarajan",
        PrimaryPhone={"FreeFormNumber": "555-0101"},
        BillAddr={"Line1": "1 Harbour St", "City": "Oslo"},
    )
    body = {
        **_version(customer),
        "sparse": True,
        "PrimaryPhone": {"FreeFormNumber": ""},
        "BillAddr": {"City": "Bergen"},
    }
    updated = qbo.ok(qbo.post("customer", body))["Customer"]
    assert "PrimaryPhone" not in updated
    assert updated["BillAddr"]["Line1"] == "1 Harbour St"
    assert updated["BillAddr"]["City"] == "Bergen"
    assert updated["BillAddr"]["Id"] == customer["BillAddr"]["Id"]


def test_a_sparse_update_cannot_clear_the_display_name(qbo: Qbo) -> None:
    customer = qbo.customer("Kenji Watanabe")
    body = {**_version(customer), "sparse": True, "DisplayName": "", "CompanyName": "KW Ltd"}
    updated = qbo.ok(qbo.post("customer", body))["Customer"]
    assert updated["DisplayName"] == "Kenji Watanabe"
    assert updated["CompanyName"] == "KW Ltd"


def test_full_update_clears_the_writable_fields_it_leaves_out(qbo: Qbo) -> None:
    customer = qbo.customer("Dukes Basketball", PrimaryEmailAddr={"Address": "d@x.com"})
    updated = qbo.ok(
        qbo.post("customer", {**_version(customer), "DisplayName": "Dukes Basketball Camp"})
    )["Customer"]
    assert updated["DisplayName"] == "Dukes Basketball Camp"
    assert "PrimaryEmailAddr" not in updated
    assert updated["Active"] is True  # defaults come back, as on create


def test_read_only_fields_sent_back_are_ignored(qbo: Qbo) -> None:
    customer = qbo.customer("Freeman Sporting Goods")
    echo = {**customer, "Balance": 999, "FullyQualifiedName": "Hacked", "sparse": False}
    updated = qbo.ok(qbo.post("customer", echo))["Customer"]
    assert updated["Balance"] == 0
    assert updated["FullyQualifiedName"] == "Freeman Sporting Goods"
    assert updated["SyncToken"] == "1"


def test_update_of_an_unknown_id_and_read_of_an_unknown_id_answer_610(qbo: Qbo) -> None:
    update = qbo.post("customer", {"Id": "999", "SyncToken": "0", "DisplayName": "Ghost"})
    assert update.status_code == 400 and fault_code(update) == "610"
    read = qbo.get("customer/999")
    assert read.status_code == 400 and fault_code(read) == "610"


def test_update_without_sync_token_is_refused_with_2020(qbo: Qbo) -> None:
    customer = qbo.customer("Geeta Kalapatapu")
    response = qbo.post("customer", {"Id": customer["Id"], "DisplayName": "Geeta K"})
    assert fault_code(response) == "2020"


def test_a_customer_cannot_be_deleted_only_made_inactive(qbo: Qbo) -> None:
    customer = qbo.customer("Gevelber Photography")
    response = qbo.post("customer", _version(customer), operation="delete")
    assert response.status_code == 400
    assert fault_code(response) == "500"
    inactive = qbo.ok(qbo.post("customer", {**_version(customer), "sparse": True, "Active": False}))
    assert inactive["Customer"]["Active"] is False
    assert qbo.ok(qbo.get(f"customer/{customer['Id']}"))["Customer"]["Active"] is False


def test_invalid_email_or_colon_in_a_name_is_refused(qbo: Qbo) -> None:
    bad_email = qbo.post("customer", {"DisplayName": "Jeff", "PrimaryEmailAddr": {"Address": "x"}})
    assert bad_email.status_code == 400 and fault_code(bad_email) == "2050"
    assert fault_code(qbo.post("customer", {"DisplayName": "Parent:Child"})) == "2050"


def test_addresses_get_server_ids_that_survive_updates(qbo: Qbo) -> None:
    customer = qbo.customer("Kookies by Kathy", BillAddr={"Line1": "789 Sugar Lane"})
    address_id = customer["BillAddr"]["Id"]
    moved = {"Line1": "1 New Street", "City": "Bayshore"}
    updated = qbo.ok(
        qbo.post("customer", {**_version(customer), "sparse": True, "BillAddr": moved})
    )["Customer"]
    assert updated["BillAddr"] == {"Id": address_id, **moved}


def test_item_names_are_unique_among_items_and_items_cannot_be_deleted(qbo: Qbo) -> None:
    item = qbo.item("Hours", 75)
    assert item["FullyQualifiedName"] == "Hours" and item["Type"] == "Service"
    assert fault_code(qbo.post("item", {"Name": "hours"})) == "6240"
    assert fault_code(qbo.post("item", {"Type": "Service"})) == "2020"
    assert fault_code(qbo.post("item", _version(item), operation="delete")) == "500"


def test_any_minorversion_or_none_is_accepted(qbo: Qbo) -> None:
    customer = qbo.customer("Mark Cho")
    for version in ("4", "65", "75", "999", "banana"):
        assert qbo.get(f"customer/{customer['Id']}", minorversion=version).status_code == 200
    assert qbo.http.get(f"/v3/company/{qbo.realm_id}/customer/{customer['Id']}").status_code == 200


def test_every_answer_carries_an_intuit_tid_header(qbo: Qbo) -> None:
    assert qbo.get("customer/1").headers["intuit_tid"]
    assert qbo.post("customer", {"DisplayName": "Paulsen Medical"}).headers["intuit_tid"]


def test_unknown_entity_path_or_body_that_is_not_json_is_a_fault(qbo: Qbo) -> None:
    assert fault_code(qbo.post("vendor", {"DisplayName": "V"})) == "500"
    garbage = qbo.http.post(
        f"/v3/company/{qbo.realm_id}/customer",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert garbage.status_code == 400 and fault_code(garbage) == "2010"


def test_a_request_without_a_token_is_refused_by_the_oauth_layer(qbo: Qbo) -> None:
    response = qbo.http.get(f"/v3/company/{qbo.realm_id}/customer/1", headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.json()["fault"]["error"][0]["code"] == "3200"


def _version(record: dict[str, str]) -> dict[str, str]:
    return {"Id": record["Id"], "SyncToken": record["SyncToken"]}
