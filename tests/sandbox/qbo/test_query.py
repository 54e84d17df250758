"""The query language: the parser alone, then queries over HTTP (GET and POST forms)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sandbox.qbo.faults import QboFault
from sandbox.qbo.query import Condition, Ordering, parse
from tests.sandbox.qbo.conftest import Qbo, fault_code, sales_line

# -- the parser ----------------------------------------------------------------------------------


def test_the_parser_reads_conditions_order_and_paging() -> None:
    query = parse(
        "SELECT * FROM Customer WHERE Balance >= '100.50' AND Id IN ('1', '2') "
        "AND DisplayName LIKE '%smith%' AND Active = false "
        "ORDERBY MetaData.LastUpdatedTime DESC, Id STARTPOSITION 11 MAXRESULTS 10"
    )
    assert query.entity == "Customer" and not query.count and query.fields is None
    assert query.conditions == (
        Condition("Balance", ">=", ("100.50",)),
        Condition("Id", "IN", ("1", "2")),
        Condition("DisplayName", "LIKE", ("%smith%",)),
        Condition("Active", "=", (False,)),
    )
    assert query.order == (Ordering("MetaData.LastUpdatedTime", True), Ordering("Id", False))
    assert (query.start_position, query.max_results) == (11, 10)


def test_keywords_and_entity_names_are_case_insensitive_and_order_by_may_be_two_words() -> None:
    query = parse("select count(*) from invoice where TotalAmt > 5 order by DocNumber asc")
    assert query.count and query.entity == "invoice"
    assert query.conditions == (Condition("TotalAmt", ">", (Decimal(5),)),)
    assert query.order == (Ordering("DocNumber", False),)


def test_a_quote_is_escaped_with_a_backslash() -> None:
    query = parse(r"SELECT * FROM Customer WHERE DisplayName = 'King\'s Groceries'")
    assert query.conditions[0].values == ("King's Groceries",)


def test_select_star_with_extra_fields_and_a_field_list_parse() -> None:
    assert parse("SELECT *, Sku FROM Item").fields is None
    assert parse("SELECT Id, DisplayName FROM Customer").fields == ("Id", "DisplayName")


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * FROM Customer WHERE Id = '1' OR Id = '2'",
        "SELECT * Customer",
        "SELECT * FROM Customer WHERE DisplayName = 'unterminated",
        "SELECT * FROM Customer WHERE Id != '1'",
        "SELECT * FROM Customer MAXRESULTS",
        "DELETE FROM Customer",
        "",
    ],
)
def test_what_qbo_cannot_parse_is_fault_4000(text: str) -> None:
    with pytest.raises(QboFault) as raised:
        parse(text)
    assert raised.value.code == "4000"


# -- over HTTP -----------------------------------------------------------------------------------


def test_the_get_and_post_forms_answer_the_same(qbo: Qbo) -> None:
    qbo.customer("Alpha")
    text = "SELECT * FROM Customer"
    by_get = qbo.ok(qbo.get("query", query=text))["QueryResponse"]
    by_post = qbo.ok(qbo.query(text))["QueryResponse"]
    assert by_get == by_post
    assert [c["DisplayName"] for c in by_post["Customer"]] == ["Alpha"]
    assert (by_post["startPosition"], by_post["maxResults"]) == (1, 1)


def test_startposition_and_maxresults_page_through_results(qbo: Qbo) -> None:
    for number in range(1, 8):
        qbo.customer(f"Customer {number}")
    page = qbo.ok(qbo.query("SELECT * FROM Customer ORDERBY Id STARTPOSITION 3 MAXRESULTS 2"))
    response = page["QueryResponse"]
    assert [c["DisplayName"] for c in response["Customer"]] == ["Customer 3", "Customer 4"]
    assert (response["startPosition"], response["maxResults"]) == (3, 2)
    default = qbo.ok(qbo.query("SELECT * FROM Customer"))["QueryResponse"]
    assert default["maxResults"] == 7


def test_maxresults_above_1000_is_refused(qbo: Qbo) -> None:
    response = qbo.query("SELECT * FROM Customer MAXRESULTS 1001")
    assert response.status_code == 400 and fault_code(response) == "4001"


def test_a_parse_error_over_http_is_a_4000_fault(qbo: Qbo) -> None:
    response = qbo.query("SELECT * FROM Customer WHERE")
    assert response.status_code == 400 and fault_code(response) == "4000"


def test_count_returns_the_total_count(qbo: Qbo) -> None:
    for name in ("A", "B", "C"):
        qbo.customer(name)
    response = qbo.ok(qbo.query("SELECT COUNT(*) FROM Customer WHERE DisplayName IN ('A', 'B')"))
    assert response["QueryResponse"] == {"totalCount": 2}


def test_an_empty_result_has_no_entity_key(qbo: Qbo) -> None:
    response = qbo.ok(qbo.query("SELECT * FROM Customer WHERE DisplayName = 'Nobody'"))
    assert response["QueryResponse"] == {}


def test_customers_are_found_by_primary_email_addr_and_by_display_name(qbo: Qbo) -> None:
    qbo.customer("Jane Doe", PrimaryEmailAddr={"Address": "shared@example.com"})
    qbo.customer("John Doe", PrimaryEmailAddr={"Address": "shared@example.com"})
    qbo.customer("O'Brien", PrimaryEmailAddr={"Address": "ob@example.com"})
    shared = qbo.ok(
        qbo.query("SELECT * FROM Customer WHERE PrimaryEmailAddr = 'shared@example.com'")
    )
    assert sorted(c["DisplayName"] for c in shared["QueryResponse"]["Customer"]) == [
        "Jane Doe",
        "John Doe",
    ]
    quoted = qbo.ok(qbo.query(r"SELECT * FROM Customer WHERE DisplayName = 'o\'brien'"))
    assert [c["DisplayName"] for c in quoted["QueryResponse"]["Customer"]] == ["O'Brien"]


def test_inactive_customers_are_hidden_unless_the_query_filters_on_active(qbo: Qbo) -> None:
    qbo.customer("Active One")
    gone = qbo.customer("Inactive One")
    qbo.ok(
        qbo.post("customer", {"Id": gone["Id"], "SyncToken": "0", "sparse": True, "Active": False})
    )

    def names(text: str) -> list[str]:
        found = qbo.ok(qbo.query(text))["QueryResponse"].get("Customer", [])
        return sorted(c["DisplayName"] for c in found)

    assert names("SELECT * FROM Customer") == ["Active One"]
    assert names("SELECT * FROM Customer WHERE Active IN (true, false)") == [
        "Active One",
        "Inactive One",
    ]
    assert names("SELECT * FROM Customer WHERE Active = false") == ["Inactive One"]
    assert names("SELECT * FROM Customer WHERE DisplayName = 'Inactive One'") == []


def test_like_matches_with_percent_wildcards_ignoring_case(qbo: Qbo) -> None:
    for name in ("John Smith", "John Smith 2", "Jon Smith", "Jane Smyth"):
        qbo.customer(name)
    found = qbo.ok(qbo.query("SELECT * FROM Customer WHERE DisplayName LIKE 'joh%'"))
    assert sorted(c["DisplayName"] for c in found["QueryResponse"]["Customer"]) == [
        "John Smith",
        "John Smith 2",
    ]


def test_metadata_last_updated_time_filters_and_orders_as_instants(qbo: Qbo) -> None:
    first = qbo.customer("Early")
    qbo.http.post("/_sandbox/clock/advance", params={"seconds": 120}).raise_for_status()
    qbo.customer("Late")
    since = first["MetaData"]["LastUpdatedTime"]
    newer = qbo.ok(
        qbo.query(
            f"SELECT * FROM Customer WHERE MetaData.LastUpdatedTime > '{since}' "
            "ORDERBY MetaData.LastUpdatedTime DESC"
        )
    )
    assert [c["DisplayName"] for c in newer["QueryResponse"]["Customer"]] == ["Late"]
    ordered = qbo.ok(qbo.query("select * from customer order by metadata.lastupdatedtime desc"))
    assert [c["DisplayName"] for c in ordered["QueryResponse"]["Customer"]] == ["Late", "Early"]


def test_invoices_are_filtered_by_customer_ref_and_amount(qbo: Qbo) -> None:
    alice, bob = qbo.customer("Alice"), qbo.customer("Bob")
    item = qbo.item()
    for customer, qty in ((alice, 1), (alice, 5), (bob, 5)):
        body = {"CustomerRef": {"value": customer["Id"]}, "Line": [sales_line(item["Id"], qty)]}
        qbo.create("Invoice", body)
    found = qbo.ok(
        qbo.query(f"SELECT * FROM Invoice WHERE CustomerRef = '{alice['Id']}' AND TotalAmt > '300'")
    )
    invoices = found["QueryResponse"]["Invoice"]
    assert [(i["CustomerRef"]["name"], i["TotalAmt"]) for i in invoices] == [("Alice", 500)]


def test_select_star_with_sku_lists_items_and_a_field_list_projects(qbo: Qbo) -> None:
    qbo.item("Hours", 75)
    items = qbo.ok(qbo.query("SELECT *, Sku FROM Item MAXRESULTS 100"))["QueryResponse"]["Item"]
    assert [i["Name"] for i in items] == ["Hours"]
    projected = qbo.ok(qbo.query("SELECT Name FROM Item"))["QueryResponse"]["Item"][0]
    assert projected == {"Id": items[0]["Id"], "Name": "Hours", "domain": "QBO", "sparse": True}


def test_company_info_reads_by_id_and_by_query(qbo: Qbo) -> None:
    info = qbo.ok(qbo.get(f"companyinfo/{qbo.realm_id}"))["CompanyInfo"]
    assert info["CompanyName"] == "Sandbox Company_US_1"
    queried = qbo.ok(qbo.query("SELECT * FROM CompanyInfo"))["QueryResponse"]["CompanyInfo"]
    assert queried[0]["CompanyName"] == info["CompanyName"]
