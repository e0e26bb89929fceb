"""Indonesian stemming that keeps words apart: build the override list, and measure it.

Lucene's Indonesian stemmer strips affixes by rule, without a dictionary, so it merges unrelated
words (masalah → masa, menteri → teri, perdana → dana) and splits related ones (bertemu → berte
but pertemuan → temu; memilih → ilih but pilih → pilih). Sastrawi (PyPI ``PySastrawi``, MIT) stems
with a dictionary of about 30,000 root words and leaves a word alone when no root fits.

``build`` writes ``pipeline/models/indonesian_stems.txt``: ``form => root`` for every word on
which the two disagree, over Sastrawi's root list, the Indonesian NER training corpora and the
IndoSum articles outside the measurement part. Warta's ``warta_indonesian`` analyzer applies it
(``stemmer_override``) before Lucene's stemmer, which handles the words not in the list.

``measure`` indexes the measurement part of IndoSum (articles whose id hashes to 0 mod 10, none of
whose words went into the list unless they also occur elsewhere) twice, with Elasticsearch's
``indonesian`` analyzer and with Warta's, picks a few hundred root words deterministically, and
for each compares the articles that contain a form of the word (by Sastrawi) with what a search
for the root returns (``body`` and ``body.id``, as ``warta search`` queries an Indonesian
article). It prints micro precision and recall, before and after, and the issue's named words.

    uv run --with PySastrawi python training/indonesian_stems.py build
    uv run --with PySastrawi python training/indonesian_stems.py measure [--roots 300]

Both need a node (``warta es start``; ``WARTA_ES_URL`` picks another).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.helpers import bulk
from Sastrawi.Stemmer.StemmerFactory import StemmerFactory  # type: ignore[import-untyped]

from pipeline.conll import read_conll
from pipeline.index import ANALYSIS, INDONESIAN_STEMS, connect
from pipeline.settings import INDOSUM_ARTICLES, SHARED_DATA, get_settings

WORD = re.compile(r"[^\W\d_]+")
NER_CORPORA = ["idner-news-2k", "indolem-nerui", "indonlu-nergrit", "indonlu-nerp"]
# Words the review of the old analysis named (merged or split by Lucene's rules).
NAMED = ["masa", "teri", "dana", "tama", "jara", "empu", "kera", "bata", "tega", "temu", "pilih", "kata"]


def measured(article_id: str) -> bool:
    """The measurement part: a tenth of IndoSum, fixed by a hash of the id."""
    return int(hashlib.sha1(article_id.encode()).hexdigest()[:8], 16) % 10 == 0


def indosum(part: bool) -> Iterator[dict[str, Any]]:
    with INDOSUM_ARTICLES.open(encoding="utf-8") as handle:
        for line in handle:
            article = json.loads(line)
            if measured(article["id"]) == part:
                yield article


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def lucene_stems(client: Elasticsearch, vocabulary: list[str]) -> dict[str, str]:
    """Each word through Elasticsearch's own ``indonesian`` analyzer (stop words come back absent)."""
    stems: dict[str, str] = {}
    for start in range(0, len(vocabulary), 5000):
        chunk = vocabulary[start : start + 5000]
        offsets, position = {}, 0
        for word in chunk:
            offsets[position] = word
            position += len(word) + 1
        for token in client.indices.analyze(analyzer="indonesian", text=" ".join(chunk))["tokens"]:
            word = offsets.get(token["start_offset"])
            if word is not None and token["end_offset"] - token["start_offset"] == len(word):
                stems[word] = token["token"]
    return stems


def vocabulary() -> set[str]:
    """Sastrawi's root words, the Indonesian NER corpora and IndoSum outside the measurement part."""
    found: set[str] = set(StemmerFactory().get_words_from_file())
    for corpus in NER_CORPORA:
        for path in sorted((SHARED_DATA / "ner" / corpus).glob("*.conll")):
            for sentence in read_conll(path):
                found.update(w for token in sentence.tokens for w in words(token))
    for article in indosum(part=False):
        found.update(words(article["text"]))
    return found


def build(client: Elasticsearch) -> None:
    stemmer = StemmerFactory().create_stemmer()
    vocabulary_ = vocabulary()
    lucene = lucene_stems(client, sorted(vocabulary_))
    rules = sorted(
        f"{word} => {root}" for word, stem in lucene.items() if (root := stemmer.stem(word)) and root != stem
    )
    INDONESIAN_STEMS.write_text("\n".join(rules) + "\n", encoding="utf-8")
    print(f"{len(vocabulary_)} words, {len(rules)} where Sastrawi and Lucene disagree -> {INDONESIAN_STEMS}")


def _index(
    client: Elasticsearch, name: str, analysis: dict[str, Any] | None, analyzer: str, docs: list[str]
) -> None:
    client.options(ignore_status=404).indices.delete(index=name)
    client.indices.create(
        index=name,
        settings={
            "number_of_shards": 1,
            "number_of_replicas": 0,
            **({"analysis": analysis} if analysis else {}),
        },
        mappings={
            "properties": {
                "body": {
                    "type": "text",
                    "analyzer": "standard",
                    "fields": {"id": {"type": "text", "analyzer": analyzer}},
                }
            }
        },
    )
    bulk(client, ({"_index": name, "_id": str(n), "body": text} for n, text in enumerate(docs)))
    client.indices.refresh(index=name)


def _hits(client: Elasticsearch, index: str, word: str) -> set[int]:
    query = {"simple_query_string": {"query": word, "fields": ["body", "body.id"], "default_operator": "and"}}
    found = client.search(index=index, query=query, size=10_000, source=False)
    return {int(hit["_id"]) for hit in found["hits"]["hits"]}


def measure(client: Elasticsearch, roots: int) -> None:
    stemmer = StemmerFactory().create_stemmer()
    docs = [article["text"] for article in indosum(part=True)]
    forms: dict[str, dict[int, set[str]]] = {}  # root -> article -> the forms it uses
    for number, text in enumerate(docs):
        for word in set(words(text)):
            forms.setdefault(stemmer.stem(word), {}).setdefault(number, set()).add(word)
    in_list = {line.split(" => ")[0] for line in INDONESIAN_STEMS.read_text(encoding="utf-8").splitlines()}
    stop = {w for w in forms if not client.indices.analyze(analyzer="indonesian", text=w)["tokens"]}
    # Roots with at least two forms in the part and in at least three articles, by hash order.
    candidates = sorted(
        (
            r
            for r, seen in forms.items()
            if r not in stop and len(seen) >= 3 and len(set().union(*seen.values())) >= 2
        ),
        key=lambda r: hashlib.sha1(r.encode()).hexdigest(),
    )
    chosen = candidates[:roots]
    _index(client, "warta-stems-before", None, "indonesian", docs)
    _index(client, "warta-stems-after", ANALYSIS, "warta_indonesian", docs)
    print(
        f"{len(docs)} articles (IndoSum, id hash 0 mod 10); "
        f"{len(chosen)} roots of {len(candidates)} candidates"
    )
    for label, index in (("before", "warta-stems-before"), ("after", "warta-stems-after")):
        totals: Counter[str] = Counter()
        for root in chosen:
            relevant, found = set(forms[root]), _hits(client, index, root)
            totals.update(tp=len(relevant & found), found=len(found), relevant=len(relevant))
        precision, recall = totals["tp"] / max(totals["found"], 1), totals["tp"] / max(totals["relevant"], 1)
        print(
            f"{label:6} ({index}): precision {precision:.3f}, recall {recall:.3f} "
            f"(tp {totals['tp']}, returned {totals['found']}, relevant {totals['relevant']})"
        )
    forms_seen = {w for seen in forms.values() for used in seen.values() for w in used}
    unseen = forms_seen - vocabulary()
    print(
        f"words of the part: {len(forms_seen)}; in the override list {len(forms_seen & in_list)}; "
        f"in none of the list's sources (left to Lucene's rules) {len(unseen)}"
    )
    print("named words (relevant / returned before / returned after / right after):")
    for word in NAMED:
        relevant = set(forms.get(word, {}))
        before, after = _hits(client, "warta-stems-before", word), _hits(client, "warta-stems-after", word)
        print(f"  {word:6} {len(relevant):4} {len(before):4} {len(after):4} {len(after & relevant):4}")
    for index in ("warta-stems-before", "warta-stems-after"):
        client.indices.delete(index=index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["build", "measure"])
    parser.add_argument("--roots", type=int, default=300)
    args = parser.parse_args()
    client = connect(get_settings())
    if args.command == "build":
        build(client)
    else:
        measure(client, args.roots)


if __name__ == "__main__":
    main()
