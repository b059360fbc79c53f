"""Acknowledgement drafts: threaded under the reply, keyed, reconciled, never duplicated."""

from __future__ import annotations

from datetime import date

from syncd.model import ProspectRef, TouchSpec, WriteKind, WriteStatus
from syncd_gmail.fake_store import StoredMessage
from syncd_gmail.testing import CRM_SHARD, GmailTestbed, LostDraftAnswer


def _spec(
    key: str, reply: StoredMessage | None, to: str = "pat@acme.example", **kw: object
) -> TouchSpec:
    values: dict[str, object] = {
        "key": key,
        "write": WriteKind.DRAFT,
        "prospect": ProspectRef(CRM_SHARD, "contact", "003C000001"),
        "due": date.today(),
        "subject": "Thank you",  # the policy's wording, not the thread's subject
        "body": "Thanks for getting back to me, Pat.",
        "to_email": to,
    }
    if reply is not None:
        values |= {
            "thread_id": reply.thread_id,
            "in_reply_to": reply.header("Message-ID"),
            "references": reply.header("References") or reply.header("Message-ID"),
        }
    values.update(kw)
    return TouchSpec(**values)  # type: ignore[arg-type]


def test_a_draft_is_threaded_under_the_reply(bed: GmailTestbed) -> None:
    """The draft sits in the reply's thread with In-Reply-To, full References and "Re:"."""
    outreach = bed.outreach("pat@acme.example")
    reply = bed.reply("Pat <pat@acme.example>", "Not now, thanks.", parent=outreach)
    conn = bed.open()
    assert conn.sink is not None

    (result,) = conn.sink.write([_spec("k-thread", reply)])

    assert result.status is WriteStatus.OK and result.remote_id
    (draft,) = bed.drafts()
    assert draft.thread_id == reply.thread_id  # the fake only allows this by Gmail's rules
    assert draft.header("In-Reply-To") == reply.header("Message-ID")
    assert draft.header("References").split() == [
        outreach.header("Message-ID"),
        reply.header("Message-ID"),
    ]
    assert draft.header("Subject") == "Re: Following up"
    assert draft.header("To") == "pat@acme.example"
    assert draft.header("From") == bed.mailbox
    assert draft.header("X-Syncd-Key") == "k-thread"
    assert "DRAFT" in draft.label_ids
    assert bed.fake.mailbox(bed.mailbox).drafts[str(result.remote_id)].message_id == draft.id


def test_a_touch_carrying_the_replys_facts_is_drafted_without_reading_the_thread(
    bed: GmailTestbed,
) -> None:
    """The reply's Subject and ids read with it thread the draft alike, with drafts.create
    alone (10 units) and no threads.get (another 10)."""
    outreach = bed.outreach("pat@acme.example")
    reply = bed.reply("Pat <pat@acme.example>", "Not now, thanks.", parent=outreach)
    conn = bed.open()
    assert conn.sink is not None
    outer, inner = len(bed.fake.requests), len(bed.fake.inner_requests)

    (result,) = conn.sink.write([_spec("k-known", reply, thread_subject=reply.header("Subject"))])

    assert result.status is WriteStatus.OK
    (draft,) = bed.drafts()
    assert draft.thread_id == reply.thread_id
    assert draft.header("In-Reply-To") == reply.header("Message-ID")
    assert draft.header("References").split() == [
        outreach.header("Message-ID"),
        reply.header("Message-ID"),
    ]
    assert draft.header("Subject") == "Re: Following up"
    calls = [*bed.fake.requests[outer:], *bed.fake.inner_requests[inner:]]
    api = [(c.method, c.path.rsplit("/", 1)[-1]) for c in calls if "/users/" in c.path]
    assert api == [("POST", "drafts")]


def test_a_german_reply_keeps_its_subject_without_stacked_prefixes(bed: GmailTestbed) -> None:
    """An "AW:" subject becomes "Re: <subject>", which Gmail still threads."""
    outreach = bed.outreach("lena@acme.example", subject="Kurze Frage")
    reply = bed.reply(
        "lena@acme.example", "Kein Interesse.", subject="AW: Kurze Frage", parent=outreach
    )
    conn = bed.open()
    assert conn.sink is not None

    conn.sink.write([_spec("k-aw", reply, to="lena@acme.example")])

    (draft,) = bed.drafts()
    assert draft.header("Subject") == "Re: Kurze Frage"
    assert draft.thread_id == reply.thread_id


def test_a_spec_without_thread_is_a_plain_draft(bed: GmailTestbed) -> None:
    """Without a thread the draft keeps the touch's subject and stands alone."""
    conn = bed.open()
    assert conn.sink is not None

    (result,) = conn.sink.write([_spec("k-plain", None)])

    (draft,) = bed.drafts()
    assert result.status is WriteStatus.OK
    assert draft.header("Subject") == "Thank you" and not draft.header("In-Reply-To")


def test_find_reads_the_keys_back_from_the_drafts(bed: GmailTestbed) -> None:
    """find maps each written key to its draft id and ignores keys never written."""
    replies = [bed.reply(f"p{n}@acme.example", "Not now") for n in range(3)]
    conn = bed.open(batch_size=2)
    assert conn.sink is not None
    specs = [_spec(f"k-{n}", r, to=f"p{n}@acme.example") for n, r in enumerate(replies[:2])]
    results = conn.sink.write(specs)

    found = conn.sink.find(["k-0", "k-1", "k-never"])

    assert found == {r.key: r.remote_id for r in results}


def test_a_lost_answer_is_in_doubt_and_never_re_sent(bed: GmailTestbed) -> None:
    """Drafts created but unanswered are IN_DOUBT, exist once each, and find reconciles them."""
    replies = [bed.reply(f"p{n}@acme.example", "Not now") for n in range(2)]
    conn = bed.open()
    assert conn.sink is not None
    specs = [_spec(f"lost-{n}", r, to=f"p{n}@acme.example") for n, r in enumerate(replies)]
    bed.fake.inject(LostDraftAnswer())

    results = conn.sink.write(specs)

    assert [r.status for r in results] == [WriteStatus.IN_DOUBT, WriteStatus.IN_DOUBT]
    assert sorted(bed.draft_keys()) == ["lost-0", "lost-1"]  # no silent replay by the transport
    assert set(conn.sink.find(["lost-0", "lost-1"])) == {"lost-0", "lost-1"}


def test_per_draft_failures_are_results_not_raises(bed: GmailTestbed) -> None:
    """Inside one batch: a rate-limited draft is RETRY, a 503 IN_DOUBT, the rest OK."""
    replies = [bed.reply(f"p{n}@acme.example", "Not now") for n in range(3)]
    conn = bed.open()
    assert conn.sink is not None
    specs = [_spec(f"mixed-{n}", r, to=f"p{n}@acme.example") for n, r in enumerate(replies)]
    bed.fake.quota_errors("user_rate", times=1, path="/drafts$")
    bed.fake.server_errors(times=1, path="/drafts$")

    results = conn.sink.write(specs)

    assert [r.status for r in results] == [WriteStatus.RETRY, WriteStatus.IN_DOUBT, WriteStatus.OK]
    assert results[0].retry_after_s is not None
    assert results[0].error == "http_429:rateLimitExceeded"
    assert bed.draft_keys() == ["mixed-2"]


def test_unwritable_specs_fail_without_a_call(bed: GmailTestbed) -> None:
    """A task, a draft without recipient, or a thread deleted meanwhile fail permanently."""
    reply = bed.reply("pat@acme.example", "Not now")
    gone = bed.reply("sam@acme.example", "Not now")
    bed.fake.mailbox(bed.mailbox).delete(gone.id)
    bed.fake.mailbox(bed.mailbox).delete(gone.thread_id)
    conn = bed.open()
    assert conn.sink is not None
    specs = [
        _spec("task", reply, write=WriteKind.TASK),
        _spec("nobody", reply, to_email=None),
        _spec("deleted", gone, to="sam@acme.example"),
        _spec("fine", reply),
    ]

    results = conn.sink.write(specs)

    assert [(r.key, r.status, r.error) for r in results] == [
        ("task", WriteStatus.FAILED, "unsupported_write"),
        ("nobody", WriteStatus.FAILED, "no_recipient"),
        ("deleted", WriteStatus.FAILED, "thread_not_found"),
        ("fine", WriteStatus.OK, None),
    ]
    assert bed.draft_keys() == ["fine"]
