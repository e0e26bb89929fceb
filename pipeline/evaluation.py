"""Measurements of the pipeline's own stages on gold data (``warta eval ...``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pipeline.conll import Score, read_conll
from pipeline.enrich import LABELS, entity_spans, load_model


def evaluate_ner(conll_path: Path, model_path: Path, types: frozenset[str] = LABELS) -> dict[str, Any]:
    """Entity-level exact-match P/R/F1 on gold tokens (not re-tokenised), over ``types``
    (default PER/ORG/LOC; NER-P has no organisations, so it is scored on PER/LOC)."""
    from spacy.tokens import Doc

    nlp = load_model(model_path)
    sentences = read_conll(conll_path)
    score = Score()
    tokens = 0
    started = time.perf_counter()
    docs = (Doc(nlp.vocab, words=s.tokens) for s in sentences)
    for sentence, doc in zip(sentences, nlp.pipe(docs, batch_size=256), strict=True):
        predicted = [span for span in entity_spans(doc) if span[2] in types]
        score.add([span for span in sentence.spans() if span[2] in types], predicted)
        tokens += len(sentence.tokens)
    elapsed = time.perf_counter() - started
    return {
        "file": str(conll_path),
        "types": sorted(types),
        **score.report(),
        "sentences": len(sentences),
        "tokens": tokens,
        "tokens_per_second": round(tokens / elapsed) if elapsed else None,
    }
