"""Loading: articles to documents, the streaming bulk load with its retries (per-item errors become
Rejections), and the stories lookup near-duplicates are grouped by."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar
from urllib.parse import urlsplit

from elasticsearch import (
    ApiError,
    Elasticsearch,
    TransportError,
)
from elasticsearch.helpers import streaming_bulk

from pipeline.dedup import Lookup, Sketch, StoryMember
from pipeline.index.layout import IndexLayoutError
from pipeline.records import Rejection, TaggedArticle


def domain_of(url: str | None) -> str | None:
    """The host of an article's URL without ``www.`` (a Kibana facet that outlives source names)."""
    host = urlsplit(url).hostname if url else None
    return host.removeprefix("www.") if host else None


def to_document(article: TaggedArticle) -> dict[str, Any]:
    """The indexed form: article fields plus per-type canonical name arrays and the time field."""
    doc = article.model_dump(mode="json", exclude={"id"})
    doc["first_seen_at"] = doc["first_seen_at"] or doc["ingested_at"]
    # Kibana's time field, never missing (a document without it does not exist in Kibana): the
    # publication time, else the day the text states, else when Warta first saw the article.
    doc["timestamp"] = doc["published_at"] or doc["published_on"] or doc["first_seen_at"]
    doc["domain"] = domain_of(article.url)
    doc["story_id"] = article.story_id or article.id
    doc["persons"] = article.canonical_names("PER")
    doc["organisations"] = article.canonical_names("ORG")
    doc["locations"] = article.canonical_names("LOC")
    return doc


@dataclass(slots=True)
class LoadResult:
    created: int = 0
    updated: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    loaded_ids: set[str] = field(default_factory=set)  # documents written (created or updated)
    created_ids: set[str] = field(default_factory=set)

    @property
    def indexed(self) -> int:
        return self.created + self.updated


class WriteBlocked(RuntimeError):
    """Elasticsearch refused writes with a block: a reindex is copying the index (the write alias
    moves to the new version when it is done), or a disk watermark was reached. Waited out."""


class ItemsUnavailable(RuntimeError):
    """Some documents of a bulk request failed for a reason that passes (HTTP 5xx per item: a
    shard whose node was lost, before its replica takes over). Re-sent, not quarantined."""

    def __init__(self, message: str, pending: list[TaggedArticle]) -> None:
        super().__init__(message)
        self.pending = pending


class LoadError(RuntimeError):
    """Elasticsearch stayed unreachable longer than the retry budget; the load stopped cleanly.
    Re-running it is safe: ids are deterministic, so loaded documents are overwritten, not copied."""


def bulk_load(
    client: Elasticsearch,
    index: str,
    articles: Iterable[TaggedArticle],
    chunk_size: int = 500,
    max_retries: int = 5,
    retry_budget_s: float = 300.0,
    sleep: Callable[[float], None] = time.sleep,
    on_created: Callable[[list[str]], None] | None = None,
) -> LoadResult:
    """Index articles by id (re-runs overwrite, never duplicate); per-item failures are kept.
    ``on_created`` hears the ids each chunk created, as soon as the chunk is done (so a caller can
    keep them across a load that dies halfway).

    One bulk request per chunk. Items Elasticsearch answers 429 for are retried by the bulk helper
    (``max_retries``, exponential backoff); items it refuses for good (mapping conflict, too large)
    become quarantine Rejections with its reason. When a whole request fails (node down,
    connection refused, timeout, 5xx), the chunk is re-sent with exponential backoff (1 s doubling
    to 60 s) until ``retry_budget_s`` has passed without success; then ``LoadError``.
    """
    result = LoadResult()
    iterator = iter(articles)
    while chunk := list(islice(iterator, chunk_size)):
        pending = chunk

        def attempt() -> None:
            nonlocal pending
            try:
                _load_chunk(client, index, pending, max_retries, result, on_created)
            except ItemsUnavailable as err:  # only those are sent again
                pending = err.pending
                raise

        retrying(
            attempt,
            retry_budget_s,
            f"the bulk load into {index} ({result.indexed} documents were loaded before)",
            sleep,
        )
    return result


T = TypeVar("T")


def retrying(
    call: Callable[[], T], budget_s: float, doing: str, sleep: Callable[[float], None] = time.sleep
) -> T:
    """``call()``, re-tried while Elasticsearch is unreachable, overloaded or write-blocked
    (connection errors, timeouts, 429, 5xx, a reindex's block) with backoff from 1 s doubling to
    60 s; ``LoadError`` once ``budget_s`` is spent. Other errors (4xx: a bug, not an outage) are
    raised at once."""
    waited, delay = 0.0, 1.0
    while True:
        try:
            return call()
        except (TransportError, ApiError, WriteBlocked, ItemsUnavailable) as err:
            if isinstance(err, ApiError) and err.status_code != 429 and err.status_code < 500:
                raise
            if waited >= budget_s:
                what = "write-blocked" if isinstance(err, WriteBlocked) else "unreachable"
                raise LoadError(
                    f"Elasticsearch {what} for {waited:.0f} s during {doing}: "
                    f"{type(err).__name__}: {err}. "
                    "Re-run the load when it is back: documents are overwritten by id, never duplicated."
                    + (
                        " A block left by an interrupted `warta reindex` is lifted by running it again."
                        if isinstance(err, WriteBlocked)
                        else ""
                    )
                ) from err
            sleep(delay)
            waited += delay
            delay = min(delay * 2, 60.0)


def _load_chunk(
    client: Elasticsearch,
    index: str,
    chunk: list[TaggedArticle],
    max_retries: int,
    result: LoadResult,
    on_created: Callable[[list[str]], None] | None = None,
) -> None:
    """One chunk, one bulk request (plus the helper's 429 retries); counts go into ``result`` only
    once the request came back, so a retried chunk is never counted twice."""
    input_ids = {article.id: article.input_id for article in chunk}
    chunk = _keep_first_seen(client, index, chunk)
    actions = (
        {"_op_type": "index", "_index": index, "_id": article.id, "_source": to_document(article)}
        for article in chunk
    )
    partial = LoadResult()
    unavailable: dict[str, str] = {}  # id -> reason, for items that failed with a 5xx
    for ok, item in streaming_bulk(
        client,
        actions,
        chunk_size=len(chunk),
        max_retries=max_retries,
        initial_backoff=1,
        max_backoff=30,
        raise_on_error=False,
        raise_on_exception=True,
        yield_ok=True,
    ):
        info = item.get("index", {})
        doc_id = str(info.get("_id"))
        if ok and info.get("result") == "created":
            partial.created += 1
            partial.created_ids.add(doc_id)
            partial.loaded_ids.add(doc_id)
        elif ok:
            partial.updated += 1
            partial.loaded_ids.add(doc_id)
        else:
            error = info.get("error", {})
            reason = error.get("reason") if isinstance(error, dict) else str(error)
            kind = error.get("type") if isinstance(error, dict) else "error"
            if kind == "cluster_block_exception":  # the whole chunk is sent again once it lifts
                raise WriteBlocked(f"{index}: {reason}")
            if int(info.get("status") or 0) >= 500:
                unavailable[doc_id] = f"{info.get('status')} {kind}: {reason}"
                continue
            partial.rejected.append(
                Rejection(
                    input_id=input_ids.get(doc_id, doc_id),
                    stage="index",
                    outcome="quarantined",
                    reason=f"Elasticsearch rejected the document ({info.get('status')} {kind}): {reason}",
                    article_id=doc_id,
                )
            )
    result.created += partial.created
    result.updated += partial.updated
    result.rejected.extend(partial.rejected)
    result.loaded_ids |= partial.loaded_ids
    result.created_ids |= partial.created_ids
    if on_created is not None and partial.created_ids:
        on_created(sorted(partial.created_ids))
    if unavailable:
        first = next(iter(unavailable.values()))
        raise ItemsUnavailable(
            f"{len(unavailable)} of {len(chunk)} documents not written ({first})",
            [article for article in chunk if article.id in unavailable],
        )


def _keep_first_seen(client: Elasticsearch, index: str, chunk: list[TaggedArticle]) -> list[TaggedArticle]:
    """The chunk with each article's ``first_seen_at`` from its stored document, where there is one:
    a re-ingested article keeps the time Warta first saw it."""
    found = client.options(ignore_status=404).mget(
        index=index, ids=[a.id for a in chunk], source_includes=["first_seen_at"]
    )
    seen = {
        doc["_id"]: doc["_source"].get("first_seen_at")
        for doc in found.get("docs", [])
        if doc.get("found") and doc.get("_source", {}).get("first_seen_at")
    }
    return [
        a.model_copy(update={"first_seen_at": datetime.fromisoformat(seen[a.id])}) if a.id in seen else a
        for a in chunk
    ]


def story_lookup(
    client: Elasticsearch, name: str, per_article: int = 10, retry_budget_s: float = 300.0
) -> Lookup:
    """Earlier story members sharing a band key, for ``dedup.assign_stories``: one msearch per chunk
    (re-tried through an outage like the load itself)."""

    def lookup(bands_per_article: list[list[str]]) -> list[list[StoryMember]]:
        searches: list[dict[str, Any]] = []
        for bands in bands_per_article:
            searches.append({"index": name})
            searches.append(
                {
                    "size": per_article,
                    "query": {"terms": {"story_bands": bands}},
                    "_source": ["story_id", "minhash"],
                }
            )
        answers = retrying(
            lambda: client.msearch(searches=searches)["responses"],
            retry_budget_s,
            f"the story lookup in {name}",
        )
        found: list[list[StoryMember]] = []
        for answer in answers:
            if "error" in answer:
                raise IndexLayoutError(f"story lookup failed: {answer['error']}")
            found.append(
                [
                    StoryMember(
                        h["_id"],
                        h["_source"].get("story_id") or h["_id"],
                        Sketch.decode(h["_source"]["minhash"]),
                    )
                    for h in answer["hits"]["hits"]
                    if h["_source"].get("minhash")
                ]
            )
        return found

    return lookup
