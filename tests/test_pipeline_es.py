"""The whole path against the real Elasticsearch node: ingest, search, re-run, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from pipeline import deadletter
from pipeline.index import MAPPING_VERSION, drop, ensure_index
from pipeline.run import run_all
from pipeline.search import SearchFilters, search
from pipeline.settings import get_settings

SEED_FILE = "000_42c65bd1df09fd07.txt"


def _expected_articles(folder: Path) -> int:
    """Inputs that should become documents: .txt/.html files and JSON lines (not SOURCES.md)."""
    count = 0
    for path in folder.iterdir():
        if path.suffix in (".txt", ".html"):
            count += 1
        elif path.suffix == ".jsonl":
            count += sum(1 for line in path.read_text().splitlines() if line.strip())
    return count


@pytest.fixture
def ingested(seeds_dir: Path, index_name: str, tmp_path: Path) -> dict[str, object]:
    return run_all([seeds_dir], tmp_path / "run1", get_settings(), index_name=index_name)


@pytest.mark.es_api
def test_seeds_are_indexed_and_reconciled(
    ingested: dict[str, object], es_client: Elasticsearch, index_name: str, seeds_dir: Path
) -> None:
    expected = _expected_articles(seeds_dir)
    assert ingested["reconciled"] is True
    assert ingested["indexed"] == ingested["created"] == expected
    assert ingested["skipped"] == 1  # SOURCES.md
    assert es_client.count(index=index_name)["count"] == expected
    ((concrete, found),) = es_client.indices.get_mapping(index=index_name).items()
    assert concrete == f"{index_name}-v1"  # the name is an alias of the first version
    mapping = found["mappings"]
    assert mapping["properties"]["published_at"]["type"] == "date"
    assert mapping["properties"]["body"]["fields"]["id"]["analyzer"] == "warta_indonesian"
    assert mapping["properties"]["persons"]["type"] == "keyword"
    # Refreshes are off during the bulk load and back afterwards.
    settings = es_client.indices.get_settings(index=index_name)[concrete]["settings"]["index"]
    assert settings["refresh_interval"] == "1s"


@pytest.mark.es_api
def test_inflected_indonesian_form_finds_the_seed(
    ingested: dict[str, object], es_client: Elasticsearch, index_name: str
) -> None:
    # "dibicarakan" does not occur in the seed; only its stem "bicara" (from "pembicaraan") does.
    plain = es_client.search(index=index_name, query={"match": {"body": "dibicarakan"}})
    assert plain["hits"]["total"]["value"] == 0
    result = search(es_client, index_name, "dibicarakan")
    seed = [h for h in result.hits if h.title.startswith("Diplomat Rusia dan AS Bertemu")]
    assert len(seed) == 1
    assert any("«pembicaraan»" in s.lower() or "«membicarakan»" in s.lower() for s in seed[0].highlights)
    assert all(h.language == "id" for h in result.hits)


def test_entity_filters_return_only_tagged_articles(
    ingested: dict[str, object], es_client: Elasticsearch, index_name: str
) -> None:
    by_person = search(es_client, index_name, "", SearchFilters(persons=("Vladimir Putin",)))
    by_place = search(es_client, index_name, "", SearchFilters(locations=("Istanbul",)))
    for result in (by_person, by_place):
        assert result.total >= 1
        assert any(h.title.startswith("Diplomat Rusia") for h in result.hits)
    assert all("Vladimir Putin" in h.persons for h in by_person.hits)
    assert all("Istanbul" in h.locations for h in by_place.hits)
    nobody = search(es_client, index_name, "", SearchFilters(persons=("Nobody Atall",)))
    assert nobody.total == 0
    english = search(es_client, index_name, "", SearchFilters(language="en"))
    assert english.total == 2 and all(h.language == "en" for h in english.hits)


def test_second_run_leaves_the_count_unchanged(
    ingested: dict[str, object],
    seeds_dir: Path,
    es_client: Elasticsearch,
    index_name: str,
    tmp_path: Path,
) -> None:
    before = es_client.count(index=index_name)["count"]
    again = run_all([seeds_dir], tmp_path / "run2", get_settings(), index_name=index_name)
    assert again["created"] == 0 and again["updated"] == before
    assert es_client.count(index=index_name)["count"] == before


def test_malformed_inputs_are_counted_not_fatal(
    seeds_dir: Path, tmp_path: Path, es_client: Elasticsearch, index_name: str
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / SEED_FILE).write_bytes((seeds_dir / SEED_FILE).read_bytes())
    (inbox / "copy-of-seed.txt").write_bytes((seeds_dir / SEED_FILE).read_bytes())
    (inbox / "broken.jsonl").write_text('{"title": "x", "text": \n')
    (inbox / "empty.html").write_bytes(b"")
    (inbox / "image.html").write_bytes(b"\x00\x01\x02binary")
    report = run_all([inbox], tmp_path / "run", get_settings(), index_name=index_name)
    assert report["reconciled"] is True
    assert (report["inputs"], report["indexed"], report["duplicates"], report["quarantined"]) == (
        5,
        1,
        1,
        3,
    )
    reasons = {Path(r["input_id"]).name: r["reason"] for r in report["rejections"]}
    assert reasons["broken.jsonl:1"].startswith("invalid JSON")
    assert reasons["empty.html"] == "empty file"
    assert reasons["copy-of-seed.txt"].startswith("same article as")
    saved = json.loads((tmp_path / "run" / "report.json").read_text())
    assert saved["quarantined"] == 3
    assert es_client.count(index=index_name)["count"] == 1


@pytest.mark.es_api
def test_documents_elasticsearch_rejects_are_reported(
    seeds_dir: Path, tmp_path: Path, es_client: Elasticsearch, index_name: str
) -> None:
    # An index whose mapping disagrees with Warta's (published_at as a boolean): every document
    # carrying a date is refused by Elasticsearch and must come back as a quarantine record.
    # It claims the current mapping version, so the load does not try to upgrade it first.
    es_client.indices.create(
        index=f"{index_name}-v1",
        mappings={
            "_meta": {"warta_mapping_version": MAPPING_VERSION},
            "properties": {"published_at": {"type": "boolean"}},
        },
        aliases={index_name: {}, f"{index_name}-write": {"is_write_index": True}},
    )
    ensure_index(es_client, index_name)  # keeps the existing index, as in production
    report = run_all([seeds_dir], tmp_path / "run", get_settings(), index_name=index_name)
    refused = [r for r in report["rejections"] if r["stage"] == "index"]
    assert refused and all("Elasticsearch rejected the document (400" in r["reason"] for r in refused)
    assert report["reconciled"] is True
    assert report["indexed"] + len(refused) == _expected_articles(seeds_dir)
    assert es_client.count(index=index_name)["count"] == report["indexed"]
    # Each refused document is a dead letter that keeps its raw input for a replay.
    letters = deadletter.search(
        es_client,
        get_settings().dead_letter_index,
        ids=[deadletter.letter_id(r["input_id"]) for r in refused],
    )
    assert len(letters) == len(refused)
    assert all(letter.stage == "index" and letter.raw_kept for letter in letters)


def test_parallel_batches_give_the_same_index_as_one_process(
    seeds_dir: Path,
    tmp_path: Path,
    es_client: Elasticsearch,
    index_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WARTA_BATCH_SIZE", "2")
    settings = get_settings()
    serial = run_all([seeds_dir], tmp_path / "serial", settings, index_name=f"{index_name}-a", workers=1)
    parallel = run_all([seeds_dir], tmp_path / "parallel", settings, index_name=f"{index_name}-b", workers=2)
    try:
        sources_info = json.loads((tmp_path / "parallel" / "counts" / "files-seeds.json").read_text())
        assert len(sources_info["batches"]) == 5 and sources_info["articles"] == 9
        keys = ("inputs", "indexed", "duplicates", "quarantined", "skipped")
        assert {k: serial[k] for k in keys} == {k: parallel[k] for k in keys}

        def docs(name: str) -> dict[str, object]:
            # The clock's fields differ between two runs: when cleaned, when first seen, and the
            # time field of articles dated by nothing else.
            hits = es_client.search(index=name, size=100, query={"match_all": {}})["hits"]["hits"]
            clock = {"ingested_at", "first_seen_at"}
            return {
                h["_id"]: {
                    k: v
                    for k, v in h["_source"].items()
                    if k not in clock
                    and not (k == "timestamp" and h["_source"]["date_source"] == "first_seen")
                }
                for h in hits
            }

        assert docs(f"{index_name}-a") == docs(f"{index_name}-b")
    finally:
        drop(es_client, f"{index_name}-a")
        drop(es_client, f"{index_name}-b")


@pytest.mark.es_api
def test_indices_whose_names_share_a_prefix_both_get_templates(
    es_client: Elasticsearch, index_name: str
) -> None:
    longer = f"{index_name}0"
    try:
        ensure_index(es_client, index_name)
        ensure_index(es_client, longer)  # a wildcard template for the first would collide here
        for name in (index_name, longer):
            (found,) = es_client.indices.get_mapping(index=name).values()
            assert found["mappings"]["properties"]["body"]["fields"]["id"]["analyzer"] == "warta_indonesian"
    finally:
        drop(es_client, longer)


def test_a_run_repeated_in_the_same_folder_leaves_nothing_stale(
    seeds_dir: Path, index_name: str, tmp_path: Path
) -> None:
    """An Airflow run cleared and re-run writes into the same folder: only its own files count."""
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "note.txt").write_text("Judul\n" + "Isi berita yang cukup panjang untuk lolos. " * 10)
    folder = tmp_path / "run"
    first = run_all([seeds_dir, extra], folder, get_settings(), index_name=index_name)
    second = run_all([seeds_dir], folder, get_settings(), index_name=index_name)
    assert first["inputs"] == second["inputs"] + 1
    assert second["reconciled"] and second["sources"] == {"seeds": "ok"}
    assert not list((folder / "raw").glob("files-extra-*"))


@pytest.mark.es_api
def test_every_run_is_recorded_in_the_ledger_and_a_bad_one_fails_loudly(
    seeds_dir: Path,
    index_name: str,
    es_client: Elasticsearch,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipeline.run import ReconciliationError, report

    monkeypatch.setenv("WARTA_RUNS_INDEX", f"{index_name}-runs")
    try:
        summary = run_all([seeds_dir], tmp_path / "run", get_settings(), index_name=index_name)
        entry = es_client.get(index=f"{index_name}-runs", id="run")["_source"]
        assert {k: entry[k] for k in ("inputs", "indexed", "skipped", "reconciled")} == {
            k: summary[k] for k in ("inputs", "indexed", "skipped", "reconciled")
        }
        assert entry["sources"] == [{"name": "seeds", "status": "ok", "reason": ""}]
        assert entry["by_stage"] == {"sources": {"skipped": 1}}
        assert set(entry["step_seconds"]) == {"plan_sources", "discover", "plan_fetch", "process", "index"}
        assert entry["step_seconds"]["process"] > 0 and entry["duration_s"] >= entry["step_seconds"]["index"]
        mapping = es_client.indices.get_mapping(index=f"{index_name}-runs")[f"{index_name}-runs"]["mappings"]
        assert mapping["properties"]["finished_at"]["type"] == "date"

        # An input goes missing from the books: the report fails, and the ledger says so.
        counts = tmp_path / "run" / "counts" / "files-seeds.json"
        counts.write_text(json.dumps(json.loads(counts.read_text()) | {"articles": 10}))
        with pytest.raises(ReconciliationError, match="11 inputs but 10 accounted for"):
            report(tmp_path / "run", get_settings())
        assert es_client.get(index=f"{index_name}-runs", id="run")["_source"]["reconciled"] is False
    finally:
        es_client.options(ignore_status=404).indices.delete(index=f"{index_name}-runs")
