"""The learned second opinion: a linear model over character n-grams and words.

The phrase tables know the phrases they were written from; a reply in other words ("Brauche
ich nicht", "Cuéntame más") matches nothing. This model, trained by `training/train.py` on the
project's own labelled corpus (data/replies), reads spelling fragments instead of phrases, so
it generalises over typos, inflections and wording. It votes beside the rules: when the two
disagree, a person reads the reply.

The weights ship inside the package (`intent_model.json`): int8 per-intent weights for each
n-gram seen at least twice in training, a few hundred KB. Scoring is plain Python: fold the
text, cut it into 3- and 4-character n-grams and words, look each up, add up the per-intent
weights, softmax. The same `features` function is used at training time, so the two can
never drift apart.
"""

from __future__ import annotations

import base64
import json
import math
import re
from array import array
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from syncd.model import Intent
from syncd.replies.text import fold

MODEL_FILE = "intent_model.json"
MAX_CHARS = 2_000  # the opening of a long reply says what it is about
_SPACES = re.compile(r"[\W_]+")


def features(text: str) -> list[str]:
    """The features of a text: its 3- and 4-grams (words padded by spaces) and its words."""
    words = _SPACES.sub(" ", fold(text[:MAX_CHARS])).split()
    padded = f" {' '.join(words)} "
    grams = [padded[i : i + 3] for i in range(len(padded) - 2)]
    grams += [padded[i : i + 4] for i in range(len(padded) - 3)]
    grams += [f"w:{w}" for w in words]
    return grams


@dataclass(frozen=True, slots=True)
class IntentModel:
    """Per-intent weights of each feature the corpus used."""

    classes: tuple[Intent, ...]
    bias: tuple[float, ...]
    rows: dict[str, tuple[float, ...]]

    def probabilities(self, text: str) -> dict[Intent, float]:
        """The model's probability of each intent for the new text of a reply."""
        rows = self.rows
        found = [row for f in features(text) if (row := rows.get(f))]
        scores = [
            b + sum(col) for b, col in zip(self.bias, zip(*found, strict=False), strict=False)
        ]
        if not found:
            scores = list(self.bias)
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {intent: e / total for intent, e in zip(self.classes, exps, strict=True)}

    @classmethod
    def from_json(cls, raw: str) -> IntentModel:
        data = json.loads(raw)
        classes = tuple(Intent(c) for c in data["classes"])
        vocabulary = data["features"]
        weights = array("b")
        weights.frombytes(base64.b64decode(data["weights"]))
        scale = float(data["scale"])
        width = len(classes)
        if len(weights) != width * len(vocabulary):
            raise ValueError(f"{MODEL_FILE}: weights do not match the features")
        rows = {
            feature: tuple(w * scale for w in weights[i * width : (i + 1) * width])
            for i, feature in enumerate(vocabulary)
        }
        bias = tuple(float(b) for b in data["bias"])
        return cls(classes=classes, bias=bias, rows=rows)


@lru_cache(maxsize=1)
def shipped_model() -> IntentModel:
    """The model trained on the project's corpus, read once from the package."""
    raw = resources.files("syncd.replies").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    return IntentModel.from_json(raw)
