"""Versioned indices behind aliases, and reindexing with an atomic swap, on the real node."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from pipeline import index
from pipeline.records import TaggedArticle
from pipeline.run import run_all
from pipeline.settings import get_settings


def _seeded(seeds_dir: Path, name: str, tmp_path: Path) -> list[TaggedArticle]:
    run_all([seeds_dir], tmp_path / "run", get_settings(), index_name=name, workers=1)
    client = index.connect(get_settings())
    try:
        hits = client.search(index=name, size=100)["hits"]["hits"]
    finally:
        client.close()
    return [index.from_document(h["_id"], h["_source"]) for h in hits]


def _copies(articles: list[TaggedArticle], n: int) -> Iterator[TaggedArticle]:
    """n variants of real articles (new ids), to give a reindex something to chew on."""
    for i in range(n):
        a = articles[i % len(articles)]
        yield a.model_copy(
            update={"id": f"{a.id[:20]}-{i:06d}", "input_id": f"{a.input_id}#{i}", "url": None}
        )


def _aliases(es: Elasticsearch, name: str) -> dict[str, list[str]]:
    found = es.indices.get_alias(name=f"{name},{name}-write")
    return {
        alias: sorted(i for i, a in found.items() if alias in a["aliases"])
        for alias in (name, f"{name}-write")
    }


def test_reindex_swaps_atomically_while_searches_run(
    seeds_dir: Path, index_name: str, es_client: Elasticsearch, tmp_path: Path
) -> None:
    articles = _seeded(seeds_dir, index_name, tmp_path)
    index.bulk_load(es_client, index.write_alias(index_name), _copies(articles, 3000))
    es_client.indices.refresh(index=index_name)
    total = es_client.count(index=index_name)["count"]
    assert total == len(articles) + 3000

    seen: list[int] = []
    stop = threading.Event()

    def searcher() -> None:
        while not stop.is_set():
            seen.append(
                es_client.search(index=index_name, size=0, track_total_hits=True)["hits"]["total"]["value"]
            )

    thread = threading.Thread(target=searcher)
    thread.start()
    try:
        report = index.reindex(es_client, index_name, keep_old=1, chunk_size=250)
    finally:
        stop.set()
        thread.join()
    assert (report.old, report.new, report.copied) == (f"{index_name}-v1", f"{index_name}-v2", total)
    assert len(seen) > 5 and set(seen) == {total}, "a search saw an empty or half-built index"
    assert _aliases(es_client, index_name) == {index_name: [report.new], f"{index_name}-write": [report.new]}
    assert index.versions(es_client, index_name) == [f"{index_name}-v1", f"{index_name}-v2"]

    again = index.reindex(es_client, index_name, keep_old=0)
    assert again.removed == [f"{index_name}-v1", f"{index_name}-v2"]
    assert index.versions(es_client, index_name) == [f"{index_name}-v3"]
    assert es_client.count(index=index_name)["count"] == total


def test_reindex_re_enriches_and_catches_up_with_concurrent_writes(
    seeds_dir: Path, index_name: str, es_client: Elasticsearch, tmp_path: Path
) -> None:
    articles = _seeded(seeds_dir, index_name, tmp_path)
    late = articles[0].model_copy(
        update={
            "id": "late-arrival",
            "input_id": "late",
            "url": None,
            "ingested_at": datetime.now(UTC) + timedelta(1),
        }
    )
    calls: list[int] = []

    def retag(docs: Iterable[TaggedArticle]) -> Iterator[TaggedArticle]:
        for doc in docs:
            if not calls:  # a nightly load writes while the copy runs
                index.bulk_load(es_client, index.write_alias(index_name), [late])
            calls.append(1)
            yield doc.model_copy(update={"entities": []})  # a "new model" that finds nothing

    report = index.reindex(es_client, index_name, transform=retag)
    assert report.caught_up == 1
    assert es_client.count(index=index_name)["count"] == len(articles) + 1
    hits = es_client.search(index=index_name, query={"exists": {"field": "persons"}})["hits"]["total"][
        "value"
    ]
    assert hits == 0  # every document went through the transform (the late one too)


def test_failed_verification_leaves_the_old_version_in_place(
    seeds_dir: Path, index_name: str, es_client: Elasticsearch, tmp_path: Path
) -> None:
    articles = _seeded(seeds_dir, index_name, tmp_path)

    def lose_one(docs: Iterable[TaggedArticle]) -> Iterator[TaggedArticle]:
        yield from list(docs)[1:]

    with pytest.raises(index.IndexLayoutError, match=f"{index_name}-v2 has {len(articles) - 1} documents"):
        index.reindex(es_client, index_name, transform=lose_one)
    assert index.versions(es_client, index_name) == [f"{index_name}-v1"]
    assert _aliases(es_client, index_name)[index_name] == [f"{index_name}-v1"]


def test_a_legacy_concrete_index_moves_behind_aliases(
    seeds_dir: Path, index_name: str, es_client: Elasticsearch, tmp_path: Path
) -> None:
    articles = _seeded(seeds_dir, f"{index_name}-src", tmp_path)
    index.drop(es_client, f"{index_name}-src")
    es_client.indices.create(
        index=index_name, mappings={k: v for k, v in index.MAPPINGS.items() if k != "_meta"}
    )
    index.bulk_load(es_client, index_name, articles)
    with pytest.raises(index.IndexLayoutError, match="is a concrete index, not an alias"):
        index.ensure_index(es_client, index_name)
    report = index.reindex(es_client, index_name)
    assert (report.old, report.new) == (index_name, f"{index_name}-v1")
    assert index.current_index(es_client, index_name) == f"{index_name}-v1"
    assert index.mapping_version(es_client, f"{index_name}-v1") == index.MAPPING_VERSION
    assert es_client.count(index=index_name)["count"] == len(articles)


def test_new_fields_are_added_in_place_and_a_conflicting_change_asks_for_a_reindex(
    seeds_dir: Path, index_name: str, es_client: Elasticsearch, tmp_path: Path
) -> None:
    articles = _seeded(seeds_dir, f"{index_name}-src", tmp_path)
    index.drop(es_client, f"{index_name}-src")
    # An index written by the previous mapping version: no `image` field yet.
    older = {k: v for k, v in index.MAPPINGS["properties"].items() if k != "image"}
    es_client.indices.create(
        index=f"{index_name}-v1",
        mappings={"dynamic": "strict", "_meta": {"warta_mapping_version": 2}, "properties": older},
        aliases={index_name: {}, f"{index_name}-write": {"is_write_index": True}},
    )
    with_image = [a.model_copy(update={"image": "https://example.org/lead.jpg"}) for a in articles]
    assert index.ensure_index(es_client, index_name) == f"{index_name}-v1"  # no new version
    assert index.mapping_version(es_client, f"{index_name}-v1") == index.MAPPING_VERSION
    loaded = index.bulk_load(es_client, f"{index_name}-write", with_image)
    assert loaded.indexed == len(articles) and not loaded.rejected
    es_client.indices.refresh(index=index_name)
    assert es_client.count(index=index_name, query={"exists": {"field": "image"}})["count"] == len(articles)

    # A change that is not additive (here: a field whose type differs) cannot be applied in place.
    other = f"{index_name}-conflict"
    conflicting = {**older, "image": {"type": "date"}}
    es_client.indices.create(
        index=f"{other}-v1",
        mappings={"dynamic": "strict", "_meta": {"warta_mapping_version": 2}, "properties": conflicting},
        aliases={other: {}, f"{other}-write": {"is_write_index": True}},
    )
    try:
        with pytest.raises(index.IndexLayoutError, match="warta reindex"):
            index.ensure_index(es_client, other)
    finally:
        index.drop(es_client, other)
