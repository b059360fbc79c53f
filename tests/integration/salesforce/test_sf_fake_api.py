"""The local Salesforce through simple-salesforce: shapes, status codes and errors of the API."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import jwt
import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceOperationError,
    SalesforceRefusedRequest,
)
from simple_salesforce.login import SalesforceLogin

from syncd.testing.httpfake import Request, Response
from syncd_salesforce.sandbox import api_client, create_all, key_pair
from syncd_salesforce.testkit import CONSUMER_KEY, USERNAME, LocalOrg, StepClock


def test_query_pages_follow_next_records_url(org: LocalOrg) -> None:
    """batchSize pages with nextRecordsUrl until done, then the locator is gone."""
    org.contacts(org.account(), 450)
    sf = org.api
    headers = {"Sforce-Query-Options": "batchSize=200"}
    first = sf.query("SELECT Id FROM Contact ORDER BY Id", headers=headers)
    assert (first["totalSize"], first["done"], len(first["records"])) == (450, False, 200)
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True, headers=headers)
    third = sf.query_more(second["nextRecordsUrl"], identifier_is_url=True, headers=headers)
    assert (len(third["records"]), third["done"], "nextRecordsUrl" in third) == (50, True, False)
    ids = [r["Id"] for page in (first, second, third) for r in page["records"]]
    assert ids == sorted(ids) and len(set(ids)) == 450
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query_more(second["nextRecordsUrl"], identifier_is_url=True)
    assert raised.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_query_all_includes_deleted_records_and_count_answers_total_only(org: LocalOrg) -> None:
    """queryAll sees deleted rows; COUNT() returns totalSize and no records."""
    [gone, kept] = org.contacts(None, 2)
    org.api.restful(f"sobjects/Contact/{gone}", method="DELETE")
    assert org.api.query("SELECT COUNT() FROM Contact") == {
        "totalSize": 1,
        "done": True,
        "records": [],
    }
    everything = org.api.query_all("SELECT Id, IsDeleted FROM Contact", include_deleted=True)
    assert {(r["Id"], r["IsDeleted"]) for r in everything["records"]} == {
        (gone, True),
        (kept, False),
    }


def test_records_are_stamped_and_validated_on_every_write(org: LocalOrg) -> None:
    """Create answers 201 with the id, update 204 and a newer SystemModstamp; refusals are 400."""
    sf = org.api
    created = sf.restful("sobjects/Lead/", method="POST", json={"LastName": "Li", "Company": "X"})
    assert created["success"] and created["id"].startswith("00Q") and len(created["id"]) == 18
    before = sf.restful(f"sobjects/Lead/{created['id']}")
    with org.fake.org.clock_at(org.fake.org.now() + timedelta(seconds=1)):  # a later write
        patched = sf.restful(
            f"sobjects/Lead/{created['id']}", method="PATCH", json={"Status": "Unqualified"}
        )
    assert patched is None
    after = sf.restful(f"sobjects/Lead/{created['id']}")
    assert after["SystemModstamp"] > before["SystemModstamp"]
    assert after["SystemModstamp"].endswith("+0000") and after["Status"] == "Unqualified"
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.restful(
            "sobjects/Lead/",
            method="POST",
            json={"LastName": "Li", "Company": "X", "Status": "Maybe"},
        )
    assert raised.value.content == [
        {
            "message": "Status: bad value for restricted picklist field: Maybe",
            "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "fields": ["Status"],
        }
    ]
    with pytest.raises(SalesforceMalformedRequest, match="REQUIRED_FIELD_MISSING"):
        sf.restful("sobjects/Lead/", method="POST", json={"LastName": "Li"})
    with pytest.raises(SalesforceMalformedRequest, match="FIELD_INTEGRITY_EXCEPTION"):
        sf.restful(
            "sobjects/Task/", method="POST", json={"WhoId": created["id"], "WhatId": org.account()}
        )


def test_upsert_by_external_id_creates_then_updates(org: LocalOrg) -> None:
    """201 with created=true, then 200 with created=false on the same record."""
    sf = org.api
    [contact] = org.contacts(None, 1)
    task = sf.Task
    first = task.upsert(
        "Syncd_Key__c/abc%2F1", {"Subject": "One", "WhoId": contact}, raw_response=True
    )
    second = task.upsert("Syncd_Key__c/abc%2F1", {"Subject": "Two"}, raw_response=True)
    assert (first.status_code, first.json()["created"]) == (201, True)
    assert (second.status_code, second.json()["created"]) == (200, False)
    assert first.json()["id"] == second.json()["id"]
    [row] = sf.query("SELECT Subject, Syncd_Key__c FROM Task")["records"]
    assert (row["Subject"], row["Syncd_Key__c"]) == ("Two", "abc/1")


def test_collections_report_per_record_and_roll_back_all_or_none(org: LocalOrg) -> None:
    """allOrNone=false keeps the good rows; allOrNone=true rolls them back with the real code."""
    sf = org.api
    rows = [
        {"attributes": {"type": "Account"}, "Name": "Good"},
        {"attributes": {"type": "Account"}},
    ]
    partial = sf.restful(
        "composite/sobjects", method="POST", json={"allOrNone": False, "records": rows}
    )
    assert [r["success"] for r in partial] == [True, False]
    assert partial[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    atomic = sf.restful(
        "composite/sobjects", method="POST", json={"allOrNone": True, "records": rows}
    )
    assert atomic[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert sf.query("SELECT COUNT() FROM Account WHERE Name = 'Good'")["totalSize"] == 1
    too_many = [{"attributes": {"type": "Account"}, "Name": f"A{i}"} for i in range(201)]
    with pytest.raises(SalesforceMalformedRequest, match="EXCEEDED_ID_LIMIT"):
        sf.restful("composite/sobjects", method="POST", json={"records": too_many})


def test_bulk_query_jobs_page_csv_with_locators(org: LocalOrg) -> None:
    """A Bulk API 2.0 job answers quoted CSV pages; the library follows Sforce-Locator."""
    org.contacts(org.account(Name='Quote "Co", Ltd'), 5)
    pages = list(
        org.api.bulk2.Contact.query(
            "SELECT Id, LastName, HasOptedOutOfEmail, Account.Name FROM Contact",
            max_records=2,
            wait=0,
        )
    )
    assert len(pages) == 3
    assert pages[0].splitlines()[0] == '"Id","LastName","HasOptedOutOfEmail","Account.Name"'
    assert pages[0].splitlines()[1].endswith('"false","Quote ""Co"", Ltd"')
    with pytest.raises(SalesforceMalformedRequest):
        list(
            org.api.bulk2.Account.query("SELECT Id, (SELECT Id FROM Contacts) FROM Account", wait=0)
        )


def test_bulk_jobs_advance_with_the_fakes_clock(org: LocalOrg) -> None:
    """A job waits in the queue (UploadComplete), is processed at a cost per row (InProgress),
    then completes; its results are refused until then. No sleeping: the clock is stepped."""
    clock = StepClock()
    org.fake.clock = clock
    org.fake.bulk.queue_s, org.fake.bulk.row_s = 2.0, 0.01
    create_all(org.api, "Account", [{"Name": f"A{i}"} for i in range(100)])  # 1 s of rows
    body = {"operation": "query", "query": "SELECT Id FROM Account"}
    job = org.api.restful("jobs/query", method="POST", json=body)

    def state() -> str:
        return str(org.api.restful(f"jobs/query/{job['id']}")["state"])

    assert job["state"] == "UploadComplete"
    clock.sleep(1.99)
    assert state() == "UploadComplete"
    clock.sleep(0.01)
    assert state() == "InProgress"
    with pytest.raises(SalesforceMalformedRequest):
        org.api.restful(f"jobs/query/{job['id']}/results")
    clock.sleep(0.99)
    assert state() == "InProgress"
    clock.sleep(0.01)
    assert state() == "JobComplete"
    done = org.api.restful(f"jobs/query/{job['id']}")
    assert (done["numberRecordsProcessed"], done["totalProcessingTime"]) == (100, 1000)
    results = org.api.bulk2.Account._client.get_query_results(job["id"], "", 1000)
    assert results["number_of_records"] == 100


def test_a_failed_bulk_job_raises_in_the_library(org: LocalOrg) -> None:
    """A job the org fails ends in Failed; simple-salesforce raises SalesforceOperationError."""
    org.fake.bulk.fail_next = "InternalServerError"
    with pytest.raises(SalesforceOperationError):
        list(org.api.bulk2.Account.query("SELECT Id FROM Account", wait=0))


def test_query_jobs_are_limited_per_rolling_day(org: LocalOrg) -> None:
    """Past the daily allocation of query jobs creation is refused until a day has rolled."""
    clock = StepClock()
    org.fake.clock = clock
    org.fake.bulk.daily_jobs = 2
    body = {"operation": "query", "query": "SELECT Id FROM Account"}
    org.api.restful("jobs/query", method="POST", json=body)
    clock.sleep(3600.0)
    org.api.restful("jobs/query", method="POST", json=body)
    assert org.api.restful("limits")["DailyBulkV2QueryJobs"] == {"Max": 2, "Remaining": 0}
    with pytest.raises(SalesforceRefusedRequest) as raised:
        org.api.restful("jobs/query", method="POST", json=body)
    assert raised.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    clock.sleep(86_400.0 - 3600.0)  # the first job leaves the window
    org.api.restful("jobs/query", method="POST", json=body)
    assert org.fake.peaks.refused == {"bulk_jobs": 1}
    assert org.fake.peaks.busiest()["bulk_jobs"] == 2


def test_long_running_requests_are_limited_per_org(org: LocalOrg) -> None:
    """With the org's long-running slots taken by requests in flight for 20 s or more, a new
    request is refused (ConcurrentPerOrgLongTxn); once they end, requests pass again."""
    clock = StepClock()
    org.fake.clock = clock
    org.fake.long_running_limit = 1
    entered, release = threading.Event(), threading.Event()

    def slow(req: Request, version: str) -> Response:
        entered.set()
        release.wait(10)
        return Response(200, {})

    org.fake.route("GET", r"/services/data/v(?P<version>\d+\.\d)/slow", slow)
    token = org.fake.issue_token()
    headers = {"Authorization": f"Bearer {token}"}
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(
            requests.get,
            f"{org.fake.base_url}/services/data/v59.0/slow",
            headers=headers,
            timeout=10,
        )
        assert entered.wait(10)
        org.api.query("SELECT Id FROM Account")  # in flight for less than 20 s: no limit
        clock.sleep(20.0)
        with pytest.raises(SalesforceRefusedRequest) as raised:
            org.api.query("SELECT Id FROM Account")
        assert raised.value.content[0]["message"] == "ConcurrentPerOrgLongTxn Limit exceeded."
        release.set()
        assert held.result().status_code == 200
    org.api.query("SELECT Id FROM Account")
    assert org.fake.peaks.refused == {"long_running": 1}
    assert org.fake.peaks.busiest()["long_running"] == 1


def test_every_data_response_reports_api_usage(org: LocalOrg) -> None:
    """Sforce-Limit-Info carries the daily usage; over the limit the API answers 403."""
    sf = org.api
    sf.query("SELECT Id FROM Account")
    assert sf.api_usage["api-usage"].used == org.fake.api_used
    org.fake.api_limit = org.fake.api_used
    with pytest.raises(SalesforceRefusedRequest) as raised:
        sf.query("SELECT Id FROM Account")
    assert raised.value.content == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]


def test_ended_sessions_answer_invalid_session_id(org: LocalOrg) -> None:
    """A token the org no longer knows gets 401 INVALID_SESSION_ID."""
    sf = api_client(org.fake)
    org.fake.expire_sessions()
    with pytest.raises(SalesforceExpiredSession) as raised:
        sf.query("SELECT Id FROM Account")
    assert raised.value.content[0]["errorCode"] == "INVALID_SESSION_ID"


def test_the_token_endpoint_checks_jwt_claims(org: LocalOrg) -> None:
    """Wrong subject, wrong audience or an expired assertion are invalid_grant."""
    private = org.key_file.read_text()
    url = f"{org.fake.base_url}/services/oauth2/token"

    def grant(**claims: object) -> dict[str, str]:
        payload = {
            "iss": CONSUMER_KEY,
            "sub": USERNAME,
            "aud": "https://login.salesforce.com",
            "exp": str(int(time.time()) + 120),
            **claims,
        }
        assertion = jwt.encode(payload, private, algorithm="RS256")
        form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}
        return requests.post(url, data=form, timeout=5).json()  # type: ignore[no-any-return]

    assert "access_token" in grant()
    assert grant(sub="someone@else.example")["error"] == "invalid_grant"
    assert grant(aud="https://evil.example.com")["error"] == "invalid_grant"
    assert grant(exp=str(int(time.time()) - 5))["error"] == "invalid_grant"
    other = key_pair()[0]
    forged = jwt.encode(
        {"iss": CONSUMER_KEY, "sub": USERNAME, "aud": "https://login.salesforce.com"},
        other,
        algorithm="RS256",
    )
    answer = requests.post(
        url,
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": forged},
        timeout=5,
    ).json()
    assert answer["error"] == "invalid_grant"
    with pytest.raises(SalesforceAuthenticationFailed):
        SalesforceLogin(
            username=USERNAME,
            consumer_key="not-the-app",
            privatekey=private,
            session=org.api.session,
        )


def test_describe_shows_the_fields_the_connector_relies_on(org: LocalOrg) -> None:
    """Task's external id, its non-filterable Description, and create-only TaskSubtype."""
    fields = {f["name"]: f for f in org.api.Task.describe()["fields"]}
    assert fields["Syncd_Key__c"]["externalId"] and fields["Syncd_Key__c"]["unique"]
    assert not fields["Description"]["filterable"]
    assert fields["TaskSubtype"]["createable"] and not fields["TaskSubtype"]["updateable"]
    statuses = org.api.query("SELECT ApiName, IsConverted FROM LeadStatus")["records"]
    assert {"Unqualified", "Closed - Converted"} <= {s["ApiName"] for s in statuses}
