"""The news_ingest DAG: it parses cleanly and fast, and a real dag.test() run ingests the seeds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from elasticsearch import Elasticsearch

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DAG_FILE = PROJECT_ROOT / "dags" / "news_ingest.py"
SECRET = "s3cret-Warta-Pa55word"


def _dagbag():  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAG_FILE.parent))


def test_dag_imports_with_tags_and_retries() -> None:
    bag = _dagbag()
    assert bag.import_errors == {}
    dag = bag.dags["news_ingest"]
    assert "warta" in dag.tags
    assert dag.doc_md
    for task in dag.tasks:
        assert task.retries >= 2, task.task_id
    order = [t.task_id for t in dag.topological_sort()]
    assert order == [
        "plan_sources",
        "discover",
        "plan_fetch",
        "fetch",
        "batches",
        "process",
        "load",
        "report",
    ]
    assert dag.get_task("load").pool == dag.get_task("plan_fetch").pool == "warta_elasticsearch"


def test_dag_file_parses_fast_without_heavy_imports() -> None:
    code = (
        "import sys, time; t=time.perf_counter();"
        f"import runpy; runpy.run_path({str(DAG_FILE)!r});"
        "heavy=[m for m in ('spacy','trafilatura','elasticsearch','pipeline.enrich') if m in sys.modules];"
        "print(round(time.perf_counter()-t, 3), heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[1:] == ["[]"], f"DAG file imports heavy modules at parse time: {out[1:]}"


def test_dag_test_run_ingests_seeds_and_is_idempotent(
    capfd: pytest.CaptureFixture[str],
    airflow_db: Path,
    es_client: Elasticsearch,
    index_name: str,
    seeds_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow.sdk import DagRunState

    monkeypatch.setenv("WARTA_BATCH_SIZE", "4")  # 10 inputs -> 3 batches -> 3 mapped `process` tasks
    # Elasticsearch comes from an Airflow Connection (with a password); the environment's URL is
    # wrong on purpose, so the run only succeeds through the Connection.
    node = urlsplit(os.environ["WARTA_ES_URL"])
    connection = {"conn_type": "elasticsearch", "host": node.hostname, "port": node.port, "schema": "http"}
    monkeypatch.setenv(
        "AIRFLOW_CONN_WARTA_ELASTICSEARCH", json.dumps(connection | {"login": "warta", "password": SECRET})
    )
    monkeypatch.setenv("WARTA_ES_URL", "http://127.0.0.1:9")

    dag = _dagbag().dags["news_ingest"]
    conf = {"paths": [str(seeds_dir)], "index": index_name}
    started = time.monotonic()
    run = dag.test(logical_date=datetime(2025, 2, 27, tzinfo=UTC), run_conf=conf)
    assert run.state == DagRunState.SUCCESS, f"dag run ended {run.state}"
    mapped = [ti for ti in run.get_task_instances() if ti.task_id == "process"]
    assert sorted(ti.map_index for ti in mapped) == [0, 1, 2]
    # A real one-day data interval (not @daily's zero-length one in Airflow 3).
    assert (run.data_interval_end - run.data_interval_start).total_seconds() == 86400
    first = es_client.count(index=index_name)["count"]
    assert first >= 9
    # Same interval again: the same documents, no copies.
    run = dag.test(logical_date=datetime(2025, 2, 28, tzinfo=UTC), run_conf=conf)
    assert run.state == DagRunState.SUCCESS
    assert es_client.count(index=index_name)["count"] == first
    hits = es_client.search(index=index_name, query={"term": {"persons": "Vladimir Putin"}})["hits"]
    assert hits["total"]["value"] >= 1
    print(f"two dag.test() runs took {time.monotonic() - started:.1f}s")

    # The password never reaches logs, staging files, reports or the index.
    output = capfd.readouterr()
    assert SECRET not in output.out + output.err
    for folder in (Path(os.environ["WARTA_STAGING_DIR"]), airflow_db / "logs"):
        for path in (p for p in folder.rglob("*") if p.is_file()):
            assert SECRET not in path.read_text(errors="replace"), path
    assert es_client.search(index="*", q=f'"{SECRET}"')["hits"]["total"]["value"] == 0


def test_dag_fans_out_over_sources_and_fetches_a_real_feed(
    airflow_db: Path,
    es_client: Elasticsearch,
    index_name: str,
    seeds_dir: Path,
    site,  # type: ignore[no-untyped-def]
    web_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A sources file with a feed, a URL list and local files: discover is mapped per source,
    fetch per host group, and the data interval of the run decides what is fetched."""
    import json

    from airflow.sdk import DagRunState
    from webserver import INTERVAL, generated_article, write_warc

    from pipeline.staging import run_dir

    body = "Harga beras di pasar induk Cipinang naik dua persen pekan ini, kata pedagang. " * 4
    page = generated_article("Harga beras naik", body)
    write_warc(tmp_path / "crawl.warc.gz", [("https://berita.example.id/beras", "text/html", page)])
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        f"sources:\n"
        f"  - {{name: feed, kind: feed, url: '{site.base}/feed.xml'}}\n"
        f"  - {{name: list, kind: urls, urls: ['{site.base}/latin', '{site.base}/report.pdf']}}\n"
        f"  - {{name: seeds, kind: files, paths: ['{seeds_dir}']}}\n"
        f"  - {{name: archive, kind: warc, paths: [crawl.warc.gz], language: id}}\n"
    )
    # The operator allows this folder and the seeds (pipeline/trust.py).
    monkeypatch.setenv("WARTA_INPUT_ROOTS", json.dumps([str(tmp_path), str(seeds_dir)]))
    dag = _dagbag().dags["news_ingest"]
    run = dag.test(logical_date=INTERVAL.end, run_conf={"sources_file": str(sources), "index": index_name})
    assert run.state == DagRunState.SUCCESS, f"dag run ended {run.state}"
    assert (run.data_interval_start, run.data_interval_end) == (INTERVAL.start, INTERVAL.end)
    instances = run.get_task_instances()
    assert sorted(ti.map_index for ti in instances if ti.task_id == "discover") == [0, 1, 2, 3]
    assert [ti.map_index for ti in instances if ti.task_id == "fetch"] == [0]  # one host, one group
    docs = {h["_source"]["url"] for h in es_client.search(index=index_name, size=50)["hits"]["hits"]}
    assert {f"{site.base}/news/kabarislamia-kaum", f"{site.base}/news/sciencealert-europa"} <= docs
    assert {f"{site.base}/latin", "https://berita.example.id/beras"} <= docs
    folder = run_dir(Path(os.environ["WARTA_STAGING_DIR"]) / "news_ingest", run.run_id)
    report = json.loads((folder / "report.json").read_text())
    assert (
        report["reconciled"] and report["indexed"] == 9 + 3 + 1 == es_client.count(index=index_name)["count"]
    )
    assert report["sources"] == {"archive": "ok", "feed": "ok", "list": "ok", "seeds": "ok"}
    assert {
        "input_id": f"{site.base}/report.pdf",
        "stage": "fetch",
        "outcome": "skipped",
        "reason": "not HTML: application/pdf",
        "article_id": None,
        "source": "list",
    } in report["rejections"]


def test_a_run_on_an_unprepared_airflow_fails_at_once_naming_the_fix(
    airflow_db: Path, index_name: str, capfd: pytest.CaptureFixture[str]
) -> None:
    """Without `warta airflow prepare` (here: its marker Variable gone) the first task fails, with
    no retry, saying what to run: the scheduler would otherwise wait forever for a missing pool."""
    from airflow.models import Variable
    from airflow.sdk import DagRunState

    from pipeline.settings import AIRFLOW_PREPARED_VARIABLE

    marker = Variable.get(AIRFLOW_PREPARED_VARIABLE)
    Variable.delete(AIRFLOW_PREPARED_VARIABLE)
    try:
        run = (
            _dagbag()
            .dags["news_ingest"]
            .test(logical_date=datetime(2026, 11, 2, tzinfo=UTC), run_conf={"index": index_name})
        )
    finally:
        Variable.set(AIRFLOW_PREPARED_VARIABLE, marker)
    assert run.state == DagRunState.FAILED
    states = {ti.task_id: (ti.state, ti.try_number) for ti in run.get_task_instances()}
    assert states["plan_sources"] == ("failed", 1)
    assert states["load"][0] in ("upstream_failed", None)
    printed = capfd.readouterr()
    assert "warta airflow prepare" in printed.out + printed.err
