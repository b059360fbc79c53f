"""The fake portal, driven through hubspot-api-client's typed APIs as real code would."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import urllib3
from hubspot import HubSpot
from syncd_hubspot.fake import SECONDLY, TEN_SECONDLY
from syncd_hubspot.fake_store import ASSOCIATION_TYPES

if TYPE_CHECKING:
    from conftest import Portal

T = (2.0, 5.0)  # every call carries a timeout, as the connector's do


def link(to_id: str, type_id: int) -> dict[str, Any]:
    return {
        "to": {"id": to_id},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
    }


def search(
    client: Any, filters: list[dict[str, Any]] | list[list[dict[str, Any]]], **extra: Any
) -> list[str]:
    groups = filters if filters and isinstance(filters[0], list) else [filters]
    body = {"filterGroups": [{"filters": g} for g in groups], "limit": 200, **extra}
    answer = client.crm.deals.search_api.do_search(body, _request_timeout=T)
    return [r.id for r in answer.results]


def test_create_answers_201_so_the_client_returns_the_record(portal: Portal) -> None:
    """A single create comes back as a typed record with its id, not None."""
    client = portal.client()
    created = client.crm.companies.basic_api.create(
        {"properties": {"name": "Acme"}}, _request_timeout=T
    )
    assert created is not None and created.id
    fetched = client.crm.companies.basic_api.get_by_id(
        created.id, properties=["name"], _request_timeout=T
    )
    assert fetched.properties["name"] == "Acme"


def test_update_archive_and_batch_reads(portal: Portal) -> None:
    """PATCH updates and stamps the record, batch update and read work 100 at a time, a
    batch read naming a missing id answers 207 with that id, and DELETE archives (204)."""
    client = portal.client()
    contacts = client.crm.contacts
    first = contacts.basic_api.create({"properties": {"email": "a@ex.com"}}, _request_timeout=T)
    second = contacts.basic_api.create({"properties": {"email": "b@ex.com"}}, _request_timeout=T)
    updated = contacts.basic_api.update(
        first.id, {"properties": {"jobtitle": "CFO"}}, _request_timeout=T
    )
    assert updated.properties["lastmodifieddate"] >= first.properties["lastmodifieddate"]
    contacts.batch_api.update(
        {"inputs": [{"id": second.id, "properties": {"jobtitle": "CTO"}}]}, _request_timeout=T
    )
    answer, status, _ = contacts.batch_api.read_with_http_info(
        {"properties": ["jobtitle"], "inputs": [{"id": first.id}, {"id": second.id}, {"id": "9"}]},
        _request_timeout=T,
    )
    assert status == 207 and answer.errors[0].context == {"ids": ["9"]}
    assert sorted(r.properties["jobtitle"] for r in answer.results) == ["CFO", "CTO"]
    contacts.basic_api.archive(first.id, _request_timeout=T)
    page = contacts.basic_api.get_page(limit=10, _request_timeout=T)
    assert [r.id for r in page.results] == [second.id]


def test_object_type_ids_reach_the_same_records(portal: Portal) -> None:
    """`0-3` names deals, as in HubSpot's own specs."""
    deal = portal.lost_deal([])
    got = portal.client().crm.objects.basic_api.get_by_id("0-3", deal, _request_timeout=T)
    assert got.id == deal


@pytest.fixture
def deals(portal: Portal) -> dict[str, str]:
    """Five deals with known amounts, stages and names."""
    rows = {
        "a": {"amount": "100", "dealstage": "closedlost", "dealname": "Alpha"},
        "b": {"amount": "250", "dealstage": "closedwon", "dealname": "Beta"},
        "c": {"amount": "400", "dealstage": "closedlost", "dealname": "Gamma"},
        "d": {"amount": "900", "dealstage": "contractsent", "dealname": "Delta"},
        "e": {"dealstage": "closedlost", "dealname": "Echo"},
    }
    return {name: portal.fake.seed("deals", props) for name, props in rows.items()}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([{"propertyName": "amount", "operator": "EQ", "value": "250"}], "b"),
        ([{"propertyName": "amount", "operator": "NEQ", "value": "250"}], "acde"),
        ([{"propertyName": "amount", "operator": "LT", "value": "400"}], "ab"),
        ([{"propertyName": "amount", "operator": "LTE", "value": "400"}], "abc"),
        ([{"propertyName": "amount", "operator": "GT", "value": "250"}], "cd"),
        ([{"propertyName": "amount", "operator": "GTE", "value": "250"}], "bcd"),
        (
            [{"propertyName": "amount", "operator": "BETWEEN", "value": "200", "highValue": "500"}],
            "bc",
        ),
        (
            [
                {
                    "propertyName": "dealstage",
                    "operator": "IN",
                    "values": ["closedlost", "closedwon"],
                }
            ],
            "abce",
        ),
        ([{"propertyName": "dealstage", "operator": "NOT_IN", "values": ["closedlost"]}], "bd"),
        ([{"propertyName": "amount", "operator": "HAS_PROPERTY"}], "abcd"),
        ([{"propertyName": "amount", "operator": "NOT_HAS_PROPERTY"}], "e"),
        ([{"propertyName": "dealname", "operator": "EQ", "value": "alpha"}], "a"),
        ([{"propertyName": "dealname", "operator": "IN", "values": ["GAMMA"]}], ""),
        ([{"propertyName": "dealname", "operator": "IN", "values": ["gamma"]}], "c"),
        (
            [
                {"propertyName": "dealstage", "operator": "EQ", "value": "closedlost"},
                {"propertyName": "amount", "operator": "GT", "value": "200"},
            ],
            "c",
        ),
        (
            [
                [{"propertyName": "amount", "operator": "EQ", "value": "100"}],
                [{"propertyName": "dealstage", "operator": "EQ", "value": "contractsent"}],
            ],
            "ad",
        ),
    ],
    ids=[
        "eq",
        "neq",
        "lt",
        "lte",
        "gt",
        "gte",
        "between",
        "in",
        "not_in",
        "has",
        "not_has",
        "string_eq_ignores_case",
        "string_in_needs_lower_case",
        "string_in",
        "and_in_group",
        "or_across_groups",
    ],
)
def test_search_filters(
    portal: Portal, deals: dict[str, str], filters: list[Any], expected: str
) -> None:
    """Each operator, AND within a group and OR across groups select what HubSpot would."""
    assert sorted(search(portal.client(), filters)) == sorted(deals[k] for k in expected)


def test_search_sorts_and_pages_with_after(portal: Portal, deals: dict[str, str]) -> None:
    """Descending sort, 2 a page, `after` continues where the last page ended."""
    client = portal.client()
    body = {
        "sorts": [{"propertyName": "amount", "direction": "DESCENDING"}],
        "limit": 2,
        "properties": ["amount"],
    }
    first = client.crm.deals.search_api.do_search(body, _request_timeout=T)
    second = client.crm.deals.search_api.do_search(
        {**body, "after": first.paging.next.after}, _request_timeout=T
    )
    assert first.total == 5
    assert [r.properties["amount"] for r in first.results + second.results] == [
        "900",
        "400",
        "250",
        "100",
    ]


def test_search_refuses_paging_past_ten_thousand(portal: Portal) -> None:
    """Results 9,800-9,999 come back; asking for the page at 10,000 is a 400."""
    for _ in range(10_050):
        portal.fake.seed("companies", {"name": "x"})
    api = portal.client().crm.companies.search_api
    page = api.do_search({"limit": 200, "after": "9800"}, _request_timeout=T)
    assert page.total == 10_050 and len(page.results) == 200 and page.paging.next.after == "10000"
    with pytest.raises(Exception) as refused:
        api.do_search({"limit": 200, "after": "10000"}, _request_timeout=T)
    assert getattr(refused.value, "status", None) == 400


def test_search_limits_body_size_and_page_size(portal: Portal) -> None:
    """More than 200 a page, or a body over 3,000 characters, is refused like HubSpot does."""
    api = portal.client().crm.deals.search_api
    for body in (
        {"limit": 201},
        {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "dealname", "operator": "IN", "values": ["x" * 40] * 80}
                    ]
                }
            ]
        },
    ):
        with pytest.raises(Exception) as refused:
            api.do_search(body, _request_timeout=T)
        assert getattr(refused.value, "status", None) == 400


def test_changes_reach_search_after_the_index_delay(make_portal: Callable[..., Portal]) -> None:
    """A new record is invisible to search until the indexing delay has passed."""
    portal = make_portal(index_delay_s=30)
    now = [datetime(2030, 1, 1, tzinfo=UTC)]
    portal.fake.clock = lambda: now[0]
    client = portal.client()
    client.crm.deals.basic_api.create(
        {"properties": {"dealstage": "closedlost"}}, _request_timeout=T
    )
    flt = [{"propertyName": "dealstage", "operator": "EQ", "value": "closedlost"}]
    assert search(client, flt) == []
    now[0] += timedelta(seconds=31)
    assert len(search(client, flt)) == 1


def test_batch_create_207_maps_by_trace_id(portal: Portal) -> None:
    """A partly refused batch answers 207: created inputs carry their objectWriteTraceId,
    refused ones are named in the errors' context."""
    contact = portal.contact()
    api = portal.client().crm.objects.tasks.batch_api
    inputs = [
        {
            "properties": {"hs_timestamp": "1700000000000"},
            "objectWriteTraceId": "ok-1",
            "associations": [link(contact, 204)],
        },
        {
            "properties": {"hs_timestamp": "1700000000000", "hs_task_type": "FAX"},
            "objectWriteTraceId": "bad",
        },
        {"properties": {"hs_timestamp": "1700000000000"}, "objectWriteTraceId": "ok-2"},
    ]
    answer, status, _ = api.create_with_http_info({"inputs": inputs}, _request_timeout=T)
    assert status == 207
    assert sorted(r.object_write_trace_id for r in answer.results) == ["ok-1", "ok-2"]
    assert answer.errors[0].context == {"objectWriteTraceId": ["bad"]}
    linked = portal.client().crm.associations.v4.batch_api.get_page(
        "tasks", "contacts", {"inputs": [{"id": answer.results[0].id}]}, _request_timeout=T
    )
    assert [t.to_object_id for t in linked.results[0].to] == [contact]


def test_batch_create_refuses_unknown_properties_and_big_batches(portal: Portal) -> None:
    """Writing a property the portal lacks, or 101 inputs, refuses the whole call (400)."""
    api = portal.client().crm.objects.tasks.batch_api
    one = {"properties": {"hs_timestamp": "1700000000000"}}
    for inputs in ([{"properties": {"hs_timestamp": "1", "syncd_key": "k"}}], [one] * 101):
        with pytest.raises(Exception) as refused:
            api.create({"inputs": inputs}, _request_timeout=T)
        assert getattr(refused.value, "status", None) == 400
    assert portal.fake.portal.records["tasks"] == {}


def test_wrong_association_type_creates_without_the_association(portal: Portal) -> None:
    """As HubSpot does, an association type that does not fit is dropped silently."""
    contact = portal.contact()
    api = portal.client().crm.objects.tasks.basic_api
    task = api.create(
        {"properties": {"hs_timestamp": "1"}, "associations": [link(contact, 3)]},
        _request_timeout=T,
    )
    assert portal.fake.portal.associated("tasks", task.id, "contacts") == {}


def test_pipelines_carry_closed_and_probability_metadata(portal: Portal) -> None:
    """Every portal has the default pipeline; stage metadata are strings, as in HubSpot."""
    pipelines = portal.client().crm.pipelines.pipelines_api.get_all("deals", _request_timeout=T)
    stages = {s.id: s.metadata for s in pipelines.results[0].stages}
    assert stages["closedlost"] == {"isClosed": "true", "probability": "0.0"}
    assert stages["closedwon"] == {"isClosed": "true", "probability": "1.0"}


def test_property_create_then_409_on_a_duplicate(portal: Portal) -> None:
    """Creating syncd_key answers 201; creating it again is a conflict."""
    api = portal.client().crm.properties.core_api
    spec = {
        "name": "syncd_key",
        "label": "syncd key",
        "type": "string",
        "fieldType": "text",
        "groupName": "task_information",
    }
    created = api.create("tasks", spec, _request_timeout=T)
    assert created.name == "syncd_key"
    with pytest.raises(Exception) as conflict:
        api.create("tasks", spec, _request_timeout=T)
    assert getattr(conflict.value, "status", None) == 409


def test_static_list_membership(portal: Portal) -> None:
    """Members are added to a MANUAL list; unknown ids come back as missing."""
    contact = portal.contact()
    client = portal.client()
    created = client.crm.lists.lists_api.create(
        {"name": "nurture", "objectTypeId": "0-1", "processingType": "MANUAL"}, _request_timeout=T
    )
    answer = client.crm.lists.memberships_api.add(
        created.list.list_id, [contact, "999999"], _request_timeout=T
    )
    assert answer.records_ids_added == [contact] and answer.record_ids_missing == ["999999"]


def test_unsubscribe_all_shows_in_preferences_and_on_the_contact(portal: Portal) -> None:
    """Opting an address out of all e-mail sets hs_email_optout and every subscription."""
    portal.fake.add_subscription("5001", "Sales follow-ups")
    contact = portal.contact(email="Lena@Example.com")
    portal.fake.unsubscribe_all("lena@example.com")
    client = portal.client()
    status = client.communication_preferences.status_api.get_email_status(
        "lena@example.com", _request_timeout=T
    )
    assert [s.status for s in status.subscription_statuses] == ["NOT_SUBSCRIBED"]
    got = client.crm.contacts.basic_api.get_by_id(
        contact, properties=["hs_email_optout"], _request_timeout=T
    )
    assert got.properties["hs_email_optout"] == "true"


def test_oauth_tokens_expire_and_refresh(portal: Portal) -> None:
    """The token endpoint issues expiring tokens; an expired one is a 401; a refresh works."""
    refresh = portal.fake.add_oauth_app("app", "s3cret")
    now = [datetime(2030, 1, 1, tzinfo=UTC)]
    portal.fake.clock = lambda: now[0]
    grant = HubSpot(host=portal.fake.base_url).oauth.tokens_api.create(
        grant_type="refresh_token",
        client_id="app",
        client_secret="s3cret",
        refresh_token=refresh,
        _request_timeout=T,
    )
    assert grant.expires_in == 1800
    client = HubSpot(access_token=grant.access_token, host=portal.fake.base_url)
    client.crm.pipelines.pipelines_api.get_all("deals", _request_timeout=T)
    now[0] += timedelta(seconds=1801)
    with pytest.raises(Exception) as expired:
        client.crm.pipelines.pipelines_api.get_all("deals", _request_timeout=T)
    assert getattr(expired.value, "status", None) == 401 and "EXPIRED" in expired.value.body
    portal.fake.revoke()
    with pytest.raises(Exception) as refused:
        HubSpot(host=portal.fake.base_url).oauth.tokens_api.create(
            grant_type="refresh_token",
            client_id="app",
            client_secret="s3cret",
            refresh_token=refresh,
            _request_timeout=T,
        )
    assert (
        getattr(refused.value, "status", None) == 400 and "BAD_REFRESH_TOKEN" in refused.value.body
    )


def test_rate_limit_headers_and_429_bodies(make_portal: Callable[..., Portal]) -> None:
    """CRM calls report their budget; past it the 429 names TEN_SECONDLY_ROLLING; search
    carries no headers and its own 5/s limit answers SECONDLY."""
    portal = make_portal(ten_second_limit=3, search_per_second=2)
    client = portal.client()
    api = client.crm.pipelines.pipelines_api
    _, _, headers = api.get_all_with_http_info("deals", _request_timeout=T)
    assert (
        headers["X-HubSpot-RateLimit-Max"] == "3"
        and headers["X-HubSpot-RateLimit-Remaining"] == "2"
    )
    assert "X-HubSpot-RateLimit-Daily-Remaining" in headers
    api.get_all("deals", _request_timeout=T)
    api.get_all("deals", _request_timeout=T)
    with pytest.raises(Exception) as limited:
        api.get_all("deals", _request_timeout=T)
    assert limited.value.status == 429 and TEN_SECONDLY in limited.value.body
    searches = client.crm.deals.search_api
    _, _, search_headers = searches.do_search_with_http_info({"limit": 1}, _request_timeout=T)
    assert "X-HubSpot-RateLimit-Remaining" not in search_headers
    searches.do_search({"limit": 1}, _request_timeout=T)
    with pytest.raises(Exception) as secondly:
        searches.do_search({"limit": 1}, _request_timeout=T)
    assert secondly.value.status == 429 and SECONDLY in secondly.value.body


def test_switches_storm_5xx_and_lost_responses(portal: Portal) -> None:
    """A 429 storm, a 5xx and an applied-but-lost create behave as switched on."""
    client = portal.client()
    api = client.crm.pipelines.pipelines_api
    portal.fake.storm(1)
    portal.fake.server_errors(1, status=503)
    statuses = []
    for _ in range(3):
        try:
            api.get_all("deals", _request_timeout=T)
            statuses.append(200)
        except Exception as exc:
            statuses.append(getattr(exc, "status", 0))
    assert statuses == [429, 503, 200]
    portal.fake.lose_responses(1, path="/companies$")
    with pytest.raises(urllib3.exceptions.HTTPError):
        HubSpot(
            access_token=portal.token, host=portal.fake.base_url, retry=False
        ).crm.companies.basic_api.create({"properties": {"name": "Lost"}}, _request_timeout=T)
    assert [r.props["name"] for r in portal.fake.portal.records["companies"].values()] == ["Lost"]


def test_association_type_ids_match_hubspot(portal: Portal) -> None:
    """The task association ids the connector relies on are HubSpot's published ones."""
    from hubspot.crm.association_type import AssociationType

    assert ASSOCIATION_TYPES[("tasks", "contacts")] == AssociationType.TASK_TO_CONTACT
    assert ASSOCIATION_TYPES[("tasks", "companies")] == AssociationType.TASK_TO_COMPANY
    assert ASSOCIATION_TYPES[("tasks", "deals")] == AssociationType.TASK_TO_DEAL
