"""Versioned indices behind aliases, and reindexing with an atomic swap, on the real node."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
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


@pytest.mark.es_api
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


def test_reindex_keeps_what_a_concurrent_load_writes(
    seeds_dir: Path, index_name: str, es_client: Elasticsearch, tmp_path: Path
) -> None:
    """A nightly load writes during the copy an article it cleaned before the reindex started (its
    ingested_at is older than anything in the index): it ends up in the new version, once."""
    articles = _seeded(seeds_dir, index_name, tmp_path)
    late = articles[0].model_copy(
        update={
            "id": "late-arrival",
            "input_id": "late",
            "url": None,
            "ingested_at": datetime(2020, 1, 1, tzinfo=UTC),
        }
    )
    loads: list[index.LoadResult] = []
    writer = threading.Thread(
        target=lambda: loads.append(index.bulk_load(es_client, index.write_alias(index_name), [late]))
    )

    def retag(docs: Iterable[TaggedArticle]) -> Iterator[TaggedArticle]:
        for doc in docs:
            if not writer.is_alive() and not loads:
                writer.start()  # the load starts once the copy is under way
                time.sleep(0.5)
            yield doc.model_copy(update={"entities": []})  # a "new model" that finds nothing

    report = index.reindex(es_client, index_name, transform=retag)
    writer.join(timeout=60)
    assert [load.indexed for load in loads] == [1]
    assert report.copied == len(articles)
    es_client.indices.refresh(index=index_name)
    assert es_client.count(index=index_name)["count"] == len(articles) + 1
    assert es_client.count(index=report.new, query={"ids": {"values": ["late-arrival"]}})["count"] == 1
    copied = es_client.search(
        index=index_name, query={"bool": {"must_not": {"ids": {"values": ["late-arrival"]}}}}, size=0
    )
    assert copied["hits"]["total"]["value"] == len(articles)
    hits = es_client.count(
        index=index_name,
        query={
            "bool": {
                "filter": {"exists": {"field": "persons"}},
                "must_not": {"ids": {"values": ["late-arrival"]}},
            }
        },
    )
    assert hits["count"] == 0  # every copied document went through the transform


def test_an_interrupted_reindex_is_garbage_never_the_previous_version(
    seeds_dir: Path, index_name: str, es_client: Elasticsearch, tmp_path: Path
) -> None:
    """What a reindex killed midway leaves (an unaliased newer version, half full, and the write
    block on the current one): the next reindex discards it and keeps the real previous version."""
    articles = _seeded(seeds_dir, index_name, tmp_path)
    first = index.reindex(es_client, index_name, keep_old=1)  # v1 -> v2, v1 kept
    es_client.indices.create(index=f"{index_name}-v3")  # the orphan of a killed reindex
    index.bulk_load(es_client, f"{index_name}-v3", articles[:2])
    es_client.indices.put_settings(index=first.new, settings={"index": {"blocks": {"write": True}}})
    report = index.reindex(es_client, index_name, keep_old=1)
    assert report.discarded == [f"{index_name}-v3"]
    assert (report.old, report.new) == (f"{index_name}-v2", f"{index_name}-v3")
    assert index.versions(es_client, index_name) == [f"{index_name}-v2", f"{index_name}-v3"]
    assert es_client.count(index=index_name)["count"] == len(articles)
    assert index.bulk_load(es_client, index.write_alias(index_name), articles[:1]).indexed == 1


def test_a_load_spanning_the_swap_restores_the_old_versions_refresh(
    seeds_dir: Path, index_name: str, es_client: Elasticsearch, tmp_path: Path
) -> None:
    _seeded(seeds_dir, index_name, tmp_path)
    old = index.current_index(es_client, index_name)
    with index.bulk_mode(es_client, index.write_alias(index_name)):
        report = index.reindex(es_client, index_name, keep_old=1)
    for version in (old, report.new):
        settings = es_client.indices.get_settings(index=version, name="index.refresh_interval")
        assert settings[version]["settings"]["index"]["refresh_interval"] == "1s", version


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


@pytest.mark.es_api
def test_a_legacy_concrete_index_moves_behind_aliases(
    seeds_dir: Path, index_name: str, es_client: Elasticsearch, tmp_path: Path
) -> None:
    articles = _seeded(seeds_dir, f"{index_name}-src", tmp_path)
    index.drop(es_client, f"{index_name}-src")
    es_client.indices.create(
        index=index_name,
        settings={"analysis": index.ANALYSIS},
        mappings={k: v for k, v in index.MAPPINGS.items() if k != "_meta"},
    )
    index.bulk_load(es_client, index_name, articles)
    with pytest.raises(index.IndexLayoutError, match="is a concrete index, not an alias"):
        index.ensure_index(es_client, index_name)
    report = index.reindex(es_client, index_name)
    assert (report.old, report.new) == (index_name, f"{index_name}-v1")
    assert index.current_index(es_client, index_name) == f"{index_name}-v1"
    assert index.mapping_version(es_client, f"{index_name}-v1") == index.MAPPING_VERSION
    assert es_client.count(index=index_name)["count"] == len(articles)


@pytest.mark.es_api
def test_new_fields_are_added_in_place_and_a_conflicting_change_asks_for_a_reindex(
    seeds_dir: Path, index_name: str, es_client: Elasticsearch, tmp_path: Path
) -> None:
    articles = _seeded(seeds_dir, f"{index_name}-src", tmp_path)
    index.drop(es_client, f"{index_name}-src")
    # An index written by the previous mapping version: no `image` field yet.
    older = {k: v for k, v in index.MAPPINGS["properties"].items() if k != "image"}
    es_client.indices.create(
        index=f"{index_name}-v1",
        settings={"analysis": index.ANALYSIS},
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
        settings={"analysis": index.ANALYSIS},
        mappings={"dynamic": "strict", "_meta": {"warta_mapping_version": 2}, "properties": conflicting},
        aliases={other: {}, f"{other}-write": {"is_write_index": True}},
    )
    try:
        with pytest.raises(index.IndexLayoutError, match="warta reindex"):
            index.ensure_index(es_client, other)
    finally:
        index.drop(es_client, other)


def test_an_index_with_the_older_indonesian_analysis_moves_to_the_new_one_by_reindex(
    seeds_dir: Path, index_name: str, es_client: Elasticsearch, tmp_path: Path
) -> None:
    articles = _seeded(seeds_dir, f"{index_name}-src", tmp_path)
    index.drop(es_client, f"{index_name}-src")
    # Mapping version 4: the .id sub-fields used Elasticsearch's rule-only `indonesian` analyzer.
    older = json.loads(json.dumps(index.MAPPINGS["properties"]).replace('"warta_indonesian"', '"indonesian"'))
    es_client.indices.create(
        index=f"{index_name}-v1",
        mappings={"dynamic": "strict", "_meta": {"warta_mapping_version": 4}, "properties": older},
        aliases={index_name: {}, f"{index_name}-write": {"is_write_index": True}},
    )
    index.bulk_load(es_client, f"{index_name}-write", articles)
    with pytest.raises(index.IndexLayoutError, match="warta reindex"):
        index.ensure_index(es_client, index_name)
    report = index.reindex(es_client, index_name)
    assert report.new == f"{index_name}-v2"
    (mapping,) = es_client.indices.get_mapping(index=index_name).values()
    assert mapping["mappings"]["properties"]["body"]["fields"]["id"]["analyzer"] == "warta_indonesian"
    assert es_client.count(index=index_name)["count"] == len(articles)
