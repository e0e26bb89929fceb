"""CoNLL NER files: reading, mapping corpus tags to PER/ORG/LOC, and entity-level scoring.

Format (as in ``../shared/data/ner``): one ``token<TAB>tag`` per line, a blank line between
sentences, BIO tags with the corpus's own type names. Chunking is IOB1-tolerant: an ``I-X``
that does not continue an ``X`` entity starts a new one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ENTITY_TYPES = ("PER", "ORG", "LOC")

# Corpus type names -> the three types Warta indexes. Anything else (NER-P's IND, EVT, FNB)
# is treated as "not an entity" rather than forced into PER/ORG/LOC.
TYPE_MAP: dict[str, str] = {
    "PER": "PER",
    "PERSON": "PER",
    "PPL": "PER",
    "ORG": "ORG",
    "ORGANISATION": "ORG",
    "ORGANIZATION": "ORG",
    "LOC": "LOC",
    "LOCATION": "LOC",
    "PLACE": "LOC",
    "PLC": "LOC",
}

Span = tuple[int, int, str]  # token start, token end (exclusive), type


@dataclass(frozen=True, slots=True)
class Sentence:
    tokens: list[str]
    tags: list[str]

    def spans(self) -> list[Span]:
        """Entity spans mapped to PER/ORG/LOC; unmapped types are dropped."""
        return [(start, end, TYPE_MAP[label]) for start, end, label in chunk(self.tags) if label in TYPE_MAP]


def read_conll(path: Path) -> list[Sentence]:
    """Read a ``token<TAB>tag`` file. Raises ValueError naming the line on a malformed row."""
    sentences: list[Sentence] = []
    tokens: list[str] = []
    tags: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for line_no, raw in enumerate(handle, start=1):
            line = raw.rstrip("\n").rstrip("\r")
            if not line.strip():
                if tokens:
                    sentences.append(Sentence(tokens, tags))
                    tokens, tags = [], []
                continue
            parts = line.split("\t")
            if len(parts) < 2 or not parts[0]:
                raise ValueError(f"{path}:{line_no}: expected 'token<TAB>tag', got {line!r}")
            tokens.append(parts[0])
            tags.append(parts[-1].strip())
    if tokens:
        sentences.append(Sentence(tokens, tags))
    return sentences


def chunk(tags: list[str]) -> list[Span]:
    """BIO tags -> spans with the original type names (IOB1-tolerant)."""
    spans: list[Span] = []
    start: int | None = None
    label = ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, kind = tag.partition("-")
        continues = prefix == "I" and start is not None and kind == label
        if start is not None and not continues:
            spans.append((start, i, label))
            start = None
        if prefix == "B" or (prefix == "I" and not continues):
            start, label = i, kind
    return spans


@dataclass(slots=True)
class Score:
    """Entity-level exact-match counts, micro-averaged over types."""

    tp: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ENTITY_TYPES, 0))
    fp: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ENTITY_TYPES, 0))
    fn: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ENTITY_TYPES, 0))

    def add(self, gold: Iterable[Span], predicted: Iterable[Span]) -> None:
        gold_set, pred_set = set(gold), set(predicted)
        for span in pred_set:
            (self.tp if span in gold_set else self.fp)[span[2]] += 1
        for span in gold_set - pred_set:
            self.fn[span[2]] += 1

    @staticmethod
    def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return p, r, f

    def report(self) -> dict[str, object]:
        p, r, f = self._prf(sum(self.tp.values()), sum(self.fp.values()), sum(self.fn.values()))
        per_type = {
            t: round(self._prf(self.tp[t], self.fp[t], self.fn[t])[2], 4)
            for t in ENTITY_TYPES
            if self.tp[t] + self.fn[t] + self.fp[t]
        }
        return {
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(f, 4),
            "per_type_f1": per_type,
            "gold_entities": sum(self.tp.values()) + sum(self.fn.values()),
        }
