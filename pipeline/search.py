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

import base64
import difflib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from elasticsearch import Elasticsearch

from pipeline.query_entities import (
    Alternative,
    QueryEntity,
    canonical_forms,
    entity_clause,
    index_lookup,
    matched,
    read_alternatives,
)

# Every article is searched in the standard analysis, and in its own language's stemmed analysis
# only: the English stemmer would make Indonesian "keras" into "kera", the Indonesian one would
# strip English words ("Canada" -> "Cana"). Articles in other languages: standard only.
STANDARD_FIELDS = ["title^3", "body"]
LANGUAGE_FIELDS = {"id": ["title.id^3", "body.id"], "en": ["title.en^3", "body.en"]}
TEXT_FIELDS = STANDARD_FIELDS + [f for fields in LANGUAGE_FIELDS.values() for f in fields]
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

    def typed(self) -> list[tuple[str, str]]:
        """(keyword field, value as typed) for every facet filter given."""
        out = [(f, name) for f, names in self._entities() for name in names]
        out += [(f, v) for f, v in (("language", self.language), ("source", self.source)) if v]
        return out

    def _entities(self) -> list[tuple[str, tuple[str, ...]]]:
        return [
            ("persons", self.persons),
            ("organisations", self.organisations),
            ("locations", self.locations),
        ]

    def clauses(self) -> list[dict[str, Any]]:
        """Each value matched the way indexing normalised it: any case, and by its canonical name
        (``Jokowi`` is ``Joko Widodo``, ``Rusia`` is ``Russia``)."""
        out: list[dict[str, Any]] = [_facet_clause(f, value) for f, value in self.typed()]
        if self.published_from or self.published_to:
            bounds: dict[str, str] = {}
            if self.published_from:
                bounds["gte"] = self.published_from.isoformat()
            if self.published_to:
                bounds["lt"] = self.published_to.isoformat()
            # The time field every document has (publication time, else the text's day, else first seen).
            out.append({"range": {"timestamp": bounds}})
        return out


def _facet_clause(es_field: str, value: str) -> dict[str, Any]:
    forms = canonical_forms(es_field, value)
    return {
        "bool": {
            "should": [{"term": {es_field: {"value": f, "case_insensitive": True}}} for f in forms],
            "minimum_should_match": 1,
        }
    }


def suggestions(client: Elasticsearch, index: str, es_field: str, value: str, size: int = 5) -> list[str]:
    """The facet values nearest to one that matches nothing (spelling, or a part of the name)."""
    buckets = client.search(index=index, size=0, aggs={"v": {"terms": {"field": es_field, "size": 5000}}})
    values = [str(b["key"]) for b in buckets["aggregations"]["v"]["buckets"]]
    folded = {v.casefold(): v for v in values}
    typed = value.strip().casefold()
    near = [folded[v] for v in difflib.get_close_matches(typed, list(folded), n=size, cutoff=0.6)]
    containing = [v for v in values if typed and typed in v.casefold()]
    return list(dict.fromkeys([*near, *containing]))[:size]


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
    # The query's entities this article is tagged with: {"query", "field", "value"} each.
    matched_entities: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SearchResult:
    total: int  # matching documents
    hits: list[Hit] = field(default_factory=list)
    # A facet filter that alone matches nothing: its field, the value typed, the nearest values.
    unmatched: list[tuple[str, str, list[str]]] = field(default_factory=list)
    next: str | None = None  # with paging: the cursor of the next page (None on the last one)
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # name -> (value, documents)
    stories: int | None = None  # distinct stories among the matches (with one_per_story)
    entities: list[QueryEntity] = field(default_factory=list)  # what the query names (entity_match)


_OPERATORS = set('"+-|*()~')
_VERBATIM = set('"+*()~')  # a query with these is searched as written, without reading entities
MAX_QUERY_TOKENS = 16  # longer queries (pasted text) are words only: one lookup per run of words
# Words as people type them (Kibana's KQL, web search): AND, OR, NOT in capitals, and quoted phrases.
_TOKEN = re.compile(r'"[^"]*"?|\S+')
# Matches of the exact phrase outrank all others: BM25 scores of a few words stay far below this.
PHRASE_BOOST = 1000.0
# An article tagged with an entity the query names counts as much as one holding the exact phrase:
# tagged articles in any language rank with the best text matches, and above scattered words.
ENTITY_BOOST = PHRASE_BOOST


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


def build_query(query: str, filters: SearchFilters, read: list[Alternative] | None = None) -> dict[str, Any]:
    """The query body. With ``read`` (the query cut into entities and plain words by
    ``query_entities.read_alternatives``) and an entity in it, each entity segment matches by its
    words *or* by the tag of the entity they name, whatever the article's language; a tagged
    article ranks as high as the exact phrase (``ENTITY_BOOST``)."""
    must: list[dict[str, Any]] = []
    should: list[dict[str, Any]] = []
    query = translate_operators(query)
    if query.strip():
        if read is not None and any(r.entities for alt in read for r in (alt.required, *alt.excluded)):
            branches = [_alternative(alt) for alt in read]
            must.append(
                branches[0]
                if len(branches) == 1
                else {"bool": {"should": branches, "minimum_should_match": 1}}
            )
        else:
            must.append(_per_language(lambda fields: _words(query, fields)))
        words = query.split()
        if len(words) > 1 and not _OPERATORS & set(query):
            # Plain words: articles where they stand together as a phrase rank first (a constant
            # on top of the relevance score, so one word in a title cannot outweigh the phrase).
            should.append(
                {
                    "constant_score": {
                        "filter": _per_language(lambda fields: _phrase(query, fields)),
                        "boost": PHRASE_BOOST,
                    }
                }
            )
    else:
        must.append({"match_all": {}})
    return {"bool": {"must": must, "should": should, "filter": filters.clauses()}}


def _alternative(alternative: Alternative) -> dict[str, Any]:
    """All required words (an entity's by text or tag), none of the excluded (by text or tag)."""
    required = alternative.required
    must: list[dict[str, Any]] = []
    if plain := required.plain_words():
        must.append(_per_language(partial(_words, " ".join(plain))))
    must.extend(_by_words_or_tag(entity) for entity in required.entities)
    must_not = [
        _by_words_or_tag(excluded.entities[0])
        if excluded.entities
        else _per_language(partial(_words, " ".join(excluded.words)))
        for excluded in alternative.excluded
    ]
    return {"bool": {"must": must or [{"match_all": {}}], "must_not": must_not}}


def _by_words_or_tag(entity: QueryEntity) -> dict[str, Any]:
    by_tag = {"constant_score": {"filter": entity_clause(entity), "boost": ENTITY_BOOST}}
    return {
        "bool": {"should": [_per_language(partial(_words, entity.text)), by_tag], "minimum_should_match": 1}
    }


def read_entities(client: Elasticsearch, index: str, query: str) -> list[Alternative] | None:
    """The entities a query names, per ``|`` alternative (None for a query with quotes, wildcards,
    ``+`` or brackets, or longer than ``MAX_QUERY_TOKENS``: those are read as written)."""
    tokens = translate_operators(query).split()
    if not tokens or len(tokens) > MAX_QUERY_TOKENS or any(set(t) & _VERBATIM for t in tokens):
        return None
    return read_alternatives(tokens, index_lookup(client, index))


def _words(query: str, fields: list[str]) -> dict[str, Any]:
    return {"simple_query_string": {"query": query, "fields": fields, "default_operator": "and"}}


def _phrase(query: str, fields: list[str]) -> dict[str, Any]:
    return {"multi_match": {"query": query, "type": "phrase", "fields": fields}}


def _per_language(query_on: Callable[[list[str]], dict[str, Any]]) -> dict[str, Any]:
    """One query per language: each article matched in the standard analysis and its own
    language's stemmed analysis only."""
    languages = list(LANGUAGE_FIELDS)
    branches: list[dict[str, Any]] = [
        {"bool": {"filter": [{"term": {"language": code}}], "must": [query_on(STANDARD_FIELDS + fields)]}}
        for code, fields in LANGUAGE_FIELDS.items()
    ]
    branches.append(
        {"bool": {"must_not": [{"terms": {"language": languages}}], "must": [query_on(STANDARD_FIELDS)]}}
    )
    return {"bool": {"should": branches, "minimum_should_match": 1}}


def search(
    client: Elasticsearch,
    index: str,
    query: str,
    filters: SearchFilters | None = None,
    size: int = 10,
    facets: int = 0,
    one_per_story: bool = False,
    page: bool = False,
    after: str | None = None,
    entity_match: bool = True,
) -> SearchResult:
    """Top hits for ``query`` with highlighted snippets and entity tags; ``facets`` > 0 adds the
    top values of each facet; ``one_per_story`` returns the best hit of each story only.

    Paging past any depth: ``page=True`` opens a point in time on the index and returns, in
    ``next``, a cursor for the page after this one; ``after=cursor`` returns that page (from the
    same point in time: pages neither skip nor repeat articles while the index changes). Not with
    ``one_per_story``.

    ``entity_match`` (default): words of the query that name an entity also match the articles
    tagged with it in any language (``Rusia`` finds articles tagged ``Russia``); each hit says
    which in ``matched_entities``. False: words match text only."""
    if (page or after) and one_per_story:
        raise ValueError("paging is not available with one article per story")
    aggs: dict[str, Any] = (
        {name: {"terms": {"field": f, "size": facets}} for name, f in FACETS.items()} if facets else {}
    )
    extra: dict[str, Any] = {}
    if one_per_story:
        extra["collapse"] = {"field": "story_id"}
        aggs["stories"] = {"cardinality": {"field": "story_id"}}
    if page or after:
        pit, search_after = _open_cursor(client, index, after)
        extra.update(
            pit={"id": pit, "keep_alive": PAGE_KEEP_ALIVE},
            sort=[{"_score": "desc"}, {"_shard_doc": "asc"}],
            **({"search_after": search_after} if search_after else {}),
        )
    read = read_entities(client, index, query) if entity_match else None
    entities = [e for alt in read or [] for e in alt.required.entities]
    response = client.search(
        index=None if (page or after) else index,
        query=build_query(query, filters or SearchFilters(), read),
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
    hits = [_hit(raw, entities) for raw in response["hits"]["hits"]]
    found = response.get("aggregations", {})
    total = int(response["hits"]["total"]["value"])
    unmatched = []
    for es_field, value in filters.typed() if filters and total == 0 else []:
        if client.count(index=index, query=_facet_clause(es_field, value))["count"] == 0:
            unmatched.append((es_field, value, suggestions(client, index, es_field, value)))
    cursor = None
    if (page or after) and len(response["hits"]["hits"]) == size:
        cursor = _cursor(response.get("pit_id") or extra["pit"]["id"], response["hits"]["hits"][-1]["sort"])
    return SearchResult(
        total=total,
        unmatched=unmatched,
        next=cursor,
        hits=hits,
        facets={
            name: [(str(b["key"]), int(b["doc_count"])) for b in found[name]["buckets"]]
            for name in FACETS
            if name in found
        },
        stories=int(found["stories"]["value"]) if "stories" in found else None,
        entities=entities,
    )


PAGE_KEEP_ALIVE = "5m"  # how long a point in time waits for the next page


def _open_cursor(client: Elasticsearch, index: str, after: str | None) -> tuple[str, list[Any] | None]:
    """(point-in-time id, sort values to search after): a new point in time for a first page."""
    if after is None:
        return str(client.open_point_in_time(index=index, keep_alive=PAGE_KEEP_ALIVE)["id"]), None
    try:
        pit, values = json.loads(base64.urlsafe_b64decode(after.encode()))
    except (ValueError, TypeError) as err:
        raise ValueError("not a cursor from a previous page of this search") from err
    return str(pit), list(values)


def _cursor(pit: str, sort_values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps([pit, sort_values]).encode()).decode()


def _hit(raw: dict[str, Any], entities: list[QueryEntity]) -> Hit:
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
        matched_entities=matched(entities, src),
    )
