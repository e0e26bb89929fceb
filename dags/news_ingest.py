"""news_ingest: local article files -> clean -> entities -> Elasticsearch, nightly.

Thin wiring only: every task calls one step of ``pipeline.run`` and hands the next task file
paths, never article bodies. ``process`` is mapped over the run's batches, so workers (Local,
Celery or Kubernetes executors) process batches in parallel. Heavy imports happen inside tasks,
so the file parses in milliseconds.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import CronDataIntervalTimetable, Param, dag, get_current_context, task

DOC = """
### news_ingest
Reads the article files named in the `paths` param (default: the project's `seeds/`), cleans
them with trafilatura, tags people, organisations and places, and bulk-loads them into
Elasticsearch (`index` param, default `WARTA_INDEX`).

Each run stages its files under `WARTA_STAGING_DIR/news_ingest/<run_id>/`; `report.json` there
accounts for every input (indexed, duplicate, quarantined, skipped) and the `report` task fails
if the numbers do not reconcile. Documents have deterministic ids, so re-running a day is safe.
"""


def _run_dir() -> str:
    from pipeline.settings import get_settings
    from pipeline.staging import run_dir

    context = get_current_context()
    run_id = str(context["run_id"])
    return str(run_dir(get_settings().staging_dir / "news_ingest", run_id))


@dag(
    dag_id="news_ingest",
    # Nightly at 02:00 UTC, each run covering the previous full day (a real one-day interval).
    schedule=CronDataIntervalTimetable("0 2 * * *", timezone="UTC"),
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["warta", "ingest"],
    doc_md=DOC,
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
    },
    params={
        "paths": Param(
            [],
            type="array",
            items={"type": "string"},
            description="Files or folders to ingest; empty means WARTA_SEEDS_DIR.",
        ),
        "index": Param(None, type=["null", "string"], description="Target index; null means WARTA_INDEX."),
    },
)
def news_ingest() -> None:
    @task
    def read_sources() -> list[str]:
        """Every input file -> raw/<batch>.jsonl; returns one path per batch (for mapping)."""
        from pathlib import Path

        from pipeline.run import step_sources
        from pipeline.settings import PROJECT_ROOT, get_settings

        settings = get_settings()
        params = get_current_context()["params"]
        given = [Path(p) for p in params.get("paths") or []]
        paths = [p if p.is_absolute() else PROJECT_ROOT / p for p in given] or [settings.seeds_dir]
        folder = _run_dir()
        batches = step_sources(Path(folder), paths, settings.batch_size)
        print(f"sources {[str(p) for p in paths]}: {len(batches)} batches of <= {settings.batch_size}")
        return [f"{folder}/raw/{batch}.jsonl" for batch in batches]

    @task
    def process(batch_file: str) -> str:
        """Clean + tag one batch (the CPU-bound chain); one mapped task instance per batch."""
        from pathlib import Path

        from pipeline.run import step_process
        from pipeline.settings import get_settings

        batch = Path(batch_file)
        folder = batch.parent.parent
        print(f"batch {batch.stem}: {step_process(folder, batch.stem, get_settings())}")
        return str(folder)

    @task(max_active_tis_per_dag=1)
    def load(folders: list[str]) -> str:
        """Drop in-run duplicates across batches and bulk-load into Elasticsearch."""
        from pathlib import Path

        from pipeline.run import step_index
        from pipeline.settings import get_settings

        folder = _run_dir()
        assert all(f == folder for f in folders), "batches from another run"
        index_name = get_current_context()["params"].get("index")
        print(f"index: {step_index(Path(folder), get_settings(), index_name)}")
        return folder

    @task
    def report(folder: str) -> dict[str, Any]:
        """Reconcile and return the counts (not the rejection list) as this run's summary."""
        from pathlib import Path

        from pipeline.run import report as reconcile

        summary = reconcile(Path(folder))
        return {k: v for k, v in summary.items() if k != "rejections"} | {"folder": folder}

    report(load(process.expand(batch_file=read_sources())))


news_ingest()
