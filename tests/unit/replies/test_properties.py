"""Properties that hold for any reply text, checked on generated mixtures of cue words."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.model import Intent
from syncd.replies import classify
from tests.unit.replies.conftest import reply

WORDS = [
    "not", "no", "please", "remove", "me", "from", "your", "list", "stop", "calling",
    "unsubscribe", "interested", "in", "March", "next", "quarter", "we", "went", "with",
    "Acme", "don't", "call", "again", "Grüße", "ß", "Désabonnez-moi", "bitte", "nicht",
    "mehr", "anrufen", "baja", "denme", "de", "jamás", "never", "thanks", "’", "…", "\n",
    ",", ".", "!", "?", "contact", "jane@prospect.example", "until", "10/19", "Ça",
    "m'intéresse", "pas", "ﬁne", "İstanbul", "😀",
]  # fmt: skip

texts = st.lists(st.sampled_from(WORDS), max_size=25).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_evidence_is_quoted_from_the_reply_and_channels_match_intent(text: str) -> None:
    """Evidence is always the prospect's own words, and only an opt-out carries channels."""
    result = classify(reply(text))
    for phrase in result.evidence:
        assert phrase in result.text
    assert bool(result.channels) == (result.intent is Intent.OPT_OUT)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_classified_without_error(text: str) -> None:
    """Arbitrary text (any script, control characters, no quote) never breaks classification."""
    result = classify(reply(text, quoted=False))
    assert result.intent in Intent
