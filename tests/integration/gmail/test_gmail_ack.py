"""Acknowledging processed replies by labelling them: created once, idempotent, excluded."""

from __future__ import annotations

from syncd_gmail.testing import GmailTestbed, read_all

NOT_NOW = "Not right now. Please reach out again next quarter."


def test_acknowledging_labels_the_messages_and_creates_the_label_once(bed: GmailTestbed) -> None:
    """The processed label is created when missing and put on every acknowledged reply."""
    replies = [bed.reply(str(bed.person().email), NOT_NOW) for _ in range(3)]
    conn = bed.open()
    events, _, _ = read_all(conn)
    assert conn.source is not None

    conn.source.acknowledge(events[:2])  # type: ignore[attr-defined]
    conn.source.acknowledge(events[2:])  # type: ignore[attr-defined]

    box = bed.fake.mailbox(bed.mailbox)
    assert [label.name for label in box.labels.values()].count("syncd/processed") == 1
    assert all("syncd/processed" in bed.labels_of(r.id) for r in replies)


def test_acknowledging_twice_changes_nothing(bed: GmailTestbed) -> None:
    """A second acknowledgement of the same events leaves labels and history untouched."""
    bed.reply(str(bed.person().email), NOT_NOW)
    conn = bed.open()
    events, _, _ = read_all(conn)
    assert conn.source is not None
    conn.source.acknowledge(events)  # type: ignore[attr-defined]
    box = bed.fake.mailbox(bed.mailbox)
    head, labels = box.history_id, len(box.labels)

    bed.open().source.acknowledge(events)  # type: ignore[union-attr]

    assert (box.history_id, len(box.labels)) == (head, labels)


def test_an_existing_label_is_reused_whatever_its_case(bed: GmailTestbed) -> None:
    """A label an admin already made (any case) is used, not duplicated."""
    svc = bed.service()
    made = svc.users().labels().create(userId="me", body={"name": "Syncd/Processed"}).execute()
    reply = bed.reply(str(bed.person().email), NOT_NOW)
    conn = bed.open()
    events, _, _ = read_all(conn)

    conn.source.acknowledge(events)  # type: ignore[union-attr]

    assert made["id"] in bed.fake.mailbox(bed.mailbox).messages[reply.id].label_ids
    assert len([x for x in bed.fake.mailbox(bed.mailbox).labels if x.startswith("Label_")]) == 1


def test_acknowledged_replies_leave_the_listing(bed: GmailTestbed) -> None:
    """A fresh first read (new state) skips replies that carry the processed label."""
    done = bed.reply(str(bed.person().email), NOT_NOW)
    conn = bed.open()
    events, _, _ = read_all(conn)
    conn.source.acknowledge(events)  # type: ignore[union-attr]
    fresh = bed.reply(str(bed.person().email), NOT_NOW)

    again, _, _ = read_all(bed.open())

    assert [e.event_id for e in again] == [f"gm:msg:{fresh.id}"]
    assert f"gm:msg:{done.id}" not in {e.event_id for e in again}


def test_acknowledging_many_replies_is_one_call(bed: GmailTestbed) -> None:
    """Labels go on in one batchModify call, not one modify per message."""
    for _ in range(7):
        bed.reply(str(bed.person().email), NOT_NOW)
    conn = bed.open()
    events, _, _ = read_all(conn)
    conn.source.acknowledge(events)  # type: ignore[union-attr]  # creates the label
    second = [bed.reply(str(bed.person().email), NOT_NOW) for _ in range(4)]
    events2, _, _ = read_all(bed.open())

    before = len(bed.fake.requests)
    conn.source.acknowledge(events2)  # type: ignore[union-attr]

    calls = [r.path for r in bed.fake.requests[before:]]
    assert calls == ["/gmail/v1/users/me/messages/batchModify"]
    assert all("syncd/processed" in bed.labels_of(r.id) for r in second)
