"""Fetch state: what was fetched before (validators, content hash) and each source's last success.

Kept in an Elasticsearch index (``WARTA_FETCH_STATE_INDEX``), not a local database file: every
Airflow worker already reaches Elasticsearch, so mapped fetch tasks on any machine share one state,
it survives the loss of a worker's disk, and it can be inspected in Kibana next to the articles.
Elasticsearch's real-time GET makes a state written by one run visible to the next at once.

State is written only after a run's articles are indexed (``commit``), never at fetch time: if
indexing fails, the next run fetches those pages again instead of trusting a 304 for a page that
never reached the index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any, Literal

from elasticsearch import Elasticsearch
from elasticsearch.helpers import streaming_bulk
from pydantic import BaseModel

from pipeline.index import SMALL_INDEX

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "kind": {"type": "keyword"},  # page | source
        "key": {"type": "keyword"},
        "url": {"type": "keyword"},
        "source": {"type": "keyword"},
        "etag": {"type": "keyword", "index": False},
        "last_modified": {"type": "keyword", "index": False},
        "content_sha": {"type": "keyword", "index": False},
        "outcome": {"type": "keyword"},
        "fetched_at": {"type": "date"},
        "interval_end": {"type": "date"},
        "run_id": {"type": "keyword"},
    },
}


class PageState(BaseModel):
    """One page's last successful fetch."""

    key: str  # canonical URL
    url: str
    source: str
    etag: str | None = None
    last_modified: str | None = None
    content_sha: str | None = None
    outcome: Literal["ok", "not_modified", "skipped"]
    fetched_at: datetime
    run_id: str | None = None  # the run that recorded it (its own re-plans ignore it)


class SourceState(BaseModel):
    """A source's last complete discovery."""

    source: str
    fetched_at: datetime
    interval_end: datetime | None = None
    run_id: str


def page_doc_id(key: str) -> str:
    return "page:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


class FetchStateStore:
    def __init__(self, client: Elasticsearch, index: str) -> None:
        self.client = client
        self.index = index

    def ensure(self) -> None:
        if not self.client.indices.exists(index=self.index):
            self.client.options(ignore_status=400).indices.create(
                index=self.index,
                settings=SMALL_INDEX,
                mappings=MAPPINGS,
            )

    def pages(self, keys: Iterable[str], chunk: int = 1000) -> Iterator[tuple[str, PageState]]:
        """(key, state) for every key fetched before."""
        keys_iter = iter(keys)
        while batch := list(islice(keys_iter, chunk)):
            found = self.client.mget(index=self.index, ids=[page_doc_id(k) for k in batch])
            for doc in found["docs"]:
                if doc.get("found"):
                    state = PageState.model_validate(_without(doc["_source"], "kind"))
                    yield state.key, state

    def commit(self, pages: Iterable[PageState], sources: Iterable[SourceState]) -> int:
        """Write page and source states (after the run's articles are indexed); returns pages written."""

        def actions() -> Iterator[dict[str, Any]]:
            for page in pages:
                yield {
                    "_index": self.index,
                    "_id": page_doc_id(page.key),
                    "_source": {"kind": "page", **page.model_dump(mode="json")},
                }
            for source in sources:
                yield {
                    "_index": self.index,
                    "_id": f"source:{source.source}",
                    "_source": {"kind": "source", **source.model_dump(mode="json")},
                }

        written = 0
        for ok, item in streaming_bulk(
            self.client, actions(), chunk_size=1000, max_retries=5, raise_on_error=True
        ):
            if ok and item["index"]["_id"].startswith("page:"):
                written += 1
        self.client.indices.refresh(index=self.index)
        return written


def _without(doc: dict[str, Any], *fields: str) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in fields}
