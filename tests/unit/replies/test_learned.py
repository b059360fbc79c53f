"""The shipped intent model and the labelled corpus it was trained on."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from syncd.model import Intent
from syncd.replies.learned import MODEL_FILE, IntentModel, features, shipped_model

CORPUS = Path(__file__).resolve().parents[3] / "data" / "replies" / "corpus.jsonl"


def corpus() -> list[dict[str, object]]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]


def test_the_model_ships_inside_the_package_and_is_small() -> None:
    """No download at run time: the weights are package data, well under a few MB."""
    data = resources.files("syncd.replies").joinpath(MODEL_FILE).read_bytes()
    assert len(data) < 2_000_000
    model = shipped_model()
    assert set(model.classes) == set(Intent)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Please remove me from your list.", Intent.OPT_OUT),
        ("Kein Interesse, danke.", Intent.NOT_INTERESTED),
        ("Je suis absent jusqu'au 3 mars.", Intent.OUT_OF_OFFICE),
        ("Me interesa, ¿me puede enviar más información?", Intent.INTERESTED),
    ],
)
def test_the_model_reads_clear_replies(text: str, intent: Intent) -> None:
    """On plain replies in each language the model's most likely intent is the right one."""
    probabilities = shipped_model().probabilities(text)
    assert max(probabilities, key=probabilities.__getitem__) is intent
    assert sum(probabilities.values()) == pytest.approx(1.0)


def test_features_ignore_case_accents_and_spacing() -> None:
    """The model sees the same features for "ÉTÉ  Prochain" and "ete prochain"."""
    assert features("ÉTÉ  Prochain!") == features("ete prochain")


def test_a_model_file_that_does_not_fit_is_refused() -> None:
    """Weights that do not match the feature list are an error, not a silent misreading."""
    raw = json.dumps(
        {"classes": ["other"], "bias": [0.0], "scale": 1.0, "features": ["abc"], "weights": ""}
    )
    with pytest.raises(ValueError, match="do not match"):
        IntentModel.from_json(raw)


def test_the_corpus_is_large_varied_and_split() -> None:
    """At least 1,000 replies, four languages at least, every intent, and a held-out split."""
    records = corpus()
    assert len(records) >= 1_000
    assert {r["language"] for r in records} >= {"en", "de", "fr", "es"}
    assert {r["label"] for r in records} == {i.value for i in Intent}
    splits = Counter(r["split"] for r in records)
    assert splits["heldout"] >= 150 and splits["train"] >= 800
    assert sum(1 for r in records if str(r["id"]).startswith("h")) >= 50  # hand-written
    assert sum(1 for r in records if r.get("return_date")) >= 100


def test_held_out_phrases_never_appear_in_training_replies() -> None:
    """The held-out split is made of phrases no training reply was built from."""
    records = corpus()

    def phrase(record: dict[str, object]) -> str:
        return str(record["id"]).rsplit("-", 1)[0]

    generated = [r for r in records if str(r["id"]).startswith("g-")]
    held = {phrase(r) for r in generated if r["split"] == "heldout"}
    trained = {phrase(r) for r in generated if r["split"] == "train"}
    assert held and not held & trained
