"""Search: one query over titles and bodies in every analysis, with filters, facets and stories.

The query string uses Elasticsearch's ``simple_query_string`` syntax (``"exact phrase"``,
``-exclude``, ``prefix*``, ``a | b``, ``(grouping)``) which, unlike ``query_string``, never fails
on a malformed query; all terms must match by default. Each term is looked up in the standard,
Indonesian-stemmed and English-stemmed forms of the text, so ``bicara`` finds ``pembicaraan`` and
``meeting`` finds ``meetings``. Documents where the words of the query stand together as a phrase
score higher than documents where they are scattered.

Python API: ``search(client, index, query, SearchFilters(...), size=, facets=, one_per_story=)``
returns a ``SearchResult`` (hits with highlights and entity tags, facet counts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch

TEXT_FIELDS = ["title^3", "title.id^3", "title.en^3", "body", "body.id", "body.en"]
HIGHLIGHT_FIELDS = ["body", "body.id", "body.en", "title", "title.id", "title.en"]
ENTITY_FIELDS = {"person": "persons", "organisation": "organisations", "location": "locations"}
# Facets: name -> keyword field counted over the matching documents.
FACETS = {
    "persons": "persons",
    "organisations": "organisations",
    "locations": "locations",
    "sources": "source",
    "domains": "domain",
    "languages": "language",
}


@dataclass(frozen=True, slots=True)
class SearchFilters:
    persons: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    language: str | None = None
    source: str | None = None
    published_from: datetime | None = None  # inclusive
    published_to: datetime | None = None  # exclusive: the end of a whole day is the next day's start

    def clauses(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for es_field, names in (
            ("persons", self.persons),
            ("organisations", self.organisations),
            ("locations", self.locations),
        ):
            out.extend({"term": {es_field: name}} for name in names)
        if self.language:
            out.append({"term": {"language": self.language}})
        if self.source:
            out.append({"term": {"source": self.source}})
        if self.published_from or self.published_to:
            bounds: dict[str, str] = {}
            if self.published_from:
                bounds["gte"] = self.published_from.isoformat()
            if self.published_to:
                bounds["lt"] = self.published_to.isoformat()
            # The time field every document has (publication time, else the text's day, else first seen).
            out.append({"range": {"timestamp": bounds}})
        return out


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    score: float
    title: str
    url: str | None
    source: str
    language: str
    published_at: str | None
    highlights: list[str]
    persons: list[str]
    organisations: list[str]
    locations: list[str]


@dataclass(frozen=True, slots=True)
class SearchResult:
    total: int  # matching documents
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # name -> (value, documents)
    stories: int | None = None  # distinct stories among the matches (with one_per_story)


_OPERATORS = set('"+-|*()~')
# Words as people type them (Kibana's KQL, web search): AND, OR, NOT in capitals, and quoted phrases.
_TOKEN = re.compile(r'"[^"]*"?|\S+')
# Matches of the exact phrase outrank all others: BM25 scores of a few words stay far below this.
PHRASE_BOOST = 1000.0


def translate_operators(query: str) -> str:
    """``AND``/``OR``/``NOT`` (in capitals, outside quotes) into simple_query_string's ``+``,
    ``|`` and ``-``: ``Jokowi OR Prabowo`` is ``Jokowi | Prabowo``, ``Jokowi NOT Prabowo`` is
    ``Jokowi -Prabowo``; all words are required anyway, so ``AND`` just joins."""
    out: list[str] = []
    negate = False
    for token in _TOKEN.findall(query):
        if token == "AND":
            continue
        if token == "OR":
            out.append("|")
            continue
        if token == "NOT":
            negate = True
            continue
        out.append(f"-{token}" if negate else token)
        negate = False
    return " ".join(out)


def build_query(query: str, filters: SearchFilters) -> dict[str, Any]:
    must: list[dict[str, Any]] = []
    should: list[dict[str, Any]] = []
    query = translate_operators(query)
    if query.strip():
        must.append(
            {
                "simple_query_string": {
                    "query": query,
                    "fields": TEXT_FIELDS,
                    "default_operator": "and",
                }
            }
        )
        words = query.split()
        if len(words) > 1 and not _OPERATORS & set(query):
            # Plain words: articles where they stand together as a phrase rank first (a constant
            # on top of the relevance score, so one word in a title cannot outweigh the phrase).
            should.append(
                {
                    "constant_score": {
                        "filter": {"multi_match": {"query": query, "type": "phrase", "fields": TEXT_FIELDS}},
                        "boost": PHRASE_BOOST,
                    }
                }
            )
    else:
        must.append({"match_all": {}})
    return {"bool": {"must": must, "should": should, "filter": filters.clauses()}}


def search(
    client: Elasticsearch,
    index: str,
    query: str,
    filters: SearchFilters | None = None,
    size: int = 10,
    facets: int = 0,
    one_per_story: bool = False,
) -> SearchResult:
    """Top hits for ``query`` with highlighted snippets and entity tags; ``facets`` > 0 adds the
    top values of each facet; ``one_per_story`` returns the best hit of each story only."""
    aggs: dict[str, Any] = (
        {name: {"terms": {"field": f, "size": facets}} for name, f in FACETS.items()} if facets else {}
    )
    extra: dict[str, Any] = {}
    if one_per_story:
        extra["collapse"] = {"field": "story_id"}
        aggs["stories"] = {"cardinality": {"field": "story_id"}}
    response = client.search(
        index=index,
        query=build_query(query, filters or SearchFilters()),
        size=size,
        track_total_hits=True,
        source_excludes=["body", "entities"],
        highlight={
            "pre_tags": ["«"],
            "post_tags": ["»"],
            "fields": {name: {"fragment_size": 180, "number_of_fragments": 2} for name in HIGHLIGHT_FIELDS},
        },
        aggs=aggs or None,
        **extra,
    )
    hits = [_hit(raw) for raw in response["hits"]["hits"]]
    found = response.get("aggregations", {})
    return SearchResult(
        total=int(response["hits"]["total"]["value"]),
        hits=hits,
        facets={
            name: [(str(b["key"]), int(b["doc_count"])) for b in found[name]["buckets"]]
            for name in FACETS
            if name in found
        },
        stories=int(found["stories"]["value"]) if "stories" in found else None,
    )


def _hit(raw: dict[str, Any]) -> Hit:
    src = raw["_source"]
    highlight: dict[str, list[str]] = raw.get("highlight", {})
    # The same passage is often highlighted by several analyses (with different marks): keep one.
    by_text: dict[str, str] = {}
    for name in HIGHLIGHT_FIELDS:
        for snippet in highlight.get(name, []):
            by_text.setdefault(snippet.replace("«", "").replace("»", ""), snippet)
    snippets = list(by_text.values())
    return Hit(
        id=raw["_id"],
        score=float(raw.get("_score") or 0.0),
        title=src.get("title", ""),
        url=src.get("url"),
        source=src.get("source", ""),
        language=src.get("language", ""),
        published_at=src.get("published_at"),
        highlights=snippets[:3],
        persons=src.get("persons", []),
        organisations=src.get("organisations", []),
        locations=src.get("locations", []),
    )
