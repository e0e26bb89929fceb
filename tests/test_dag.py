"""The news_ingest DAG: it parses cleanly and fast, and a real dag.test() run ingests the seeds."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DAG_FILE = PROJECT_ROOT / "dags" / "news_ingest.py"


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
    assert [t.task_id for t in dag.topological_sort()] == ["read_sources", "process", "load", "report"]


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
    airflow_db: Path,
    es_client: Elasticsearch,
    index_name: str,
    seeds_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow.sdk import DagRunState

    monkeypatch.setenv("WARTA_BATCH_SIZE", "4")  # 10 inputs -> 3 batches -> 3 mapped `process` tasks

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
