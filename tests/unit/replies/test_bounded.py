"""The reply path never crawls: bounded input, linear patterns, whatever the content.

The target is 50 ms per message on one core. The time measured is this thread's CPU time,
so other processes on a busy machine do not count against it; the assertions still allow
several times the target, and a quadratic pattern on these inputs takes seconds to minutes,
so the margin still catches one.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd.model import Intent
from syncd.replies import Classifier, ReplyMessage

BOUND_S = 0.5  # per message: ten times the target, far below what a quadratic pattern takes
CLASSIFIER = Classifier()
ATTRIBUTION = "On Wed, Oct 7, 2026 at 4:40 PM Sam Ortiz <sam@harborlight.example> wrote:\n"


def message(
    body: str, *, subject: str = "Re: Stock counts", html: str | None = None
) -> ReplyMessage:
    return ReplyMessage(
        id="m1",
        date=datetime(2026, 10, 8, 8, 15, tzinfo=UTC),
        sender="Alex <alex@prospect.example>",
        subject=subject,
        headers={},
        body=body,
        html=html,
    )


def timed(msg: ReplyMessage) -> float:
    start = time.thread_time()  # CPU time: a preempted test is not a slow classifier
    result = CLASSIFIER.classify(msg)
    elapsed = time.thread_time() - start
    assert result.intent in Intent
    return elapsed


PATHOLOGICAL = {
    "20,000 blank lines above a quote": "Thanks\n" + "\n" * 20_000 + ATTRIBUTION + "> hi\n",
    "20,000 blank CRLF lines": "\r\n" * 20_000,
    "100 KB of one letter": "a" * 100_000,
    "100 KB without a space around an @": "a" * 50_000 + "@" + "b" * 49_999,
    "100 KB of dotted labels": "x@y." * 25_000,
    "100 KB of quote markers": "> " * 50_000,
    "100 KB of opt-out words": "not interested please remove me " * 3_200,
    "100 KB of dates": "Am 14. September wieder im Büro. " * 3_000,
    "100 KB of punctuation": ".,;:!?-" * 14_300,
    "100 KB of attributions on one line": "On Wed, Oct 7, 2026 Sam wrote:" * 3_400,
    "100 KB of one line of words": "word " * 20_000,
}


@pytest.mark.parametrize("body", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_pathological_bodies_are_classified_quickly(body: str) -> None:
    """Huge or degenerate bodies are cut to the configured size and read in bounded time."""
    assert timed(message(body)) < BOUND_S


def test_a_cut_is_noted_in_the_evidence() -> None:
    """A reply longer than max_body_chars says in its evidence that only its opening was read."""
    result = CLASSIFIER.classify(message("Please remove me from your list. " + "x " * 60_000))
    assert result.intent is Intent.OPT_OUT
    assert any("only the opening" in e for e in result.evidence)


def test_a_long_line_is_still_read_whole_within_the_bound() -> None:
    """A 3,000-character line (wrapped before the quote finders) keeps its request at the end."""
    body = "We talked about many things. " * 100 + "Please remove me from your list."
    assert CLASSIFIER.classify(message(body)).intent is Intent.OPT_OUT


def test_a_huge_html_body_is_bounded() -> None:
    """An HTML-only body of 1 MB is read in bounded time (only its opening is parsed).

    HTML parsing costs more per character than plain text, hence the wider bound; reading
    the whole megabyte would take minutes.
    """
    html = "<html><body><div>" + "<p>no</p>" * 110_000 + "</div></body></html>"
    assert timed(message("", html=html)) < 4 * BOUND_S


pieces = st.sampled_from(
    [
        "not", "no", "remove", "me", "unsubscribe", "GDPR", "Am", "14.", "September", "wieder",
        "im Büro", "until", "10/19", "@", "a@b.example", ".", "\n", "\n\n", "> ", ">", "-----",
        "On Wed, Oct 7, 2026 Sam wrote:", "De :", "Von:", "Sent from my iPhone", "<p>", "é",
        "ß", "İ", "😀", "\t", "\r\n", "x" * 50, "1.", "Q2", "yes", "oui", "nichts", "plus",
    ]
)  # fmt: skip
bodies = st.one_of(
    st.text(max_size=3_000),
    st.lists(pieces, max_size=400).map(" ".join),
    st.tuples(pieces, st.integers(1, 3_000)).map(lambda p: p[0] * p[1]),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(body=bodies, subject=st.text(max_size=200))
def test_any_reply_is_classified_in_bounded_time(body: str, subject: str) -> None:
    """Whatever the body and subject, classification returns an intent, quickly."""
    assert timed(message(body, subject=subject)) < BOUND_S


def test_a_huge_subject_and_sender_are_bounded() -> None:
    """A 100 KB subject or sender line is read in bounded time too."""
    huge = message("No thanks.", subject="Re: " * 25_000 + "unsubscribe " * 1_000)
    assert timed(huge) < BOUND_S
    sender = ReplyMessage(
        id="m2",
        date=None,
        sender="a" * 100_000 + "@",
        subject="Re: x",
        headers={},
        body="No thanks.",
    )
    assert timed(sender) < BOUND_S
