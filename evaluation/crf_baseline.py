"""A second model family for comparison: a linear-chain CRF on hand-made features (needs ../shared).

    uv run --with python-crfsuite --with scikit-learn \\
        python evaluation/crf_baseline.py [--only CORPUS,...] [--combine]

Trains on the same training parts as `warta train ner` (no mention replacement), or on the named
corpora only, and prints one JSON line per dev part: the CRF's own spans, no Warta rules; with
`--combine` also the F1 of the committed model's own spans (`doc.ents`), of Warta's (model and
rules), of their union with the CRF's non-overlapping spans, and of the spans both find. Features:
the word, its shape, prefixes and suffixes, casing, the words two either side, and k-means clusters
(64/256/1024) of the committed model's floret vectors. Not part of the pipeline: the model card
reports what it scores and why it is not used.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import pycrfsuite  # type: ignore[import-not-found]
from sklearn.cluster import MiniBatchKMeans  # type: ignore[import-not-found]
from spacy.tokens import Doc
from spacy.vocab import Vocab

from pipeline.conll import Score, Sentence, chunk
from pipeline.enrich import entity_spans, load_model
from pipeline.settings import NER_CORPORA, get_settings
from pipeline.train_ner import split_corpora

CLUSTER_SIZES = (64, 256, 1024)


def word_clusters(words: list[str], vocab: Vocab) -> dict[str, list[str]]:
    """Word -> its k-means cluster at each size: a CRF takes discrete features, so the floret
    vectors enter as cluster ids (as Brown clusters do in classic NER feature sets)."""
    matrix = np.array([vocab.get_vector(word) for word in words])
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True) + 1e-9
    clusters: dict[str, list[str]] = {word: [] for word in words}
    for k in CLUSTER_SIZES:
        labels = MiniBatchKMeans(k, random_state=0, n_init=3, batch_size=4096).fit(matrix).labels_
        for word, label in zip(words, labels, strict=True):
            clusters[word].append(f"{k}:{label}")
    return clusters


def shape(token: str) -> str:
    folded = re.sub("[0-9]", "d", re.sub("[a-z]", "x", re.sub("[A-Z]", "X", token)))
    return re.sub(r"(.)\1+", r"\1\1", folded)


def features(tokens: list[str], clusters: dict[str, list[str]]) -> list[list[str]]:
    lower = [token.lower() for token in tokens]
    shapes = [shape(token) for token in tokens]
    rows = []
    for i, token in enumerate(tokens):
        word = lower[i]
        row = [f"w={word}", f"sh={shapes[i]}", f"title={token.istitle()}", f"upper={token.isupper()}"]
        row += [f"p2={word[:2]}", f"p3={word[:3]}", f"s2={word[-2:]}", f"s3={word[-3:]}"]
        row += [f"c{c}" for c in clusters.get(word, [])]
        for d in (-2, -1, 1, 2):
            j = i + d
            if 0 <= j < len(tokens):
                row += [f"{d}w={lower[j]}", f"{d}sh={shapes[j]}", f"{d}title={tokens[j].istitle()}"]
                row += [f"{d}c{c}" for c in clusters.get(lower[j], [])[:2]]
            else:
                row.append(f"{d}pad")
        rows.append(row)
    return rows


def bio(sentence: Sentence) -> list[str]:
    tags = ["O"] * len(sentence.tokens)
    for start, end, label in sentence.spans():
        tags[start:end] = [f"B-{label}"] + [f"I-{label}"] * (end - start - 1)
    return tags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="train on these corpora only (comma-separated)")
    parser.add_argument(
        "--combine",
        action="store_true",
        help="also score the CRF's spans combined with Warta's (model + rules)",
    )
    args = parser.parse_args()
    splits = split_corpora(NER_CORPORA)
    train = [
        s
        for name, parts in splits.items()
        if not args.only or name in args.only.split(",")
        for s in parts["train"]
    ]
    words = sorted(
        {t.lower() for parts in splits.values() for part in parts.values() for s in part for t in s.tokens}
    )
    nlp = load_model(get_settings().ner_model)  # its vectors make the clusters; --combine tags with it
    clusters = word_clusters(words, nlp.vocab)
    trainer = pycrfsuite.Trainer(verbose=False)
    for sentence in train:
        trainer.append(features(sentence.tokens, clusters), bio(sentence))
    trainer.set_params({"c1": 0.05, "c2": 0.05, "max_iterations": 200, "feature.possible_transitions": True})
    with tempfile.TemporaryDirectory() as work:
        started = time.perf_counter()
        trainer.train(str(Path(work) / "crf.model"))
        seconds = round(time.perf_counter() - started)
        tagger = pycrfsuite.Tagger()
        tagger.open(str(Path(work) / "crf.model"))
        for name, parts in splits.items():
            types = {"PER", "LOC"} if name == "indonlu-nerp" else {"PER", "ORG", "LOC"}
            language = "en" if name == "uner-en-ewt" else "id"
            scores = {kind: Score() for kind in ("crf", "model", "warta", "union", "agreed")}
            for sentence in parts["dev"]:
                gold = [s for s in sentence.spans() if s[2] in types]
                crf = [s for s in chunk(tagger.tag(features(sentence.tokens, clusters))) if s[2] in types]
                scores["crf"].add(gold, crf)
                if args.combine:
                    doc = nlp(Doc(nlp.vocab, words=sentence.tokens))
                    warta = [s for s in entity_spans(doc, language) if s[2] in types]
                    scores["model"].add(
                        gold, [(e.start, e.end, e.label_) for e in doc.ents if e.label_ in types]
                    )
                    scores["warta"].add(gold, warta)
                    # The union adds the CRF's spans that overlap none of Warta's.
                    alone = [c for c in crf if not any(w[0] < c[1] and c[0] < w[1] for w in warta)]
                    scores["union"].add(gold, warta + alone)
                    scores["agreed"].add(gold, [w for w in warta if w in crf])
            line = {"dev": name, "trained_on": args.only or "all", "train_seconds": seconds}
            line |= scores["crf"].report()
            if args.combine:
                line |= {
                    f"{kind}_f1": scores[kind].report()["f1"]
                    for kind in ("model", "warta", "union", "agreed")
                }
            print(json.dumps(line))


if __name__ == "__main__":
    main()
