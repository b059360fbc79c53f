"""Looking people up in the fake portal: state, colleagues, activity and e-mail matches."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from syncd.model import AccountRef, Channel, ProspectRef

if TYPE_CHECKING:
    from conftest import Portal


def ref(contact: str) -> ProspectRef:
    return ProspectRef("hubspot", "contact", contact)


def test_prospects_carry_account_and_every_opt_out_source(portal: Portal) -> None:
    """Opted out of all e-mail, out of the configured subscription, or do-not-call: each shows
    as an opt-out channel; everyone is read in one batch, not one call per person."""
    portal.fake.add_subscription("5001", "Sales follow-ups")
    portal.fake.portal.create_property("contacts", {"name": "do_not_call", "type": "bool"})
    company = portal.company(name="Iron Works", numberofemployees="30")
    everyone = portal.contact(company, email="all@ex.com")
    subscription = portal.contact(company, email="sub@ex.com")
    phone = portal.contact(company, email="phone@ex.com", do_not_call="true")
    fine = portal.contact(company, email="fine@ex.com", firstname="Sam", lastname="Ruiz")
    portal.fake.unsubscribe_all("all@ex.com")
    portal.fake.portal.subscription_status["sub@ex.com"] = {"5001": "NOT_SUBSCRIBED"}
    conn = portal.connect(
        subscription_id="5001", channel_optout_properties={"phone": "do_not_call"}
    )
    assert conn.directory is not None
    portal.fake.served.clear()

    people = conn.directory.prospects(
        [ref(c) for c in (everyone, subscription, phone, fine)] + [ref("999")]
    )

    assert {p.ref.id: p.opted_out for p in people.values()} == {
        everyone: {Channel.EMAIL},
        subscription: {Channel.EMAIL},
        phone: {Channel.PHONE},
        fine: frozenset(),
    }
    sam = people[ref(fine)]
    assert sam.name == "Sam Ruiz" and sam.account is not None and sam.account.name == "Iron Works"
    assert Counter(r.path.rsplit("/v", 1)[-1] for r in portal.fake.served) == {
        "3/objects/contacts/batch/read": 1,
        "3/objects/companies/batch/read": 1,
        "4/statuses/batch/read": 1,
    }


def test_colleagues_are_the_accounts_contacts(portal: Portal) -> None:
    """Every contact associated with the company comes back, with the account attached."""
    company, other = portal.company(), portal.company()
    staff = [portal.contact(company) for _ in range(3)]
    portal.contact(other)
    conn = portal.connect()
    assert conn.directory is not None

    found = conn.directory.colleagues([AccountRef("hubspot", company)])

    people = found[AccountRef("hubspot", company)]
    assert [p.ref.id for p in people] == staff
    assert all(p.account is not None and p.account.ref.id == company for p in people)


def test_active_means_an_open_deal_or_a_reps_open_task(portal: Portal) -> None:
    """Open deals and open tasks by a rep count; lost deals, completed tasks and syncd's own
    tasks do not."""
    portal.add_syncd_key()
    with_deal, with_task, lost_only, done_task, syncd_task = (portal.contact() for _ in range(5))
    portal.lost_deal([with_deal], stage="contractsent")
    portal.lost_deal([lost_only])
    portal.fake.seed(
        "tasks", {"hs_timestamp": "1", "hs_task_status": "NOT_STARTED"}, [("contacts", with_task)]
    )
    portal.fake.seed(
        "tasks", {"hs_timestamp": "1", "hs_task_status": "COMPLETED"}, [("contacts", done_task)]
    )
    portal.fake.seed("tasks", {"hs_timestamp": "1", "syncd_key": "k"}, [("contacts", syncd_task)])
    conn = portal.connect()
    assert conn.directory is not None

    active = conn.directory.active(
        [ref(c) for c in (with_deal, with_task, lost_only, done_task, syncd_task)]
    )

    assert active == {ref(with_deal), ref(with_task)}


def test_find_by_email_ignores_case(portal: Portal) -> None:
    """Reply senders match contacts whatever the case (HubSpot's IN needs lower case)."""
    contact = portal.contact(email="Jonas.Koch@Granite.example")
    conn = portal.connect()
    assert conn.directory is not None

    found = conn.directory.find_by_email(["JONAS.KOCH@granite.example", "nobody@ex.com"])

    assert list(found) == ["jonas.koch@granite.example"]
    assert found["jonas.koch@granite.example"].ref.id == contact
