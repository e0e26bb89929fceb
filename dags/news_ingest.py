"""news_ingest: local article files -> clean -> entities -> Elasticsearch, nightly.

Thin wiring only: every task calls one step of ``pipeline.run`` and hands the next task the
run's staging folder (a path), never article bodies. Heavy imports happen inside tasks, so
the file parses in milliseconds.
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
    def read_sources() -> str:
        """Every input file -> raw.jsonl (+ rejected.sources.jsonl)."""
        from pathlib import Path

        from pipeline.run import step_sources
        from pipeline.settings import PROJECT_ROOT, get_settings

        params = get_current_context()["params"]
        given = [Path(p) for p in params.get("paths") or []]
        paths = [p if p.is_absolute() else PROJECT_ROOT / p for p in given] or [get_settings().seeds_dir]
        folder = _run_dir()
        print(f"sources {[str(p) for p in paths]}: {step_sources(Path(folder), paths)}")
        return folder

    @task
    def clean(folder: str) -> str:
        from pathlib import Path

        from pipeline.run import step_clean
        from pipeline.settings import get_settings

        print(f"clean: {step_clean(Path(folder), get_settings())}")
        return folder

    @task
    def enrich(folder: str) -> str:
        from pathlib import Path

        from pipeline.run import step_enrich
        from pipeline.settings import get_settings

        print(f"dedup + enrich: {step_enrich(Path(folder), get_settings())}")
        return folder

    @task(max_active_tis_per_dag=1)
    def load(folder: str) -> str:
        from pathlib import Path

        from pipeline.run import step_index
        from pipeline.settings import get_settings

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

    report(load(enrich(clean(read_sources()))))


news_ingest()
