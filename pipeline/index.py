"""Index: the Elasticsearch mapping, versioned indices behind aliases, the bulk loader, reindexing.

Users and Kibana address an index *name* (``warta-articles``), which is an alias: the read alias
points at one concrete, versioned index (``warta-articles-v3``), and ``warta-articles-write`` is
the write alias the loader uses. Component templates (``<name>-settings``, ``<name>-mappings``)
composed by the index template ``<name>`` (matching ``<name>-v*``) own settings and mappings, so
every version gets the same analysis however it is created. ``reindex`` builds the next version,
verifies it, and swaps both aliases in one atomic ``_aliases`` call: searches never see an empty
or half-built index.

Text fields are analysed three ways: ``standard`` on the field itself, ``.en`` with
Elasticsearch's ``english`` analyzer, and ``.id`` with ``warta_indonesian``: the ``indonesian``
analyzer's steps with a dictionary's word → root list (``models/indonesian_stems.txt``, built by
``scripts/indonesian_stems.py`` with Sastrawi) applied before Lucene's rule-based stemmer, so
``bicara`` finds ``pembicaraan`` and ``bertemu`` finds ``pertemuan``, but ``masa`` no longer finds
``masalah``. Entity names are keyword arrays per type, for Kibana aggregations.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from elasticsearch import (
    ApiError,
    AuthenticationException,
    AuthorizationException,
    Elasticsearch,
    TransportError,
)
from elasticsearch.helpers import scan, streaming_bulk

from pipeline.dedup import Lookup, Sketch, StoryMember
from pipeline.records import Rejection, TaggedArticle
from pipeline.settings import Settings


def connect(settings: Settings) -> Elasticsearch:
    """A client for ``settings.es_url`` (one URL, or several nodes' comma-separated), with basic
    auth or an API key when configured, and TLS verified against ``es_ca_certs`` (or the system
    CAs) for https URLs."""
    auth: dict[str, Any] = {}
    if settings.es_api_key is not None:
        auth["api_key"] = settings.es_api_key.get_secret_value()
    elif settings.es_username and settings.es_password is not None:
        auth["basic_auth"] = (settings.es_username, settings.es_password.get_secret_value())
    if settings.es_ca_certs is not None:
        auth["ca_certs"] = str(settings.es_ca_certs)
    if settings.es_url.startswith("https://"):
        auth["verify_certs"] = settings.es_verify_certs
    return Elasticsearch(
        # Several nodes of one cluster, comma-separated: requests go round them, past a lost one.
        [url.strip() for url in settings.es_url.split(",")],
        request_timeout=settings.es_timeout_s,
        retry_on_timeout=True,
        max_retries=3,
        **auth,
    )


def least_privilege_role(settings: Settings) -> dict[str, Any]:
    """The privileges Warta needs on a secured cluster, and no more: a role body for
    ``PUT _security/role/<name>`` or an API key's ``role_descriptors`` (``warta es role``).

    Cluster: ``monitor`` (health, node info: the access check and the reindex probe) and
    ``manage_index_templates`` (its component and index templates). Indices: only Warta's own
    (articles with their versions and aliases, run ledger, dead letters, fetch state), with
    ``manage`` (create, mappings, settings, aliases, refresh, delete retired versions), ``write``
    and ``read``."""
    names = [settings.index, settings.runs_index, settings.dead_letter_index, settings.fetch_state_index]
    return {
        "cluster": ["monitor", "manage_index_templates"],
        "indices": [{"names": [f"{n}*" for n in names], "privileges": ["manage", "write", "read"]}],
    }


class AccessDenied(RuntimeError):
    """The cluster refuses Warta's credentials, or their privileges; raised before anything is
    written, so a run with a wrong password or an expired key leaves no trace in the cluster."""


def check_access(settings: Settings) -> None:
    """Fail fast and clearly when the cluster refuses the configured credentials: one request
    (cluster health, which the least-privilege role allows through ``monitor``), no retries."""
    client = connect(settings)
    try:
        client.options(max_retries=0).cluster.health()
    except AuthenticationException as err:
        raise AccessDenied(
            f"Elasticsearch at {settings.es_url} refused the credentials (HTTP 401: "
            f"{_reason(err)}). Check WARTA_ES_USERNAME and WARTA_ES_PASSWORD, or WARTA_ES_API_KEY "
            f"(in Airflow: the Connection {settings.es_conn_id}); an expired or invalidated API "
            "key needs a new one. Nothing was written."
        ) from None
    except AuthorizationException as err:
        raise AccessDenied(
            f"Elasticsearch at {settings.es_url} accepted the credentials but refuses this "
            f"request (HTTP 403: {_reason(err)}). Give the user or key the role in "
            "docs/reliability-and-security.md. Nothing was written."
        ) from None
    finally:
        client.close()


def _reason(err: ApiError) -> str:
    """The server's reason, which names the user and the action, never the secret."""
    body = err.body if isinstance(err.body, dict) else {}
    error = body.get("error")
    return str(error.get("reason") if isinstance(error, dict) else err.message)


INDONESIAN_STEMS = Path(__file__).parent / "models" / "indonesian_stems.txt"

# Only filters a stock distribution and the local node (es/) both provide: the stemmer_override
# rules mark their words as keywords, so Lucene's stemmer leaves those alone.
ANALYSIS: dict[str, Any] = {
    "filter": {
        "warta_indonesian_stop": {"type": "stop", "stopwords": "_indonesian_"},
        "warta_indonesian_roots": {
            "type": "stemmer_override",
            "rules": INDONESIAN_STEMS.read_text(encoding="utf-8").splitlines(),
        },
        "warta_indonesian_stemmer": {"type": "stemmer", "language": "indonesian"},
    },
    "analyzer": {
        "warta_indonesian": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": [
                "lowercase",
                "warta_indonesian_stop",
                "warta_indonesian_roots",
                "warta_indonesian_stemmer",
            ],
        }
    },
}


def _text(max_keyword: int | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": {"type": "text", "analyzer": "warta_indonesian"},
        "en": {"type": "text", "analyzer": "english"},
    }
    if max_keyword:
        fields["keyword"] = {"type": "keyword", "ignore_above": max_keyword}
    return {"type": "text", "analyzer": "standard", "fields": fields}


_KEYWORD = {"type": "keyword", "ignore_above": 512}

# Bump when the mapping or analysis changes; `warta index status` then says a reindex is due.
MAPPING_VERSION = 5

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "_meta": {"warta_mapping_version": MAPPING_VERSION},
    "properties": {
        "title": _text(max_keyword=512),
        "body": _text(),
        "url": {"type": "keyword", "ignore_above": 2048},
        "domain": _KEYWORD,
        "story_id": _KEYWORD,
        "story_bands": {"type": "keyword"},  # LSH band keys of the MinHash sketch (finding story members)
        "minhash": {"type": "keyword", "index": False, "doc_values": False},  # the sketch, base64
        "source": _KEYWORD,
        "site_name": _KEYWORD,
        "image": {"type": "keyword", "ignore_above": 2048},
        "authors": _KEYWORD,
        "language": _KEYWORD,
        "published_at": {"type": "date"},
        "published_on": {"type": "date", "format": "strict_date"},  # a day read from the text
        "date_source": _KEYWORD,  # input | page | feed | text | first_seen
        "first_seen_at": {"type": "date"},
        # The time field of Kibana's data view, on every document: published_at, else the day
        # from the text, else first_seen_at (date_source says which).
        "timestamp": {"type": "date"},
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

# One shard (a news index stays small per version); one replica once the cluster has a second
# node to hold it, none on a single node (which would otherwise stay yellow forever).
SMALL_INDEX: dict[str, Any] = {"number_of_shards": 1, "auto_expand_replicas": "0-1"}
INDEX_SETTINGS: dict[str, Any] = {**SMALL_INDEX, "refresh_interval": "1s"}


class IndexLayoutError(RuntimeError):
    """The name is taken by something this code does not manage the way it expects."""


def write_alias(name: str) -> str:
    return f"{name}-write"


def _version_of(name: str, index: str) -> int | None:
    match = re.fullmatch(re.escape(name) + r"-v(\d+)", index)
    return int(match.group(1)) if match else None


def install_templates(client: Elasticsearch, name: str) -> None:
    """Component templates for settings and mappings, and the index template composing them.

    The index template matches ``<name>-v*``; its priority grows with the name's length so that,
    should ``news-v*`` also match ``news-v2-v1``, the more specific ``news-v2`` template wins.
    """
    client.cluster.put_component_template(
        name=f"{name}-settings", template={"settings": INDEX_SETTINGS}, meta={"managed_by": "warta"}
    )
    client.cluster.put_component_template(
        # The analysis sits with the mappings that name it: Elasticsearch checks each component
        # template on its own.
        name=f"{name}-mappings",
        template={"settings": {"analysis": ANALYSIS}, "mappings": MAPPINGS},
        meta={"managed_by": "warta"},
    )
    client.indices.put_index_template(
        name=name,
        index_patterns=[f"{name}-v*"],
        composed_of=[f"{name}-settings", f"{name}-mappings"],
        priority=100 + len(name),
        meta={"managed_by": "warta", "mapping_version": MAPPING_VERSION},
    )


def versions(client: Elasticsearch, name: str) -> list[str]:
    """The concrete versions of ``name`` (``<name>-vN``), oldest first."""
    found = client.indices.get(index=f"{name}-v*", allow_no_indices=True, expand_wildcards="open,closed")
    numbered = [(v, index) for index in found if (v := _version_of(name, index)) is not None]
    return [index for _v, index in sorted(numbered)]


def current_index(client: Elasticsearch, name: str) -> str | None:
    """The concrete index the read alias ``name`` points at (None if there is no such alias)."""
    if not client.indices.exists_alias(name=name):
        return None
    targets = list(client.indices.get_alias(name=name))
    if len(targets) != 1:
        raise IndexLayoutError(
            f"alias {name} points at {len(targets)} indices ({', '.join(targets)}); expected 1"
        )
    return targets[0]


def ensure_index(client: Elasticsearch, name: str) -> str:
    """Templates installed, and a versioned index behind the read and write aliases; returns it."""
    install_templates(client, name)
    current = current_index(client, name)
    if current is not None:
        if mapping_version(client, current) < MAPPING_VERSION:
            _add_new_fields(client, current)
        return current
    if client.indices.exists(index=name):
        raise IndexLayoutError(
            f"{name} is a concrete index, not an alias: run `warta reindex --index {name}` once to move "
            "it behind versioned indices and aliases"
        )
    existing = versions(client, name)
    new = f"{name}-v{(_version_of(name, existing[-1]) or 0) + 1 if existing else 1}"
    client.indices.create(index=new, aliases={name: {}, write_alias(name): {"is_write_index": True}})
    return new


def _add_new_fields(client: Elasticsearch, index: str) -> None:
    """Bring an older index up to the code's mapping in place when the change only adds fields
    (new fields apply to documents written from now on); anything else needs ``warta reindex``."""
    from elasticsearch import BadRequestError

    try:
        client.indices.put_mapping(
            index=index, properties=MAPPINGS["properties"], meta=MAPPINGS["_meta"], dynamic="strict"
        )
    except BadRequestError as err:
        raise IndexLayoutError(
            f"{index} has mapping version {mapping_version(client, index)} and the code "
            f"{MAPPING_VERSION}, and the change is more than new fields ({err.message}): run "
            "`warta reindex` to move to a new version"
        ) from err


def mapping_version(client: Elasticsearch, index: str) -> int:
    meta = client.indices.get_mapping(index=index)[index]["mappings"].get("_meta", {})
    return int(meta.get("warta_mapping_version", 1))


def drop(client: Elasticsearch, name: str) -> None:
    """Every version of ``name``, a legacy concrete index of that name, and the templates."""
    doomed = versions(client, name)
    if client.indices.exists(index=name) and not client.indices.exists_alias(name=name):
        doomed.append(name)
    if doomed:
        client.indices.delete(index=",".join(doomed))
    client.options(ignore_status=404).indices.delete_index_template(name=name)
    for part in ("settings", "mappings"):
        client.options(ignore_status=404).cluster.delete_component_template(name=f"{name}-{part}")


@contextmanager
def bulk_mode(client: Elasticsearch, index: str) -> Iterator[None]:
    """No periodic refreshes while a bulk load runs (each one costs a segment flush); the
    index's own refresh interval comes back afterwards, followed by one refresh.

    ``index`` may be an alias (of one index). The concrete index is resolved once, at the start,
    and its interval restored there: if a reindex moves the alias meanwhile, the old version gets
    its interval back too (the new one has its own from the templates)."""
    targets = list(client.indices.get_settings(index=index, name="index.number_of_shards"))
    if len(targets) != 1:
        raise IndexLayoutError(f"{index} resolves to {len(targets)} indices; bulk mode wants one")
    concrete = targets[0]
    current = client.indices.get_settings(index=concrete, name="index.refresh_interval").body
    # None when the index has no explicit interval (created outside the template): restoring
    # null puts Elasticsearch's default back.
    interval = current.get(concrete, {}).get("settings", {}).get("index", {}).get("refresh_interval")
    if interval == "-1":  # left behind by a load that died (node lost mid-load): not the index's own
        interval = INDEX_SETTINGS["refresh_interval"]
    client.indices.put_settings(index=concrete, settings={"index": {"refresh_interval": "-1"}})
    restore = {"index": {"refresh_interval": interval}}
    try:
        yield
    except BaseException:
        # Restore if the cluster answers; if it does not, the next load restores (see above), and
        # the error that stopped this load stays the one reported.
        with suppress(TransportError, ApiError):
            client.indices.put_settings(index=concrete, settings=restore)
        raise
    client.indices.put_settings(index=concrete, settings=restore)
    client.indices.refresh(index=f"{concrete},{index}")


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


# -- reindex ---------------------------------------------------------------------------------------

DERIVED_FIELDS = ("persons", "organisations", "locations", "domain", "timestamp")


def from_document(doc_id: str, source: dict[str, Any]) -> TaggedArticle:
    """The article a stored document was made from (derived fields dropped, recomputed on index)."""
    fields = {k: v for k, v in source.items() if k not in DERIVED_FIELDS}
    return TaggedArticle.model_validate({"id": doc_id, **fields})


@dataclass(slots=True)
class ReindexReport:
    name: str
    old: str
    new: str
    copied: int
    removed: list[str]  # old versions deleted (beyond keep_old)
    discarded: list[str]  # unfinished versions an interrupted reindex left behind
    seconds: float
    method: str = "scroll-and-bulk"  # or "_reindex": the cluster copied the documents itself


_WRITE_BLOCK = {"index": {"blocks": {"write": True}}}


def reindex(
    client: Elasticsearch,
    name: str,
    transform: Callable[[Iterable[TaggedArticle]], Iterable[TaggedArticle]] | None = None,
    keep_old: int = 1,
    chunk_size: int = 500,
) -> ReindexReport:
    """Build the next version of ``name`` from the current one and swap the aliases atomically.

    Safe against loads running at the same time and against interruption:
    - the current version is made read-only (a write block) for the copy, so nothing is written
      where the copy has already passed: a concurrent load's requests are refused with a block,
      which ``bulk_load`` waits out and then sends through the write alias, to the new version;
    - the copy is verified exactly (same count) before the swap, and the swap of read and write
      aliases is one ``_aliases`` call (a legacy concrete index called ``name`` is removed in it);
    - a version newer than the current one that no alias points at is what an interrupted reindex
      left: it is deleted first, never mistaken for a previous version; a write block left on the
      current version by that reindex is lifted by this one's swap.
    A failure before the swap deletes the new version and lifts the block: all is as it was.
    Retired versions stay read-only; ``keep_old`` of them are kept.

    The copy is the cluster's own ``_reindex`` where every node has the reindex module (any
    distribution; documents never leave the cluster) and no ``transform`` is asked for;
    otherwise documents are read with scroll and written with bulk (nodes without the module,
    such as the local ones, and ``transform``, which re-runs enrichment here).
    """
    started = time.monotonic()
    install_templates(client, name)
    old = current_index(client, name)
    legacy = old is None and client.indices.exists(index=name)
    if old is None and not legacy:
        raise IndexLayoutError(f"nothing to reindex: no alias or index called {name}")
    source_index = old or name
    existing = versions(client, name)
    current_version = _version_of(name, source_index) or 0
    discarded = [v for v in existing if (_version_of(name, v) or 0) > current_version]
    if discarded:
        client.indices.delete(index=",".join(discarded))
    existing = [v for v in existing if v not in discarded]
    new = f"{name}-v{(_version_of(name, existing[-1]) or 0) + 1 if existing else 1}"
    client.indices.put_settings(index=source_index, settings=_WRITE_BLOCK)
    try:
        client.indices.create(index=new)
        client.indices.refresh(index=source_index)
        expected = client.count(index=source_index)["count"]
        method = "_reindex" if transform is None and has_reindex(client) else "scroll-and-bulk"
        if method == "_reindex":
            copied = _server_copy(client, source_index, new, chunk_size)
        else:
            copied = _copy(client, source_index, new, transform, chunk_size)
        client.indices.refresh(index=new)
        got = client.count(index=new)["count"]
        if got != expected:
            raise IndexLayoutError(
                f"reindex of {name}: {new} has {got} documents, {source_index} has {expected}"
            )
        actions: list[dict[str, Any]] = [
            {"add": {"index": new, "alias": name}},
            {"add": {"index": new, "alias": write_alias(name), "is_write_index": True}},
        ]
        if legacy:
            actions.insert(0, {"remove_index": {"index": name}})
        else:
            actions[:0] = [
                {"remove": {"index": source_index, "alias": name}},
                {"remove": {"index": source_index, "alias": write_alias(name), "must_exist": False}},
            ]
        client.indices.update_aliases(actions=actions)
    except BaseException:
        with suppress(TransportError, ApiError):
            client.options(ignore_status=404).indices.delete(index=new)
            client.indices.put_settings(index=source_index, settings={"index": {"blocks": {"write": None}}})
        raise
    olds = [v for v in versions(client, name) if v != new]
    removed = olds[: max(0, len(olds) - keep_old)]
    if removed:
        client.indices.delete(index=",".join(removed))
    return ReindexReport(
        name,
        source_index,
        new,
        copied,
        removed,
        discarded,
        round(time.monotonic() - started, 2),
        method,
    )


def has_reindex(client: Elasticsearch) -> bool:
    """True if every node of the cluster has the reindex module (``_nodes/plugins``)."""
    nodes = client.nodes.info(metric="plugins")["nodes"].values()
    return bool(nodes) and all(
        any(module.get("name") == "reindex" for module in node.get("modules", [])) for node in nodes
    )


def _server_copy(client: Elasticsearch, source: str, target: str, chunk_size: int) -> int:
    """The cluster's ``_reindex``, waited for; any failed document fails the copy."""
    done = client.options(request_timeout=3600).reindex(
        source={"index": source, "size": chunk_size},
        dest={"index": target, "op_type": "create"},
        wait_for_completion=True,
        slices="auto",
    )
    if done.get("failures") or done.get("timed_out"):
        failures = done.get("failures") or [{"cause": "timed out"}]
        raise IndexLayoutError(
            f"{len(failures)} failures while the cluster copied {source} to {target}: {failures[0]}"
        )
    return int(done.get("created", 0)) + int(done.get("updated", 0))


def _copy(
    client: Elasticsearch,
    source: str,
    target: str,
    transform: Callable[[Iterable[TaggedArticle]], Iterable[TaggedArticle]] | None,
    chunk_size: int,
) -> int:
    hits = scan(client, index=source, query={"query": {"match_all": {}}}, size=chunk_size)
    articles: Iterable[TaggedArticle] = (from_document(h["_id"], h["_source"]) for h in hits)
    if transform is not None:
        articles = transform(articles)
    result = bulk_load(client, target, articles, chunk_size=chunk_size)
    if result.rejected:
        first = result.rejected[0]
        raise IndexLayoutError(
            f"{len(result.rejected)} documents refused while copying to {target}: {first.reason}"
        )
    return result.indexed
