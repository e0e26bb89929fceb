"""Faults a nightly run meets, each survived on the real node: Elasticsearch lost mid-load, a
process killed mid-batch, runs over the same and overlapping intervals."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from pipeline import es_local, index
from pipeline.records import Interval, TaggedArticle
from pipeline.run import run_all, run_sources, step_index, step_process, step_sources
from pipeline.settings import Settings, get_settings
from pipeline.staging import read_jsonl, write_jsonl

FRAGILE_URL = "http://127.0.0.1:9262"


@pytest.fixture
def fragile_node(es_node: str) -> Iterator[Settings]:
    """A second real node of our own, to stop and start during a test."""
    settings = get_settings().model_copy(update={"es_url": FRAGILE_URL, "bulk_retry_budget_s": 3.0})
    es_local.start(settings)
    yield settings
    es_local.stop(settings)
    shutil.rmtree(es_local.node_paths(settings).base, ignore_errors=True)


def _run_folder(seed_articles: list[TaggedArticle], folder: Path, total: int, batch: int = 2000) -> None:
    """A run folder as `process` leaves it: raw batch names and tagged batches of real articles
    repeated under new ids."""
    (folder / "raw").mkdir(parents=True)
    (folder / "tagged").mkdir()
    for start in range(0, total, batch):
        name = f"files-x-{start // batch:05d}"
        (folder / "raw" / f"{name}.jsonl").write_text("")
        copies = (
            seed_articles[i % len(seed_articles)].model_copy(
                update={"id": f"doc-{i:06d}", "input_id": f"in-{i}"}
            )
            for i in range(start, min(total, start + batch))
        )
        write_jsonl(folder / "tagged" / f"{name}.jsonl", copies)


def _indexing_total(client: Elasticsearch, name: str) -> int:
    stats = client.indices.stats(index=name, metric="indexing")["_all"]["primaries"]
    return int(stats["indexing"]["index_total"])


def test_elasticsearch_lost_mid_load_fails_cleanly_and_a_rerun_is_exact(
    fragile_node: Settings, seeds_dir: Path, tmp_path: Path
) -> None:
    settings = fragile_node
    seeded = tmp_path / "seeded"
    step_sources(seeded, [seeds_dir], settings)
    batches = sorted(p.stem for p in (seeded / "raw").glob("*.jsonl"))
    for batch in batches:
        step_process(seeded, batch, settings)
    articles = [a for b in batches for a in read_jsonl(seeded / "tagged" / f"{b}.jsonl", TaggedArticle)]
    total = 6_000
    folder = tmp_path / "run"
    _run_folder(articles, folder, total)
    name = "warta-fault-outage"
    client = index.connect(settings)
    index.ensure_index(client, name)

    failure: list[BaseException] = []

    def load() -> None:
        try:
            step_index(folder, settings, name)
        except BaseException as err:
            failure.append(err)

    loader = threading.Thread(target=load)
    loader.start()
    deadline = time.monotonic() + 120
    while _indexing_total(client, name) < 1500 and loader.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert loader.is_alive(), "the load finished before the outage could happen"
    es_local.stop(settings)  # the node goes away in the middle of the bulk load
    loader.join(timeout=180)
    assert failure and isinstance(failure[0], index.LoadError), failure
    assert "Re-run the load" in str(failure[0])
    assert not (folder / "index.json").exists()  # nothing claims the load finished

    es_local.start(settings)  # back; the task is re-run
    client = index.connect(settings)
    counts = step_index(folder, settings, name)
    assert counts["passed"] == total
    assert client.count(index=name)["count"] == total  # exact: nothing lost, nothing doubled
    concrete = index.current_index(client, name)
    refresh = client.indices.get_settings(index=name)[concrete]["settings"]["index"]["refresh_interval"]
    assert refresh == "1s"  # the interrupted load's "-1" did not stick
    client.close()


def test_a_process_killed_mid_batch_then_retried_equals_an_uninterrupted_run(
    seeds_dir: Path, tmp_path: Path, es_node: str
) -> None:
    settings = get_settings()
    calm, killed = tmp_path / "calm", tmp_path / "killed"
    for folder in (calm, killed):
        step_sources(folder, [seeds_dir], settings.model_copy(update={"batch_size": 100}))
    (batch,) = sorted(p.stem for p in (calm / "raw").glob("*.jsonl"))
    step_process(calm, batch, settings)

    code = (
        "import sys; from pathlib import Path; from pipeline.run import step_process;"
        "from pipeline.settings import get_settings;"
        "step_process(Path(sys.argv[1]), sys.argv[2], get_settings())"
    )
    worker = subprocess.Popen([sys.executable, "-c", code, str(killed), batch])
    time.sleep(4.0)  # inside the batch: model loaded, articles being cleaned and tagged
    assert worker.poll() is None, "the batch finished before it could be killed"
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert not (killed / "tagged" / f"{batch}.jsonl").exists()  # no half-written output left as done

    step_process(killed, batch, settings)  # the task's retry

    def content(folder: Path) -> list[dict[str, object]]:
        return [
            a.model_dump(exclude={"ingested_at"})
            for a in read_jsonl(folder / "tagged" / f"{batch}.jsonl", TaggedArticle)
        ]

    assert content(killed) == content(calm)


def test_same_and_overlapping_intervals_leave_no_duplicates(
    site,
    web_env: str,
    index_name: str,
    es_client: Elasticsearch,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    from webserver import INTERVAL

    from pipeline.sources_file import WebSource

    specs = [WebSource(name="feed", kind="feed", url=f"{site.base}/feed.xml")]
    shifted = Interval(start=INTERVAL.start + timedelta(hours=12), end=INTERVAL.end + timedelta(hours=12))
    reports = [
        run_sources(specs, tmp_path / f"run{n}", get_settings(), interval, index_name=index_name, workers=1)
        for n, interval in enumerate([INTERVAL, INTERVAL, shifted])
    ]
    assert [r["indexed"] for r in reports] == [2, 0, 0]
    assert all(r["reconciled"] for r in reports)
    es_client.indices.refresh(index=index_name)
    urls = [h["_source"]["url"] for h in es_client.search(index=index_name, size=50)["hits"]["hits"]]
    assert len(urls) == len(set(urls)) == 2
    assert json.loads((tmp_path / "run2" / "report.json").read_text())["skipped"] == 2


def test_elasticsearch_answering_429_is_retried_then_fails_loudly(
    es_node: str, seeds_dir: Path, tmp_path: Path
) -> None:
    """A node whose indexing-pressure limit is tiny answers every bulk with 429 (queue full): the
    loader backs off and retries, and when the budget is spent the load fails with the reason;
    nothing is reported as indexed."""
    settings = get_settings().model_copy(
        # One per-item retry (1 s) instead of five (31 s of backoff): the same path, sooner.
        update={"es_url": "http://127.0.0.1:9264", "bulk_retry_budget_s": 2.0, "bulk_max_retries": 1}
    )
    config = es_local.node_paths(settings).base / "home" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "elasticsearch.yml").write_text("indexing_pressure.memory.limit: 64b\n")
    es_local.start(settings)
    try:
        report = run_all(
            [seeds_dir], tmp_path / "ok", get_settings(), index_name="warta-fault-429", workers=1
        )
        folder = tmp_path / "run"
        step_sources(folder, [seeds_dir], settings)
        for batch in sorted(p.stem for p in (folder / "raw").glob("*.jsonl")):
            step_process(folder, batch, settings)
        with pytest.raises(index.LoadError, match="429"):
            step_index(folder, settings, "warta-fault-429")
        assert not (folder / "index.json").exists()
        client = index.connect(settings)
        assert client.count(index="warta-fault-429")["count"] == 0
        client.close()
        assert report["indexed"] == 9  # the same inputs load on a node with room
    finally:
        es_local.stop(settings)
        shutil.rmtree(es_local.node_paths(settings).base, ignore_errors=True)
        client = index.connect(get_settings())
        index.drop(client, "warta-fault-429")
        client.close()
