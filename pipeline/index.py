"""Index: the Elasticsearch mapping and the bulk loader.

The index template owns the index's settings and mappings, so however the index is created (the
loader, a manual PUT) it gets the same analysis. Text fields are
analysed three ways: ``standard`` on the field itself, and ``.id`` / ``.en`` sub-fields with
Elasticsearch's ``indonesian`` and ``english`` analyzers (stemming: ``bicara`` finds
``pembicaraan``). Entity names are keyword arrays per type, for Kibana aggregations.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.helpers import streaming_bulk

from pipeline.records import Rejection, TaggedArticle
from pipeline.settings import Settings


def connect(settings: Settings) -> Elasticsearch:
    """A client for ``settings.es_url``, with basic auth or an API key when configured."""
    auth: dict[str, Any] = {}
    if settings.es_api_key is not None:
        auth["api_key"] = settings.es_api_key.get_secret_value()
    elif settings.es_username and settings.es_password is not None:
        auth["basic_auth"] = (settings.es_username, settings.es_password.get_secret_value())
    return Elasticsearch(
        settings.es_url,
        request_timeout=settings.es_timeout_s,
        retry_on_timeout=True,
        max_retries=3,
        **auth,
    )


def _text(max_keyword: int | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": {"type": "text", "analyzer": "indonesian"},
        "en": {"type": "text", "analyzer": "english"},
    }
    if max_keyword:
        fields["keyword"] = {"type": "keyword", "ignore_above": max_keyword}
    return {"type": "text", "analyzer": "standard", "fields": fields}


_KEYWORD = {"type": "keyword", "ignore_above": 512}

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "title": _text(max_keyword=512),
        "body": _text(),
        "url": {"type": "keyword", "ignore_above": 2048},
        "source": _KEYWORD,
        "site_name": _KEYWORD,
        "authors": _KEYWORD,
        "language": _KEYWORD,
        "published_at": {"type": "date"},
        "ingested_at": {"type": "date"},
        "input_id": {"type": "keyword", "ignore_above": 2048},
        "persons": _KEYWORD,
        "organisations": _KEYWORD,
        "locations": _KEYWORD,
        "entities": {
            "properties": {
                "text": _KEYWORD,
                "label": _KEYWORD,
                "field": _KEYWORD,
                "start": {"type": "integer"},
                "end": {"type": "integer"},
                "canonical": _KEYWORD,
            }
        },
    },
}

INDEX_SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    "number_of_replicas": 0,
    "refresh_interval": "1s",
}


def ensure_index(client: Elasticsearch, index: str) -> None:
    """Install the template for ``index`` and create the index if it does not exist.

    The template matches exactly this name: a wildcard (``index*``) would collide with the
    template of any other index whose name starts the same way (``news`` vs ``news-2``)."""
    client.indices.put_index_template(
        name=index,
        index_patterns=[index],
        priority=100,
        template={"settings": INDEX_SETTINGS, "mappings": MAPPINGS},
        meta={"managed_by": "warta"},
    )
    if not client.indices.exists(index=index):
        client.indices.create(index=index)


@contextmanager
def bulk_mode(client: Elasticsearch, index: str) -> Iterator[None]:
    """No periodic refreshes while a bulk load runs (each one costs a segment flush); the
    index's own refresh interval comes back afterwards, followed by one refresh."""
    current = client.indices.get_settings(index=index, name="index.refresh_interval").body
    # None when the index has no explicit interval (created outside the template): restoring
    # null puts Elasticsearch's default back.
    interval = current.get(index, {}).get("settings", {}).get("index", {}).get("refresh_interval")
    client.indices.put_settings(index=index, settings={"index": {"refresh_interval": "-1"}})
    try:
        yield
    finally:
        client.indices.put_settings(index=index, settings={"index": {"refresh_interval": interval}})
        client.indices.refresh(index=index)


def to_document(article: TaggedArticle) -> dict[str, Any]:
    """The indexed form: article fields plus per-type canonical name arrays."""
    doc = article.model_dump(mode="json", exclude={"id"})
    doc["persons"] = article.canonical_names("PER")
    doc["organisations"] = article.canonical_names("ORG")
    doc["locations"] = article.canonical_names("LOC")
    return doc


@dataclass(slots=True)
class LoadResult:
    created: int = 0
    updated: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def indexed(self) -> int:
        return self.created + self.updated


def bulk_load(
    client: Elasticsearch,
    index: str,
    articles: Iterable[TaggedArticle],
    chunk_size: int = 500,
    max_retries: int = 5,
) -> LoadResult:
    """Index articles by id (re-runs overwrite, never duplicate); per-item failures are kept."""
    result = LoadResult()
    input_ids: dict[str, str] = {}

    def actions() -> Iterator[dict[str, Any]]:
        for article in articles:
            input_ids[article.id] = article.input_id
            yield {
                "_op_type": "index",
                "_index": index,
                "_id": article.id,
                "_source": to_document(article),
            }

    for ok, item in streaming_bulk(
        client,
        actions(),
        chunk_size=chunk_size,
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
            result.created += 1
        elif ok:
            result.updated += 1
        else:
            error = info.get("error", {})
            reason = error.get("reason") if isinstance(error, dict) else str(error)
            kind = error.get("type") if isinstance(error, dict) else "error"
            result.rejected.append(
                Rejection(
                    input_id=input_ids.get(doc_id, doc_id),
                    stage="index",
                    outcome="quarantined",
                    reason=f"Elasticsearch rejected the document ({info.get('status')} {kind}): {reason}",
                    article_id=doc_id,
                )
            )
    return result
