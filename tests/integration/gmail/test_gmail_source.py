"""Reading replies from a mailbox: first listing, history increments, resync, batching."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncd.connectors import FatalSyncError, RetriableError
from syncd.model import Channel, Intent, SourceKind
from syncd.testing.httpfake import Fault, FaultKind
from syncd_gmail.fake_wire import google_error
from syncd_gmail.testing import CRM_SHARD, GmailTestbed, read_all

OPT_OUT = "Please remove me from your mailing list."
NOT_NOW = "Not right now. Please reach out again next quarter."


def test_first_read_lists_replies_from_known_people_in_rep_threads(bed: GmailTestbed) -> None:
    """Only replies by CRM people, in threads the rep started, become events about them."""
    pat, lena = bed.person(name="Pat Doe"), bed.person(name="Lena Koch")
    pat_reply = bed.reply(f"Pat Doe <{pat.email}>", NOT_NOW)
    lena_reply = bed.reply(str(lena.email), "Vielen Dank, aber wir haben kein Interesse.")
    bed.reply("stranger@elsewhere.example", NOT_NOW)  # not in the CRM
    started_by_them = bed.fake.seed_message(
        bed.mailbox, sender=str(pat.email), to=bed.mailbox, subject="Question", body="Hi"
    )  # a new thread the prospect opened: not a reply to the rep
    bed.outreach("someone@acme.example")  # the rep's own message
    conn = bed.open()

    events, cursor, _ = read_all(conn)

    assert {e.event_id for e in events} == {f"gm:msg:{pat_reply.id}", f"gm:msg:{lena_reply.id}"}
    assert started_by_them.id not in {e.event_id.split(":")[-1] for e in events}
    by_id = {e.event_id: e for e in events}
    pat_event = by_id[f"gm:msg:{pat_reply.id}"]
    assert pat_event.source is SourceKind.REPLY
    assert pat_event.prospect == pat  # the CRM's own record, ref in the CRM shard
    assert pat_event.reply is not None
    assert pat_event.reply.thread_id == pat_reply.thread_id
    assert pat_event.reply.message_id == pat_reply.header("Message-ID")
    assert pat_event.reply.subject == "Re: Following up"
    assert pat_event.quote is not None and "next quarter" in pat_event.quote
    assert pat_event.position.startswith("full:")
    assert cursor is not None and cursor.value.isdigit()


def test_history_brings_only_new_replies_after_the_cursor(bed: GmailTestbed) -> None:
    """A read from the stored history id returns the replies that arrived since, once."""
    conn = bed.open()
    first = bed.person()
    bed.reply(str(first.email), NOT_NOW)
    _, cursor, _ = read_all(conn)
    second, third = bed.person(), bed.person()
    new = [bed.reply(str(second.email), NOT_NOW), bed.reply(str(third.email), OPT_OUT)]

    events, cursor2, _ = read_all(conn, cursor)
    again, _, _ = read_all(conn, cursor2)

    assert [e.event_id for e in events] == [f"gm:msg:{m.id}" for m in new]
    positions = [int(e.position) for e in events]
    assert positions == sorted(positions) and positions[0] > int(cursor.value if cursor else 0)
    assert again == []


def test_a_stale_history_id_falls_back_to_a_full_listing(bed: GmailTestbed) -> None:
    """When Gmail has forgotten the cursor's history, new replies are still found by listing,
    and replies already acknowledged are not reported again."""
    conn = bed.open()
    done = bed.reply(str(bed.person().email), NOT_NOW)
    events, cursor, _ = read_all(conn)
    assert conn.source is not None
    conn.source.acknowledge(events)  # type: ignore[attr-defined]
    missed = bed.reply(str(bed.person().email), OPT_OUT)
    bed.fake.expire_history(bed.mailbox)

    events, cursor2, _ = read_all(conn, cursor)

    assert [e.event_id for e in events] == [f"gm:msg:{missed.id}"]
    assert f"gm:msg:{done.id}" not in {e.event_id for e in events}
    assert cursor2 is not None and cursor2.value.isdigit()
    assert int(cursor2.value) > int(cursor.value if cursor else 0)


def test_bodies_are_fetched_in_batches_never_one_call_per_message(bed: GmailTestbed) -> None:
    """Twelve replies with batch_size 5 cost three message batches, no single message GETs."""
    for _ in range(12):
        bed.reply(str(bed.person().email), NOT_NOW)
    # a per-second quota large enough that batch_size, not the quota, sizes the batches
    conn = bed.open(batch_size=5, user_units_per_second=2_500)
    before_inner = len(bed.fake.inner_requests)
    before = len(bed.fake.requests)

    events, _, pages = read_all(conn)

    outer = bed.fake.requests[before:]
    inner = bed.fake.inner_requests[before_inner:]
    assert len(events) == 12
    assert not [r for r in outer if r.method == "GET" and "/messages/" in r.path]
    message_gets = [r for r in inner if "/messages/" in r.path]
    assert len(message_gets) == 12
    batches = [r for r in outer if r.path == "/batch/gmail/v1"]
    assert len(batches) == 6  # per page: one batch of messages, one of their threads
    assert bed.directory.calls["find_by_email"] == 3  # one look-up per page, not per reply
    assert [len(p.events) for p in pages[:3]] == [5, 5, 2]


def test_resuming_a_cut_listing_neither_loses_nor_repeats(bed: GmailTestbed) -> None:
    """Stopping the first listing after one page and reading on yields every reply once."""
    replies = [bed.reply(str(bed.person().email), NOT_NOW) for _ in range(7)]
    conn = bed.open(batch_size=3)
    assert conn.source is not None
    first_page = next(iter(conn.source.read(None, datetime.now(UTC) + timedelta(minutes=1))))

    rest, _, _ = read_all(bed.open(batch_size=3), first_page.cursor)

    ids = [e.event_id for e in first_page.events + rest]
    assert sorted(ids) == sorted(f"gm:msg:{m.id}" for m in replies)
    assert first_page.cursor.value.startswith("full:")


def test_replies_newer_than_until_wait_for_a_later_read(bed: GmailTestbed) -> None:
    """A reply received after `until` (search index lag) is held back, not skipped."""
    conn = bed.open()
    _, cursor, _ = read_all(conn)
    recent = bed.reply(str(bed.person().email), NOT_NOW, minutes_ago=1)

    held, cursor2, _ = read_all(conn, cursor, until=datetime.now(UTC) - timedelta(minutes=5))
    later, _, _ = read_all(conn, cursor2)

    assert held == []
    assert [e.event_id for e in later] == [f"gm:msg:{recent.id}"]


def test_first_listing_holds_back_recent_replies_too(bed: GmailTestbed) -> None:
    """During the first listing, a too-recent reply is left for the next read."""
    old = bed.reply(str(bed.person().email), NOT_NOW, minutes_ago=120)
    recent = bed.reply(str(bed.person().email), NOT_NOW, minutes_ago=1)
    conn = bed.open()

    first, cursor, _ = read_all(conn, until=datetime.now(UTC) - timedelta(minutes=5))
    second, _, _ = read_all(conn, cursor)

    assert [e.event_id for e in first] == [f"gm:msg:{old.id}"]
    assert [e.event_id for e in second] == [f"gm:msg:{recent.id}"]


def test_unknown_senders_can_become_new_leads(bed: GmailTestbed) -> None:
    """With unknown_senders = "create_lead", a stranger's reply names a new lead in the CRM."""
    reply = bed.reply("Robin Roe <Robin.Roe@newco.example>", NOT_NOW)
    conn = bed.open(unknown_senders="create_lead")

    events, _, _ = read_all(conn)

    (event,) = events
    digest = hashlib.sha256(b"robin.roe@newco.example").hexdigest()[:40]
    assert event.event_id == f"gm:msg:{reply.id}"
    assert (event.prospect.ref.system, event.prospect.ref.kind) == (CRM_SHARD, "lead")
    assert event.prospect.ref.id == f"new:{digest}"
    assert event.prospect.email == "robin.roe@newco.example"
    assert event.prospect.name == "Robin Roe"


def test_auto_replies_are_still_reported(bed: GmailTestbed) -> None:
    """An out-of-office answer is an event too, so the policy can shift the next touch."""
    person = bed.person()
    outreach = bed.outreach(str(person.email))
    auto = bed.reply(
        str(person.email),
        "I am out of the office until January 15, 2027. I will reply when I return.",
        subject="Automatic reply: Following up",
        parent=outreach,
        headers=[("Auto-Submitted", "auto-replied")],
    )

    events, _, _ = read_all(bed.open())

    (event,) = events
    assert event.event_id == f"gm:msg:{auto.id}"
    assert event.reply is not None
    assert event.reply.auto_reply or event.reply.intent is Intent.OUT_OF_OFFICE


def test_an_opt_out_reply_carries_the_intent_and_channels(bed: GmailTestbed) -> None:
    """ "Remove me from your list" comes out as an opt_out reply for the e-mail channel."""
    person = bed.person()
    bed.reply(str(person.email), OPT_OUT)

    events, _, _ = read_all(bed.open())

    (event,) = events
    assert event.reply is not None and event.reply.intent is Intent.OPT_OUT
    assert Channel.EMAIL in event.reply.opt_out_channels
    assert event.prospect.ref.system == CRM_SHARD


def test_html_only_replies_are_read(bed: GmailTestbed) -> None:
    """A reply whose body is only HTML still reaches the classifier and the event's quote."""
    person = bed.person()
    parent = bed.outreach(str(person.email))
    msg = bed.fake.seed_message(
        bed.mailbox,
        sender=str(person.email),
        to=bed.mailbox,
        subject="Re: Following up",
        body=None,
        html="<div>Please remove me from your mailing list.</div>",
        in_reply_to=parent.header("Message-ID"),
        references=parent.header("Message-ID"),
        date=datetime.now(UTC) - timedelta(minutes=10),
    )

    events, _, _ = read_all(bed.open())

    assert [e.event_id for e in events] == [f"gm:msg:{msg.id}"]
    assert events[0].reply is not None and events[0].reply.intent is Intent.OPT_OUT


OUTLOOK_HTML_REPLY = (
    '<html><body><div dir="ltr"><div>Not for us right now, try again next year.</div>'
    '<div id="Signature"><p>Pat Smith</p></div></div><div id="appendonsend"></div>'
    '<hr style="display:inline-block;width:98%"><div id="divRplyFwdMsg" dir="ltr">'
    "<b>From:</b> Sam &lt;sam@harborlight.example&gt;<br><b>Sent:</b> Wednesday, October 7, "
    "2026 4:40 PM<br><b>Subject:</b> Following up</div><div>Hi Pat, are you interested?<br>"
    "To stop receiving these e-mails, unsubscribe here.</div></body></html>"
)


def test_html_only_outlook_reply_is_read_without_its_quoted_pitch(bed: GmailTestbed) -> None:
    """The quoted pitch below Outlook's rule, with its unsubscribe footer, is not the reply."""
    person = bed.person()
    parent = bed.outreach(str(person.email))
    bed.fake.seed_message(
        bed.mailbox,
        sender=str(person.email),
        to=bed.mailbox,
        subject="RE: Following up",
        body=None,
        html=OUTLOOK_HTML_REPLY,
        in_reply_to=parent.header("Message-ID"),
        references=parent.header("Message-ID"),
        date=datetime.now(UTC) - timedelta(minutes=10),
    )

    events, _, _ = read_all(bed.open())

    (event,) = events
    assert event.reply is not None and event.reply.intent is not Intent.OPT_OUT
    assert event.quote == "Not for us right now, try again next year."


def test_quota_errors_are_waited_out_then_the_read_goes_on(bed: GmailTestbed) -> None:
    """429 and 403 userRateLimitExceeded back off (Gmail's Retry after) and the read succeeds."""
    bed.reply(str(bed.person().email), NOT_NOW)
    conn = bed.open()
    bed.fake.quota_errors("user_rate", times=1, path="/messages$")
    bed.fake.quota_errors("user_rate_403", times=1, path="/messages$")

    events, _, _ = read_all(conn)

    assert len(events) == 1
    assert len(bed.sleeps.waits) == 2  # two back-offs, taken on the injected clock


def test_a_quota_error_inside_a_batch_retries_only_that_part(bed: GmailTestbed) -> None:
    """When one message of a batch hits the rate limit, only that message is fetched again."""
    replies = [bed.reply(str(bed.person().email), NOT_NOW) for _ in range(3)]
    conn = bed.open()
    before = len(bed.fake.inner_requests)
    bed.fake.quota_errors("concurrent", times=1, path=f"/messages/{replies[1].id}$")

    events, _, _ = read_all(conn)

    assert len(events) == 3
    gets = [r for r in bed.fake.inner_requests[before:] if "/messages/" in r.path]
    assert [r.status for r in gets].count(429) == 1 and len(gets) == 4


def test_a_daily_limit_ends_the_read_without_sleeping_through_it(bed: GmailTestbed) -> None:
    """dailyLimitExceeded is not waited out in the call: the cycle ends, retry in an hour."""
    conn = bed.open()
    bed.fake.quota_errors("daily", times=1)

    with pytest.raises(RetriableError) as caught:
        read_all(conn)

    assert caught.value.retry_after_s is not None and caught.value.retry_after_s >= 3600
    assert bed.sleeps.waits == []


def test_a_slow_gmail_times_out_as_a_retriable_error(bed: GmailTestbed) -> None:
    """Calls that exceed timeout_s give up and surface as RetriableError after the retries."""
    conn = bed.open(timeout_s=0.2, retry_attempts=2)
    bed.fake.latency_s = 0.6

    with pytest.raises(RetriableError):
        read_all(conn)

    assert len(bed.sleeps.waits) == 1


def test_revoked_access_stops_the_shard_without_retrying(tmp_path: Path) -> None:
    """A refused refresh is FatalSyncError at once: one token request, no back-off loop."""
    # its own fake, and a timeout no busy machine reaches: a client that gave up waiting
    # would send the token request again
    bed = GmailTestbed.start(tmp_path)
    try:
        conn = bed.open(timeout_s=60.0)
        bed.fake.revoke(bed.mailbox)
        grants = len(bed.fake.calls("POST", "^/token$"))

        with pytest.raises(FatalSyncError, match="syncd auth <shard"):
            read_all(conn)

        assert len(bed.fake.calls("POST", "^/token$")) == grants + 1
        assert bed.sleeps.waits == []
    finally:
        bed.stop()


def test_the_shard_keeps_to_its_share_of_the_user_quota(bed: GmailTestbed) -> None:
    """Once syncd's share of the per-user units is spent, it waits for the minute to roll,
    and the minute never holds more than the share."""
    for _ in range(12):
        bed.reply(str(bed.person().email), NOT_NOW)
    conn = bed.open(user_units_per_minute=200, quota_share=0.5)

    events, _, _ = read_all(conn)

    assert len(events) == 12
    assert bed.sleeps.waits and max(bed.sleeps.waits) > 30  # waited for units to free up
    remaining = conn.quota_remaining()
    assert remaining is not None and 0.5 <= remaining < 1.0


def test_admin_phrases_from_the_replies_section_apply_to_the_mailbox(bed: GmailTestbed) -> None:
    """A phrase an admin adds under [replies] decides a reply read from Gmail."""
    from syncd.model import Intent
    from syncd.replies.config import RepliesConfig

    person = bed.person()
    bed.reply(str(person.email), "Our inventory freeze is on.")
    plain, _, _ = read_all(bed.open())
    replies = RepliesConfig.model_validate({"phrases": {"en": {"not_now": ["inventory freeze"]}}})
    tuned, _, _ = read_all(bed.open(replies=replies))
    assert plain[0].reply is not None and "inventory freeze" not in plain[0].reply.evidence
    assert tuned[0].reply is not None and tuned[0].reply.intent is Intent.NOT_NOW
    assert "inventory freeze" in tuned[0].reply.evidence


def test_no_request_follows_a_429_or_503_sooner_than_its_retry_after(bed: GmailTestbed) -> None:
    """A 429 asking for 7 s and a 503 asking for 4 s: the fake, stamping requests with the
    connector's clock, sees each retry come no sooner than the answer asked."""
    bed.reply(str(bed.person().email), NOT_NOW)
    conn = bed.open()
    bed.fake.request_clock = bed.sleeps.clock
    before = len(bed.fake.requests)
    busy = google_error(429, "Too many concurrent requests for user", "rateLimitExceeded")
    busy.headers["Retry-After"] = "7"
    down = google_error(503, "The service is currently unavailable.", "backendError")
    down.headers["Retry-After"] = "4"
    bed.fake.inject(Fault(FaultKind.STATUS, busy, path="/messages$"))
    bed.fake.inject(Fault(FaultKind.STATUS, down, path="/messages$"))

    events, _, _ = read_all(conn)

    assert len(events) == 1
    served = [r for r in bed.fake.requests[before:] if r.path.endswith("/messages")]
    assert [r.status for r in served][:3] == [429, 503, 200]
    assert served[1].at - served[0].at >= 7.0
    assert served[2].at - served[1].at >= 4.0
