"""Search relevance basics on a few hundred real articles (IndoSum + Zyte benchmark pages),
ingested once through the real pipeline into the real node."""

from __future__ import annotations

import gzip
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from pipeline import index
from pipeline.run import run_all
from pipeline.search import SearchFilters, search
from pipeline.settings import INDOSUM_ARTICLES, SHARED_DATA, get_settings

INDOSUM_SAMPLE = 300  # IndoSum articles indexed beside the seeds


def _title(url: str) -> str:
    slug = url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    return " ".join(w.capitalize() for w in slug.replace("-", " ").split() if not w.isdigit())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, es_node: str) -> Iterator[tuple[str, dict[str, str]]]:
    """(index name, {url: title + body}) for 300 IndoSum articles and the 60 Zyte dev pages."""
    folder = tmp_path_factory.mktemp("relevance")
    texts: dict[str, str] = {}
    with (
        INDOSUM_ARTICLES.open(encoding="utf-8") as src,
        (folder / "indosum.jsonl").open("w", encoding="utf-8") as out,
    ):
        for line in list(src)[:INDOSUM_SAMPLE]:
            record = json.loads(line)
            title = _title(record["url"])
            out.write(
                json.dumps({"url": record["url"], "title": title, "text": record["text"], "language": "id"})
                + "\n"
            )
            texts[record["url"]] = f"{title}\n{record['text']}"
    zyte = SHARED_DATA / "extraction/zyte-dev"
    truth = json.loads((zyte / "ground_truth.json").read_text())
    with (folder / "zyte.jsonl").open("w", encoding="utf-8") as out:
        for page_id, gold in truth.items():
            html = gzip.decompress((zyte / "html" / f"{page_id}.html.gz").read_bytes()).decode(
                "utf-8", "replace"
            )
            out.write(json.dumps({"url": gold["url"], "html": html}) + "\n")
            texts[gold["url"]] = gold["articleBody"]
    name = f"warta-test-rel-{uuid.uuid4().hex[:8]}"
    report = run_all([folder], folder / "run", get_settings(), index_name=name)
    assert report["reconciled"] and report["indexed"] >= 330
    yield name, texts
    client = index.connect(get_settings())
    index.drop(client, name)
    client.close()


def _urls(es: Elasticsearch, name: str, query: str, **kwargs: Any) -> list[str]:
    result = search(es, name, query, size=500, **kwargs)
    return [h.url or "" for h in result.hits]


def _having(texts: dict[str, str], pattern: str) -> set[str]:
    regex = re.compile(pattern, re.IGNORECASE)
    return {url for url, text in texts.items() if regex.search(text)}


def _indexed(es: Elasticsearch, name: str) -> set[str]:
    hits = es.search(index=name, size=1000, source_includes=["url"])["hits"]["hits"]
    return {h["_source"]["url"] for h in hits}


@pytest.mark.parametrize(
    ("query", "inflected", "language"),
    [
        ("membangun", r"\bpembangunan\b", "id"),  # mem-bangun / pem-bangun-an
        ("dibicarakan", r"\bpembicaraan\b", "id"),
        ("company", r"\bcompanies\b", "en"),
    ],
)
def test_inflected_forms_match(
    corpus: tuple[str, dict[str, str]], es_client: Elasticsearch, query: str, inflected: str, language: str
) -> None:
    name, texts = corpus
    indexed = _indexed(es_client, name)
    only_inflected = (_having(texts, inflected) - _having(texts, rf"\b{query}\b")) & indexed
    assert only_inflected, f"the corpus has no article with only the inflected form of {query!r}"
    found = set(_urls(es_client, name, query))
    assert only_inflected <= found


def test_a_phrase_beats_the_same_words_scattered(
    corpus: tuple[str, dict[str, str]], es_client: Elasticsearch
) -> None:
    name, texts = corpus
    indexed = _indexed(es_client, name)
    phrase = _having(texts, r"\bbank indonesia\b") & indexed
    scattered = (_having(texts, r"\bbank\b") & _having(texts, r"\bindonesia\b") & indexed) - phrase
    assert len(phrase) >= 3 and len(scattered) >= 3
    # Quoted: the phrase only.
    quoted = set(_urls(es_client, name, '"bank indonesia"'))
    assert phrase <= quoted and not quoted & scattered
    # Plain words: all of them match, and the phrase counts (the boost on adjacent words).
    ranked = _urls(es_client, name, "bank indonesia")
    assert set(ranked) >= phrase | scattered
    position = {url: rank for rank, url in enumerate(ranked)}
    # Every article with the words together ranks above every article with them apart. (Stemmed
    # phrases count too: "perbankan Indonesia" is the phrase "bank indonesia" in Indonesian.)
    assert max(position[u] for u in phrase) < min(position[u] for u in scattered)


@pytest.mark.es_api
def test_entity_filter_and_facets_agree(corpus: tuple[str, dict[str, str]], es_client: Elasticsearch) -> None:
    name, _texts = corpus
    overview = search(es_client, name, "", size=0, facets=10)
    assert sum(n for _v, n in overview.facets["languages"]) == overview.total
    assert {v for v, _n in overview.facets["languages"]} >= {"id", "en"}
    person, count = overview.facets["persons"][0]
    filtered = search(es_client, name, "", SearchFilters(persons=(person,)), size=500)
    assert filtered.total == count and len(filtered.hits) == count
    assert all(person in hit.persons for hit in filtered.hits)
    place, _n = overview.facets["locations"][0]
    both = search(es_client, name, "", SearchFilters(persons=(person,), locations=(place,)), size=500)
    assert all(person in h.persons and place in h.locations for h in both.hits)
    assert both.total <= count


def test_one_hit_per_story(corpus: tuple[str, dict[str, str]], es_client: Elasticsearch) -> None:
    name, _texts = corpus
    result = search(es_client, name, "jakarta", size=500, one_per_story=True)
    assert result.stories is not None and len(result.hits) == result.stories
    ids = es_client.search(
        index=name,
        size=500,
        query={"ids": {"values": [h.id for h in result.hits]}},
        source_includes=["story_id"],
    )["hits"]["hits"]
    stories = [h["_source"]["story_id"] for h in ids]
    assert len(stories) == len(set(stories))


@pytest.mark.parametrize(
    "phrase", ["kepala daerah", "pemerintah daerah", "media sosial", "tenaga kerja", "bank indonesia"]
)
def test_the_exact_phrase_ranks_first(
    corpus: tuple[str, dict[str, str]], es_client: Elasticsearch, phrase: str
) -> None:
    name, texts = corpus
    indexed = _indexed(es_client, name)
    first, second = phrase.split()
    together = _having(texts, rf"\b{first} {second}\b") & indexed
    apart = (_having(texts, rf"\b{first}\b") & _having(texts, rf"\b{second}\b") & indexed) - together
    assert together and apart
    position = {url: rank for rank, url in enumerate(_urls(es_client, name, phrase))}
    assert max(position[u] for u in together) < min(position[u] for u in apart)


@pytest.mark.es_api
def test_and_or_not_as_people_type_them(corpus: tuple[str, dict[str, str]], es_client: Elasticsearch) -> None:
    name, _texts = corpus

    def found(query: str) -> set[str]:
        return set(_urls(es_client, name, query))

    assert found("Jokowi AND Prabowo") == found("Jokowi Prabowo")
    assert found("Jokowi OR Prabowo") == found("Jokowi | Prabowo") == found("Jokowi") | found("Prabowo")
    assert found("Jokowi NOT Prabowo") == found("Jokowi") - found("Prabowo")
    assert found("Jokowi") - found("Prabowo")  # NOT leaves something to find
    assert found('"Jokowi AND Prabowo"') == found('"Jokowi and Prabowo"')  # inside quotes: words


def test_filters_match_what_people_type(corpus: tuple[str, dict[str, str]], es_client: Elasticsearch) -> None:
    name, _texts = corpus

    def ids(filters: SearchFilters) -> set[str]:
        return {h.id for h in search(es_client, name, "", filters, size=500).hits}

    jakarta = ids(SearchFilters(locations=("Jakarta",)))
    assert jakarta and ids(SearchFilters(locations=("jakarta",))) == jakarta
    english = ids(SearchFilters(language="en"))
    assert english and ids(SearchFilters(language="EN")) == english
    widodo = ids(SearchFilters(persons=("Joko Widodo",)))
    assert widodo and ids(SearchFilters(persons=("jokowi",))) == widodo  # the nickname
    russia = ids(SearchFilters(locations=("Russia",)))
    assert ids(SearchFilters(locations=("Rusia",))) == russia  # the gazetteer's canonical name
    missed = search(es_client, name, "", SearchFilters(locations=("Jakrta",)), size=5)
    assert missed.total == 0
    ((es_field, value, nearest),) = missed.unmatched
    assert (es_field, value) == ("locations", "Jakrta") and "Jakarta" in nearest


@pytest.mark.es_api
def test_paging_reaches_every_match_once(
    corpus: tuple[str, dict[str, str]], es_client: Elasticsearch
) -> None:
    name, _texts = corpus
    first = search(es_client, name, "", size=40, page=True)
    seen = [h.id for h in first.hits]
    cursor = first.next
    pages = 1
    while cursor:
        result = search(es_client, name, "", size=40, after=cursor)
        seen.extend(h.id for h in result.hits)
        cursor, pages = result.next, pages + 1
    assert pages >= 9 and len(seen) == len(set(seen)) == first.total
    with pytest.raises(ValueError, match="not available with one article per story"):
        search(es_client, name, "", size=10, page=True, one_per_story=True)
    with pytest.raises(ValueError, match="not a cursor"):
        search(es_client, name, "", size=10, after="garbage")


@pytest.mark.parametrize(("query", "other_word"), [("kera", r"\bkeras\b"), ("tega", r"\btegas\b")])
def test_each_article_is_searched_in_its_own_language_only(
    corpus: tuple[str, dict[str, str]], es_client: Elasticsearch, query: str, other_word: str
) -> None:
    """The English stemmer on Indonesian text made "keras" (hard) into "kera" (monkey)."""
    name, texts = corpus
    indexed = _indexed(es_client, name)
    unrelated = (_having(texts, other_word) - _having(texts, rf"\b{query}\b")) & indexed
    assert unrelated, f"the corpus has no article with {other_word} and without {query!r}"
    assert not set(_urls(es_client, name, query)) & unrelated


@pytest.mark.parametrize(
    ("query", "other_word"), [("masa", r"\bmasalah"), ("teri", r"\bmenteri"), ("dana", r"\bperdana")]
)
@pytest.mark.es_api
def test_the_indonesian_stemmer_keeps_unrelated_words_apart(
    corpus: tuple[str, dict[str, str]], es_client: Elasticsearch, query: str, other_word: str
) -> None:
    """Lucene's rules alone read masalah as masa + -lah, menteri as men- + teri, perdana as per- + dana."""
    name, texts = corpus
    indexed = _indexed(es_client, name)
    # Articles where the query's letters occur only inside the other word (none say "semasa").
    unrelated = {
        url
        for url in _having(texts, other_word) & indexed
        if query not in re.sub(other_word + r"\w*", "", texts[url], flags=re.IGNORECASE).lower()
    }
    assert unrelated, f"the corpus has no article with {other_word} and without {query!r}"
    assert not set(_urls(es_client, name, query)) & unrelated


@pytest.mark.parametrize(
    ("query", "forms"),
    [("bertemu", r"\b(bertemu|pertemuan)\b"), ("pilih", r"\b(pilih|memilih|pemilihan|dipilih)\b")],
)
def test_the_indonesian_stemmer_brings_related_forms_together(
    corpus: tuple[str, dict[str, str]], es_client: Elasticsearch, query: str, forms: str
) -> None:
    """bertemu was stemmed to "berte" and memilih to "ilih", so neither met pertemuan or pilih."""
    name, texts = corpus
    related = _having(texts, forms) & _indexed(es_client, name)
    assert len(related) >= 5, f"the corpus has too few articles with {forms}"
    assert related <= set(_urls(es_client, name, query))
