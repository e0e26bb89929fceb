"""Reindexing: the next version of an index built from the current one, verified, and both aliases
swapped in one atomic call."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from elasticsearch import (
    ApiError,
    Elasticsearch,
    TransportError,
)
from elasticsearch.helpers import scan

from pipeline.index.layout import (
    IndexLayoutError,
    current_index,
    install_templates,
    version_of,
    versions,
    write_alias,
)
from pipeline.index.load import bulk_load
from pipeline.records import TaggedArticle

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
    current_version = version_of(name, source_index) or 0
    discarded = [v for v in existing if (version_of(name, v) or 0) > current_version]
    if discarded:
        client.indices.delete(index=",".join(discarded))
    existing = [v for v in existing if v not in discarded]
    new = f"{name}-v{(version_of(name, existing[-1]) or 0) + 1 if existing else 1}"
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
