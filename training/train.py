"""Train the reply intent model shipped in syncd/replies/intent_model.json.

    pip install -e ".[train]"       # scikit-learn: training only, syncd never imports it
    python -m training.corpus       # (re)generate data/replies/corpus.jsonl
    python -m training.train        # fit on the "train" split, write the package data

Reads only the "train" split: the held-out split and the shared development set are for
measuring. The text a reply is trained on is what the classifier reads at run time: the new
text extracted from the body (quoted pitch and signature removed), featurised by
`syncd.replies.learned.features`. Multinomial logistic regression over the features seen at
least twice; weights quantised to int8.
"""

from __future__ import annotations

import argparse
import base64
import json
from collections import Counter
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression

from syncd.model import Intent
from syncd.replies.extract import extract_new_text
from syncd.replies.learned import MODEL_FILE, features

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "replies" / "corpus.jsonl"
OUT = ROOT / "syncd" / "replies" / MODEL_FILE
MIN_COUNT = 2


def load(path: Path, split: str) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("split") != split:
            continue
        texts.append(extract_new_text(record.get("body", ""), record.get("html")))
        labels.append(record["label"])
    return texts, labels


def vocabulary(texts: list[str]) -> list[str]:
    counts = Counter(f for text in texts for f in set(features(text)))
    return sorted(f for f, n in counts.items() if n >= MIN_COUNT)


def matrix(texts: list[str], index: dict[str, int]) -> csr_matrix:
    rows, cols = [], []
    for i, text in enumerate(texts):
        for f in features(text):
            column = index.get(f)
            if column is not None:
                rows.append(i)
                cols.append(column)
    data = np.ones(len(rows), dtype=np.float64)
    m = csr_matrix((data, (rows, cols)), shape=(len(texts), len(index)))
    m.sum_duplicates()
    m.data = np.log1p(m.data)  # a repeated fragment counts, but less and less
    return m


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.train", description=__doc__)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--c", type=float, default=4.0, help="inverse regularisation")
    args = parser.parse_args(argv)
    texts, labels = load(args.corpus, "train")
    classes = [i.value for i in Intent]
    y = np.array([classes.index(label) for label in labels])
    model = LogisticRegression(C=args.c, max_iter=3000)
    names = vocabulary(texts)
    model.fit(matrix(texts, {f: i for i, f in enumerate(names)}), y)
    weights = model.coef_.T  # (features, classes)
    scale = float(np.abs(weights).max()) / 127.0
    quantised = np.round(weights / scale).astype(np.int8)
    payload = {
        "version": 1,
        "classes": [classes[i] for i in model.classes_],
        "bias": [round(float(b), 6) for b in model.intercept_],
        "scale": scale,
        "features": names,
        "weights": base64.b64encode(quantised.tobytes()).decode(),
        "trained_on": {"replies": len(texts), "split": "train", "corpus": "data/replies"},
    }
    args.out.write_text(json.dumps(payload) + "\n", encoding="utf-8")
    print(f"{len(texts)} replies, {len(names)} features, {args.out.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
