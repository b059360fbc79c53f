"""The Directory against the local org: batched lookups, active conversations, e-mail matching."""

from __future__ import annotations

from datetime import date

import pytest

from syncd.connectors import Directory, RetriableError, SyncError
from syncd.model import AccountRef, Channel, ProspectRef, TouchSpec, WriteKind
from syncd.testing.httpfake import Malformed
from syncd_salesforce.client import SalesforceClient
from syncd_salesforce.testkit import LocalOrg


def directory(org: LocalOrg) -> Directory:
    conn = org.connector()
    assert conn.directory is not None
    conn.directory.prospects([])  # load the org profile before counting calls
    return conn.directory


def test_prospects_are_looked_up_in_batches(org: LocalOrg) -> None:
    """450 contacts and a lead are three contact queries and one lead query, not 451, and
    the four travel in one composite/batch call."""
    account = org.account(NumberOfEmployees=700, Industry="Retail")
    contacts = org.contacts(account, 450, HasOptedOutOfEmail=True)
    lead = org.lead(DoNotCall=True)
    refs = [ProspectRef("sf", "contact", c) for c in contacts] + [ProspectRef("sf", "lead", lead)]
    refs.append(ProspectRef("other-shard", "contact", contacts[0]))
    lookup = directory(org)
    calls, queries = org.fake.count(), len(org.fake.soql_log)
    found = lookup.prospects(refs)
    assert org.fake.count() - calls == 1
    assert org.fake.count(path="/composite/batch") >= 1
    assert len(org.fake.soql_log) - queries == 3 + 1
    assert len(found) == 451
    person = found[refs[0]]
    assert person.opted_out == {Channel.EMAIL}
    assert person.account is not None and person.account.employees == 700
    assert found[refs[450]].opted_out == {Channel.PHONE}


def test_colleagues_are_everyone_at_the_accounts(org: LocalOrg) -> None:
    """Each account maps to its contacts; a lead's pseudo-account has none."""
    first, second = org.account(), org.account()
    at_first = org.contacts(first, 3)
    org.contacts(second, 2)
    lead = org.lead()
    found = directory(org).colleagues(
        [AccountRef("sf", first), AccountRef("sf", second), AccountRef("sf", lead)]
    )
    assert sorted(p.ref.id for p in found[AccountRef("sf", first)]) == sorted(at_first)
    assert len(found[AccountRef("sf", second)]) == 2
    assert found[AccountRef("sf", lead)] == []


def test_active_means_an_open_deal_here_or_a_rep_task_not_ours(org: LocalOrg) -> None:
    """Open deal at the contact's account, or an open task syncd did not create, is active."""
    account, elsewhere = org.account(), org.account()
    on_deal, on_other_deal, with_task, with_our_task, idle = org.contacts(account, 5)
    for contact, at in ((on_deal, account), (on_other_deal, elsewhere)):
        opp = org.api.restful(
            "sobjects/Opportunity/",
            method="POST",
            json={
                "Name": "Open",
                "AccountId": at,
                "StageName": "Discovery",
                "CloseDate": "2031-01-01",
            },
        )["id"]
        org.api.restful(
            "sobjects/OpportunityContactRole/",
            method="POST",
            json={"OpportunityId": opp, "ContactId": contact},
        )
    org.api.restful("sobjects/Task/", method="POST", json={"Subject": "Call", "WhoId": with_task})
    conn = org.connector()
    assert conn.sink is not None and conn.directory is not None
    ours = ProspectRef("sf", "contact", with_our_task)
    conn.sink.write([TouchSpec("ours", WriteKind.TASK, ours, date(2030, 1, 1), "Touch", "")])
    lead = org.lead()
    org.api.restful("sobjects/Task/", method="POST", json={"Subject": "Call", "WhoId": lead})
    refs = [
        ProspectRef("sf", "contact", c)
        for c in (on_deal, on_other_deal, with_task, with_our_task, idle)
    ]
    active = conn.directory.active([*refs, ProspectRef("sf", "lead", lead)])
    assert {r.id for r in active} == {on_deal, with_task, lead}


def test_find_by_email_prefers_contacts_and_ignores_case(org: LocalOrg) -> None:
    """Reply senders match contacts first, then unconverted leads; keys are lower-cased."""
    [contact] = org.contacts(org.account(), 1, Email="Jo.Doe@Example.com")
    org.lead(Email="jo.doe@example.com")
    lead = org.lead(Email="only.lead@example.org")
    found = directory(org).find_by_email(
        ["JO.DOE@example.com", "only.lead@example.org", "nobody@example.net"]
    )
    assert set(found) == {"jo.doe@example.com", "only.lead@example.org"}
    assert found["jo.doe@example.com"].ref == ProspectRef("sf", "contact", contact)
    assert found["only.lead@example.org"].ref == ProspectRef("sf", "lead", lead)


def test_chunk_queries_over_a_page_follow_every_next_page(org: LocalOrg) -> None:
    """An account with more colleagues than a query page holds: its next page is fetched in a
    later batch, and nobody is missed or read twice."""
    big, small = org.account(), org.account()
    at_big = org.contacts(big, 2050)
    at_small = org.contacts(small, 2)
    found = directory(org).colleagues([AccountRef("sf", big), AccountRef("sf", small)])
    assert sorted(p.ref.id for p in found[AccountRef("sf", big)]) == sorted(at_big)
    assert sorted(p.ref.id for p in found[AccountRef("sf", small)]) == sorted(at_small)


def test_more_queries_than_a_batch_holds_take_one_call_per_25(org: LocalOrg) -> None:
    """30 queries are two composite/batch calls, each query's answer in its place."""
    ids = org.contacts(None, 30)
    client = SalesforceClient(org.settings())
    soqls = [f"SELECT Id FROM Contact WHERE Id = '{i}'" for i in ids]
    calls = org.fake.count(path="/composite/batch")
    answers = client.query_many(soqls, what="test")
    assert org.fake.count(path="/composite/batch") - calls == 2
    assert [[r["Id"] for r in records] for records in answers] == [[i] for i in ids]


def test_a_query_the_batch_refuses_fails_on_its_own_with_its_error(org: LocalOrg) -> None:
    """A refused chunk is asked again alone, so its error is the translated one (the vendor's
    code and what to check), never a KeyError or an empty answer."""
    ids = org.contacts(None, 2)
    client = SalesforceClient(org.settings())
    good = f"SELECT Id FROM Contact WHERE Id = '{ids[0]}'"
    with pytest.raises(SyncError, match="INVALID_FIELD"):
        client.query_many([good, "SELECT No_Such_Field__c FROM Contact"], what="test")


@pytest.mark.parametrize("how", [Malformed.MISSING_KEY, Malformed.WRONG_TYPE, Malformed.HTML])
def test_a_garbled_batch_answer_is_asked_again(org: LocalOrg, how: Malformed) -> None:
    """A batch answer of the wrong shape is retried in the call and the look-up is whole; a
    lasting one is a retriable error, never an empty look-up."""
    contacts = org.contacts(org.account(), 3)
    refs = [ProspectRef("sf", "contact", c) for c in contacts]
    refs.append(ProspectRef("sf", "lead", org.lead()))  # contacts and leads: two queries
    lookup = directory(org)
    org.fake.malform(how, path=r"/composite/batch", times=1)
    assert set(lookup.prospects(refs)) == set(refs)
    org.fake.malform(how, path=r"/composite/batch", times=100)
    with pytest.raises(RetriableError):
        lookup.prospects(refs)
