"""Evidence weighed into per-intent scores, and how sure the verdict is.

Every cue adds its weight to the intent it speaks for, so a weak cue cannot overrule a strong
one: "Not at this time, we're not in the market" is a refusal with a vague time word (2.0
against 1.5), not a deferral; a bare "yes" at the start of a sentence weighs 0.5 ("Yes, I got
your e-mails. No, we're not interested."). A stated date adds to not_now, more when it is a
date than when it is vague. Ties fall back to the policy's order (referral, competitor,
refusal, deferral, interest, absence).

The confidence blends how clearly the rules decided (the top score's strength and its margin
over the runner-up) with the learned model's probability for the same intent. The review
reasons are stable ids the review route and the admin guide use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from syncd.model import Intent
from syncd.replies.lexicon import Cue
from syncd.replies.text import fold

# cue -> (intent it speaks for, weight)
CUE_WEIGHTS: dict[Cue, tuple[Intent, float]] = {
    Cue.REFERRAL: (Intent.REFERRAL, 3.0),
    Cue.COMPETITOR: (Intent.COMPETITOR, 2.5),
    Cue.COMPETITOR_NAMED: (Intent.COMPETITOR, 2.5),
    Cue.HOSTILE: (Intent.NOT_INTERESTED, 2.5),
    Cue.NOT_INTERESTED: (Intent.NOT_INTERESTED, 2.0),
    Cue.ABSENCE: (Intent.OUT_OF_OFFICE, 2.0),
    Cue.NOT_NOW: (Intent.NOT_NOW, 1.5),
    Cue.INTERESTED: (Intent.INTERESTED, 1.5),
    Cue.GATEKEEPER: (Intent.REFERRAL, 1.5),
}
WEAK_YES = 0.5  # "yes" / "oui" / "sure" alone: an answer to something, not interest
DATED_TIMING = 1.0  # "in March", "after 14 September"
LATER_INTEREST = 2.0  # "let's talk in March": interest, but later; outweighs the interest
VAGUE_TIMING = 0.5  # "next fiscal year"
RETURN_DATE = 1.0  # an absence with the day the person is back
REFERRED_ADDRESS = 1.0  # another person's address in the text
REPEAT = 0.5  # the second hit of the same cue counts half; further ones nothing
# policy order: breaks ties between equal scores
ORDER = (
    Intent.OPT_OUT,
    Intent.REFERRAL,
    Intent.COMPETITOR,
    Intent.NOT_INTERESTED,
    Intent.NOT_NOW,
    Intent.INTERESTED,
    Intent.OUT_OF_OFFICE,
    Intent.OTHER,
)
CONFLICT_SHARE = 0.8  # a runner-up this close to the winner: the cues conflict
# Intents that go together: "we went with X, not interested", "not me, ask jane@": no conflict.
COMPATIBLE = frozenset(
    {
        frozenset({Intent.COMPETITOR, Intent.NOT_INTERESTED}),
        frozenset({Intent.REFERRAL, Intent.NOT_INTERESTED}),
    }
)
_AFFIRMATIVES = frozenset(
    {
        *("yes", "yeah", "yep", "yup", "sure", "ok", "okay", "absolutely", "definitely"),
        *("certainly", "ja", "jawohl", "klar", "gerne", "oui", "bien", "sur", "si", "claro"),
        *("vale", "sim", "zeker", "prima", "certo", "graag"),
    }
)
_LETTERS = re.compile(r"[^\W\d_]+")


def weak_yes(quote: str) -> bool:
    """Whether an interest cue is nothing but an affirmative word or two."""
    words = _LETTERS.findall(fold(quote))  # "Já" is the Portuguese "already", folded "ja"
    return 0 < len(words) <= 2 and all(w in _AFFIRMATIVES for w in words)


@dataclass(slots=True)
class Tally:
    """Scores per intent and the quotes behind them."""

    scores: dict[Intent, float] = field(default_factory=dict)
    evidence: dict[Intent, list[str]] = field(default_factory=dict)

    def add(self, intent: Intent, weight: float, quote: str | None = None) -> None:
        self.scores[intent] = self.scores.get(intent, 0.0) + weight
        if quote:
            self.evidence.setdefault(intent, []).append(quote)

    def ranked(self) -> list[tuple[Intent, float]]:
        """Intents by score, ties in policy order; only those with a positive score."""
        return sorted(
            ((i, s) for i, s in self.scores.items() if s > 0),
            key=lambda pair: (-pair[1], ORDER.index(pair[0])),
        )

    def conflicting(self) -> bool:
        """The runner-up is nearly as strong as the winner."""
        ranked = self.ranked()
        if len(ranked) < 2 or frozenset({ranked[0][0], ranked[1][0]}) in COMPATIBLE:
            return False
        return ranked[1][1] >= CONFLICT_SHARE * ranked[0][1]


def rules_confidence(tally: Tally) -> float:
    """0..1: the winner's strength (1.5 is a full cue) scaled by its margin."""
    ranked = tally.ranked()
    if not ranked:
        return 0.0
    top = ranked[0][1]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    margin = (top - second) / top
    strength = min(1.0, top / 1.5)
    return strength * (0.5 + 0.5 * margin)


def blend(rules: float, model: float, model_share: float) -> float:
    """The confidence of a verdict: the rules' and the model's, weighted."""
    return round((1.0 - model_share) * rules + model_share * model, 3)
