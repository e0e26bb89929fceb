"""The entities a search query names, in any language the index's canonical names know.

Indexing stores each entity under one canonical name whatever the article's language (``Rusia``,
``Russia`` -> ``Russia``; ``AS``, ``Amerika Serikat`` -> ``United States``; ``Jokowi`` -> ``Joko
Widodo``). A query is read the same way: each run of one to ``MAX_WORDS`` words is looked up as a
place (the gazetteer), as a person's nickname, and as it is typed, and it names an entity when an
article in the index is tagged with one of those forms. Words typed in lower case that news writes
in lower case (``harga``, ``minyak``) are never looked up: they are words, not names.

``read_query`` returns the words cut into plain words and entity segments (longest first, left
to right); ``read_alternatives`` does so for a query with ``|`` (or) and ``-word`` (not), so
``Jokowi | Prabowo`` finds what ``Jokowi`` and ``Prabowo`` find. ``pipeline.search`` matches a
segment by its words *or* by the entity's tag.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

ENTITY_FIELDS = ("persons", "organisations", "locations")
MAX_WORDS = 4  # the longest name looked up (``Partai Demokrasi Indonesia Perjuangan``)


@dataclass(frozen=True, slots=True)
class QueryEntity:
    """Words of the query (as typed) and the canonical names they stand for, per entity field."""

    text: str
    start: int  # word positions in the query, end exclusive
    end: int
    names: tuple[tuple[str, str], ...]  # (entity field, canonical name as the index holds it)


@dataclass(frozen=True, slots=True)
class ReadQuery:
    words: list[str]
    entities: list[QueryEntity]

    def plain_words(self) -> list[str]:
        """The words outside every entity segment, in order."""
        inside = {i for e in self.entities for i in range(e.start, e.end)}
        return [w for i, w in enumerate(self.words) if i not in inside]


@dataclass(frozen=True, slots=True)
class Alternative:
    """One side of ``|``: the words required, and each word excluded by ``-`` (read alone)."""

    required: ReadQuery
    excluded: list[ReadQuery]


# (field, form) pairs -> the ones some article is tagged with, in the index's own spelling.
Lookup = Callable[[list[tuple[str, str]]], dict[tuple[str, str], str]]


def candidate_forms(text: str) -> list[tuple[str, str]]:
    """What ``text`` may be tagged as: itself in every entity field, a place's canonical name,
    a nickname's full name. Empty for lower-case common words."""
    from pipeline.enrich.words import _is_common_in_any_language
    from pipeline.gazetteer import canonical_place

    if text.islower() and all(_is_common_in_any_language(w) for w in text.split()):
        return []
    forms = [(f, text) for f in ENTITY_FIELDS]
    place = canonical_place(text)
    if place:
        forms.append(("locations", place))
    full_name = folded_nicknames().get(text.casefold())
    if full_name:
        forms.append(("persons", full_name))
    return list(dict.fromkeys(forms))


@lru_cache(maxsize=1)
def folded_nicknames() -> dict[str, str]:
    """The persons' nicknames, any case: ``jokowi`` -> ``Joko Widodo``."""
    from pipeline.enrich import known_nicknames

    return {nickname.casefold(): name for nickname, name in known_nicknames().items()}


def read_query(words: list[str], lookup: Lookup) -> ReadQuery:
    """Cut ``words`` into entity segments (the longest run that names a tagged entity, left to
    right) and plain words. One ``lookup`` for every candidate of every run."""
    runs = {
        (start, end): " ".join(words[start:end])
        for start in range(len(words))
        for end in range(start + 1, min(len(words), start + MAX_WORDS) + 1)
    }
    forms = {span: candidate_forms(text) for span, text in runs.items()}
    found = lookup(list(dict.fromkeys(pair for pairs in forms.values() for pair in pairs)))
    entities: list[QueryEntity] = []
    start = 0
    while start < len(words):
        for end in range(min(len(words), start + MAX_WORDS), start, -1):
            names = tuple(
                dict.fromkeys((f, found[(f, v)]) for f, v in forms[(start, end)] if (f, v) in found)
            )
            if names:
                entities.append(QueryEntity(runs[(start, end)], start, end, names))
                start = end
                break
        else:
            start += 1
    return ReadQuery(words, entities)


def read_alternatives(tokens: list[str], lookup: Lookup) -> list[Alternative]:
    """``tokens``: words, ``|`` and ``-word`` (simple_query_string's or and not), cut at each ``|``."""
    groups: list[list[str]] = [[]]
    for token in tokens:
        if token == "|":
            groups.append([])
        else:
            groups[-1].append(token)
    cached = _memoised(lookup)
    return [
        Alternative(
            read_query([t for t in group if not t.startswith("-")], cached),
            [read_query([t[1:]], cached) for t in group if t.startswith("-") and len(t) > 1],
        )
        for group in groups
    ]


def _memoised(lookup: Lookup) -> Lookup:
    """``lookup`` asked once per pair: the alternatives of one query share their answers."""
    known: dict[tuple[str, str], str | None] = {}

    def ask(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        new = [p for p in pairs if p not in known]
        if new:
            found = lookup(new)
            known.update({p: found.get(p) for p in new})
        return {p: v for p in pairs if (v := known[p]) is not None}

    return ask


def entity_clause(entity: QueryEntity) -> dict[str, Any]:
    """Articles tagged with any of the entity's canonical names."""
    return {
        "bool": {
            "should": [{"term": {field: name}} for field, name in entity.names],
            "minimum_should_match": 1,
        }
    }


def index_lookup(client: Any, index: str) -> Lookup:
    """A ``Lookup`` against ``index``: one search, a filter per (field, form), case-insensitive;
    the index's own spelling of each form found is read from a terms aggregation under it."""

    def lookup(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        if not pairs:
            return {}
        aggs = {
            str(i): {
                "filter": {"term": {field: {"value": form, "case_insensitive": True}}},
                "aggs": {"spelling": {"terms": {"field": field, "size": 50}}},
            }
            for i, (field, form) in enumerate(pairs)
        }
        answer = client.search(index=index, size=0, aggs=aggs)["aggregations"]
        found: dict[tuple[str, str], str] = {}
        for i, (field, form) in enumerate(pairs):
            if answer[str(i)]["doc_count"]:
                spellings = [str(b["key"]) for b in answer[str(i)]["spelling"]["buckets"]]
                same = [s for s in spellings if s.casefold() == form.casefold()]
                found[(field, form)] = same[0] if same else form
        return found

    return lookup


def matched(entities: list[QueryEntity], tags: dict[str, list[str]]) -> list[dict[str, str]]:
    """Which of the query's entities an article is tagged with: ``{"query", "field", "value"}``."""
    out = []
    for entity in entities:
        for field, name in entity.names:
            if name in tags.get(field, []):
                out.append({"query": entity.text, "field": field, "value": name})
    return out
