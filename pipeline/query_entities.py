"""The entities a search query names, in any language the index's canonical names know.

Indexing stores each entity under one canonical name whatever the article's language (``Rusia``,
``Russia`` -> ``Russia``; ``AS``, ``Amerika Serikat`` -> ``United States``; ``Jokowi`` -> ``Joko
Widodo``). A query is read the same way: each run of one to ``MAX_WORDS`` words is looked up as a
place (the gazetteer), as a person's nickname, and as it is typed, and it names an entity when an
article in the index is tagged with one of those forms. Words typed in lower case that news writes
in lower case (``harga``, ``minyak``) are never looked up: they are words, not names.

``read_alternatives`` cuts a query's words into plain words and entity segments (longest first,
left to right), per side of ``|`` (or), each ``-word`` (not) alone, so
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


def canonical_forms(es_field: str, value: str) -> list[str]:
    """What a typed name may stand for in one entity field: itself, and for people the full name
    of a known nickname, for places the gazetteer's canonical name (also what facet filters use)."""
    from pipeline.gazetteer import canonical_place

    forms = [value.strip()]
    if es_field == "persons":
        forms.append(folded_nicknames().get(value.strip().casefold(), ""))
    elif es_field == "locations":
        forms.append(canonical_place(value.strip()) or "")
    return list(dict.fromkeys(f for f in forms if f))


def candidate_forms(text: str) -> list[tuple[str, str]]:
    """(entity field, form) pairs ``text`` may be tagged as; none for lower-case common words."""
    from pipeline.enrich.words import _is_common_in_any_language

    if text.islower() and all(_is_common_in_any_language(w) for w in text.split()):
        return []
    return [(field, form) for field in ENTITY_FIELDS for form in canonical_forms(field, text)]


@lru_cache(maxsize=1)
def folded_nicknames() -> dict[str, str]:
    """The persons' nicknames, any case: ``jokowi`` -> ``Joko Widodo``."""
    from pipeline.enrich import known_nicknames

    return {nickname.casefold(): name for nickname, name in known_nicknames().items()}


def _runs(words: list[str]) -> dict[tuple[int, int], str]:
    """Every run of one to ``MAX_WORDS`` words: (start, end) -> its text."""
    return {
        (start, end): " ".join(words[start:end])
        for start in range(len(words))
        for end in range(start + 1, min(len(words), start + MAX_WORDS) + 1)
    }


def read_query(words: list[str], found: dict[tuple[str, str], str]) -> ReadQuery:
    """Cut ``words`` into entity segments (the longest run that names a tagged entity, left to
    right) and plain words; ``found``: a ``Lookup``'s answer for their candidate forms."""
    runs = _runs(words)
    entities: list[QueryEntity] = []
    start = 0
    while start < len(words):
        for end in range(min(len(words), start + MAX_WORDS), start, -1):
            forms = candidate_forms(runs[(start, end)])
            names = tuple(dict.fromkeys((f, found[(f, v)]) for f, v in forms if (f, v) in found))
            if names:
                entities.append(QueryEntity(runs[(start, end)], start, end, names))
                start = end
                break
        else:
            start += 1
    return ReadQuery(words, entities)


def read_alternatives(tokens: list[str], lookup: Lookup) -> list[Alternative]:
    """``tokens``: words, ``|`` and ``-word`` (simple_query_string's or and not), cut at each ``|``.
    One ``lookup`` for the candidate forms of every run of every alternative."""
    groups: list[list[str]] = [[]]
    for token in tokens:
        if token == "|":
            groups.append([])
        else:
            groups[-1].append(token)
    required = [[t for t in group if not t.startswith("-")] for group in groups]
    excluded = [[[t[1:]] for t in group if t.startswith("-") and len(t) > 1] for group in groups]
    word_lists = [*required, *(words for group in excluded for words in group)]
    pairs = [pair for words in word_lists for text in _runs(words).values() for pair in candidate_forms(text)]
    found = lookup(list(dict.fromkeys(pairs)))
    return [
        Alternative(read_query(words, found), [read_query(word, found) for word in excluded_words])
        for words, excluded_words in zip(required, excluded, strict=True)
    ]


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
