"""The local Salesforce through simple-salesforce: shapes, status codes and errors of the API."""

from __future__ import annotations

import time

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

from syncd_salesforce.sandbox import api_client, key_pair
from syncd_salesforce.testkit import CONSUMER_KEY, USERNAME, LocalOrg


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
    time.sleep(0.002)
    assert (
        sf.restful(f"sobjects/Lead/{created['id']}", method="PATCH", json={"Status": "Unqualified"})
        is None
    )
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


def test_bulk_jobs_take_time_and_can_fail(org: LocalOrg) -> None:
    """Jobs report UploadComplete until processed; a failed job raises in the library."""
    org.fake.bulk.processing_s = 0.3
    job = org.api.restful(
        "jobs/query", method="POST", json={"operation": "query", "query": "SELECT Id FROM Account"}
    )
    assert job["state"] == "UploadComplete"
    assert org.api.restful(f"jobs/query/{job['id']}")["state"] == "UploadComplete"
    time.sleep(0.35)
    assert org.api.restful(f"jobs/query/{job['id']}")["state"] == "JobComplete"
    org.fake.bulk.processing_s = 0.0
    org.fake.bulk.fail_next = "InternalServerError"
    with pytest.raises(SalesforceOperationError):
        list(org.api.bulk2.Account.query("SELECT Id FROM Account", wait=0))


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
