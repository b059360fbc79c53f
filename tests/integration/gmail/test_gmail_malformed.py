"""Malformed Gmail answers, through google-api-python-client against the local Gmail: a 2xx
of the wrong shape is a retriable error (never an empty mailbox), and one unreadable message
is dead-lettered with its page while the others are read."""

from __future__ import annotations

import pytest

from syncd.connectors import MalformedAnswer
from syncd.testing.httpfake import Malformed
from syncd_gmail.testing import GmailTestbed, read_all

NOT_NOW = "Not right now. Please reach out again next quarter."
LIST = r"/users/me/messages$"
HISTORY = r"/users/me/history$"
PROFILE = r"/users/me/profile$"
VARIANTS = [
    (Malformed.MISSING_KEY, None),
    (Malformed.MISSING_KEY, "resultSizeEstimate"),
    (Malformed.WRONG_TYPE, None),
    (Malformed.TRUNCATED, None),
    (Malformed.HTML, None),
]


def _replies(bed: GmailTestbed, count: int) -> set[str]:
    return {f"gm:msg:{bed.reply(str(bed.person().email), NOT_NOW).id}" for _ in range(count)}


@pytest.mark.parametrize(("how", "key"), VARIANTS)
@pytest.mark.parametrize("path", [LIST, PROFILE])
def test_a_lasting_malformed_answer_is_a_retriable_error(
    bed: GmailTestbed, how: Malformed, key: str | None, path: str
) -> None:
    """Every garbled listing or profile answer ends the read with a MalformedAnswer, never a
    KeyError, TypeError or JSONDecodeError, and never as an empty mailbox."""
    _replies(bed, 2)
    conn = bed.open()
    if path == PROFILE and key == "resultSizeEstimate":
        key = "historyId"
    bed.fake.malform(how, key=key, path=path, times=100)
    with pytest.raises(MalformedAnswer):
        read_all(conn)


@pytest.mark.parametrize(("how", "key"), VARIANTS)
def test_a_passing_malformed_listing_loses_nothing(
    bed: GmailTestbed, how: Malformed, key: str | None
) -> None:
    """One garbled listing is asked again in the call: every reply becomes an event."""
    wanted = _replies(bed, 3)
    conn = bed.open()
    bed.fake.malform(how, key=key, path=LIST, times=1)
    events, _, _ = read_all(conn)
    assert {e.event_id for e in events} == wanted
    assert bed.sleeps.waits  # waited before asking again


@pytest.mark.parametrize("how", [Malformed.HTML, Malformed.WRONG_TYPE])
def test_a_garbled_history_answer_is_a_retriable_error(bed: GmailTestbed, how: Malformed) -> None:
    """After the full listing, a garbled history.list ends the incremental read with a
    MalformedAnswer; the cursor stays where it was."""
    _replies(bed, 1)
    conn = bed.open()
    _, cursor, _ = read_all(conn)
    _replies(bed, 1)
    bed.fake.malform(how, path=HISTORY, times=100)
    with pytest.raises(MalformedAnswer):
        read_all(conn, cursor)


def test_one_unreadable_message_is_dead_lettered_with_its_page(bed: GmailTestbed) -> None:
    """A message resource whose fields have the wrong types (inside the batch answer) is
    listed as unreadable on its page; the other replies are read."""
    wanted = _replies(bed, 3)
    conn = bed.open()
    bad = sorted(wanted)[0]
    path = rf"/messages/{bad.removeprefix('gm:msg:')}$"
    bed.fake.malform(Malformed.WRONG_TYPE, key="labelIds", path=path)
    events, _, pages = read_all(conn)
    unreadable = [ref for page in pages for ref, _ in page.unreadable]
    assert unreadable == [bad]
    assert {e.event_id for e in events} == wanted - {bad}
