"""Near-duplicate threshold: how similar are republished copies, and how similar are different stories?

    uv run python benchmarks/near_duplicates.py [--copies 500]

Negatives: all 3,463 IndoSum articles (real Indonesian news from several outlets, many on the
same topics and days). Every pair whose 5-word-shingle Jaccard similarity could reach 0.15 is
found with MinHash LSH at a low threshold and scored exactly.
Positives: republications made from real articles with the edits outlets make to wire copy
(dateline and credit added, lead sentence rewritten away, tail trimmed, words changed), each
scored exactly against its original.
Then the pipeline's own decision (a shared LSH band key, and ``dedup.Sketch.similarity >=
STORY_THRESHOLD``) is scored on both sets. Results: ``benchmarks/near_duplicates.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Callable
from pathlib import Path

from datasketch import MinHash, MinHashLSH

from pipeline.dedup import STORY_THRESHOLD, Sketch, shingles
from pipeline.settings import INDOSUM_ARTICLES

INDOSUM = INDOSUM_ARTICLES
OUT = Path(__file__).with_name("near_duplicates.json")
SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _j(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def _dateline(text: str, rng: random.Random) -> str:
    outlet = rng.choice(["KOMPAS.com", "ANTARA", "Tempo.co", "Liputan6.com", "detikcom"])
    return (
        f"JAKARTA, {outlet} - {text}\n\nBaca juga: Berita terkait lainnya hari ini.\n({outlet.lower()}/red)"
    )


def _drop_lead(text: str, _rng: random.Random) -> str:
    sentences = SENTENCE.split(text)
    return " ".join(sentences[1:]) if len(sentences) > 3 else text


def _trim_tail(text: str, _rng: random.Random) -> str:
    sentences = SENTENCE.split(text)
    return " ".join(sentences[: max(3, int(len(sentences) * 0.7))])


def _edit_words(text: str, rng: random.Random, share: float = 0.05) -> str:
    words = text.split(" ")
    for i in rng.sample(range(len(words)), k=int(len(words) * share)):
        words[i] = rng.choice(["tersebut", "itu", "pun", "juga", "kini", "lalu"])
    return " ".join(words)


def _wire_rewrite(text: str, rng: random.Random) -> str:
    return _dateline(_edit_words(_trim_tail(_drop_lead(text, rng), rng), rng), rng)


EDITS: dict[str, Callable[[str, random.Random], str]] = {
    "dateline + credit": _dateline,
    "lead sentence dropped": _drop_lead,
    "last 30% trimmed": _trim_tail,
    "5% of words changed": _edit_words,
    "all of the above": _wire_rewrite,
}


def _same_story(a: Sketch, b: Sketch) -> bool:
    """The pipeline's decision: found through a shared band, then similar enough."""
    return bool(set(a.bands()) & set(b.bands())) and a.similarity(b) >= STORY_THRESHOLD


def _quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))], 3)  # noqa: E731
    return {"min": pick(0), "p5": pick(0.05), "median": pick(0.5), "max": pick(1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=500)
    args = parser.parse_args()
    texts = [json.loads(line)["text"] for line in INDOSUM.open(encoding="utf-8")]
    sets = [shingles(t) for t in texts]

    lsh = MinHashLSH(threshold=0.15, num_perm=128)
    sketches = []
    for number, shingle_set in enumerate(sets):
        m = MinHash(num_perm=128)
        m.update_batch([s.encode() for s in shingle_set])
        sketches.append(m)
        lsh.insert(number, m)
    pairs = {(min(i, j), max(i, j)) for i, m in enumerate(sketches) for j in lsh.query(m) if i != j}
    negatives = sorted((_j(sets[i], sets[j]), i, j) for i, j in pairs)
    pipeline_sketches = [Sketch.of(t) for t in texts]
    false_positives = sum(
        1
        for _s, i, j in negatives
        if pipeline_sketches[i].similarity(pipeline_sketches[j]) >= STORY_THRESHOLD
    )

    rng = random.Random(13)
    chosen = rng.sample(range(len(texts)), args.copies)
    positives: dict[str, dict[str, object]] = {}
    for label, edit in EDITS.items():
        scores, detected = [], 0
        for i in chosen:
            copy = edit(texts[i], rng)
            scores.append(_j(sets[i], shingles(copy)))
            detected += _same_story(pipeline_sketches[i], Sketch.of(copy))
        positives[label] = {
            "jaccard": _quantiles(scores),
            "detected_at_threshold": round(detected / len(chosen), 3),
        }

    results = {
        "threshold": STORY_THRESHOLD,
        "negatives": {
            "articles": len(texts),
            "candidate_pairs_scored": len(negatives),
            "max_jaccard_between_different_articles": round(negatives[-1][0], 3) if negatives else 0.0,
            "pairs_at_or_above_0.3": sum(1 for s, _i, _j2 in negatives if s >= 0.3),
            "false_story_merges_at_threshold": false_positives,
        },
        "republished_copies": positives,
    }
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
