"""The Directory against the local org: batched lookups, active conversations, e-mail matching."""

from __future__ import annotations

from datetime import date

from syncd.connectors import Directory
from syncd.model import AccountRef, Channel, ProspectRef, TouchSpec, WriteKind
from syncd_salesforce.testkit import LocalOrg


def directory(org: LocalOrg) -> Directory:
    conn = org.connector()
    assert conn.directory is not None
    conn.directory.prospects([])  # load the org profile before counting calls
    return conn.directory


def test_prospects_are_looked_up_in_batches(org: LocalOrg) -> None:
    """450 contacts and a lead cost three contact queries and one lead query, not 451 calls."""
    account = org.account(NumberOfEmployees=700, Industry="Retail")
    contacts = org.contacts(account, 450, HasOptedOutOfEmail=True)
    lead = org.lead(DoNotCall=True)
    refs = [ProspectRef("sf", "contact", c) for c in contacts] + [ProspectRef("sf", "lead", lead)]
    refs.append(ProspectRef("other-shard", "contact", contacts[0]))
    lookup = directory(org)
    before = org.fake.count(path="/query")
    found = lookup.prospects(refs)
    assert org.fake.count(path="/query") - before == 3 + 1
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
