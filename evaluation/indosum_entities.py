"""Tag all IndoSum articles the way the enrich step does and compare two runs' entities
(run from the project root, needs ../shared):

    uv run python evaluation/indosum_entities.py OUT.jsonl [--compare BEFORE.jsonl] [--top N]

Writes one JSON line per article: its id and its entities as [text, type, canonical name,
field]. With ``--compare``, prints what changed between BEFORE and OUT: the articles and mentions
that differ, the most frequent changes (a mention whose text, type or canonical name changed),
and each type's facet (canonical names by number of articles, as a Kibana terms aggregation
counts them) where it moved. This is how the entity rules and canonical names of the model card
were read off "the facets of all IndoSum articles": tag with the old code, change it, tag again,
compare, and read every distinct change.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from pipeline.enrich import tag_articles
from pipeline.settings import PROJECT_ROOT, get_settings

sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))
from ner_throughput import load_articles  # benchmarks/ is not a package

Mention = tuple[str, str, str, str]  # text, type, canonical name, field


def tag_indosum(out: Path) -> None:
    with out.open("w", encoding="utf-8") as handle:
        for tagged in tag_articles(load_articles(10**6), get_settings().ner_model):
            entities = [[e.text, e.label, e.canonical, e.field] for e in tagged.entities]
            handle.write(json.dumps({"id": tagged.id, "entities": entities}, ensure_ascii=False) + "\n")


def read(path: Path) -> dict[str, list[Mention]]:
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    return {row["id"]: [tuple(entity) for entity in row["entities"]] for row in rows}


def compare(before: dict[str, list[Mention]], after: dict[str, list[Mention]], top: int) -> None:
    removed: Counter[Mention] = Counter()
    added: Counter[Mention] = Counter()
    articles = 0
    for key in before.keys() & after.keys():
        old, new = Counter(before[key]), Counter(after[key])
        if old != new:
            articles += 1
            removed.update(old - new)
            added.update(new - old)
    print(f"articles changed: {articles}; mentions gone: {sum(removed.values())}, new: {sum(added.values())}")
    for title, counts in (("gone", removed), ("new", added)):
        print(f"\nmost frequent {title} (text | type | canonical | field):")
        for (text, label, canonical, field), n in counts.most_common(top):
            print(f"  {n:5d}  {text!r} | {label} | {canonical} | {field}")
    for label in ("PER", "ORG", "LOC"):
        facet_before, facet_after = _facet(before, label), _facet(after, label)
        moved = {
            name
            for name in facet_before.keys() | facet_after.keys()
            if facet_before[name] != facet_after[name]
        }
        ranked = sorted(moved, key=lambda name: -abs(facet_after[name] - facet_before[name]))[:top]
        print(f"\n{label} facet, articles before -> after:")
        for name in ranked:
            print(f"  {name}: {facet_before[name]} -> {facet_after[name]}")


def _facet(run: dict[str, list[Mention]], label: str) -> Counter[str]:
    return Counter(name for mentions in run.values() for name in {m[2] for m in mentions if m[1] == label})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="JSONL file to write the entities of this code to")
    parser.add_argument("--compare", type=Path, help="an earlier OUT to compare with")
    parser.add_argument("--top", type=int, default=40, help="how many changes to list per kind")
    args = parser.parse_args()
    tag_indosum(args.out)
    if args.compare:
        compare(read(args.compare), read(args.out), args.top)


if __name__ == "__main__":
    main()
