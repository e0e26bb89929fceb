"""news_ingest: sources (local files, WARC, URL lists, feeds, sitemaps) -> fetch -> clean -> entities
-> Elasticsearch, nightly.

Thin wiring only: every task calls one step of ``pipeline.run`` and hands the next task names or
file paths, never article bodies. ``discover`` is mapped over sources, ``fetch`` over host groups
and ``process`` over batches, so more workers (Local, Celery or Kubernetes executors) mean more
throughput. Tasks that load Elasticsearch run in the ``warta_elasticsearch`` pool, which caps how
many hit the cluster at once. Heavy imports happen inside tasks, so the file parses in milliseconds.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import CronDataIntervalTimetable, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from pipeline.settings import AIRFLOW_PREPARED_VARIABLE as PREPARED_VARIABLE
from pipeline.settings import Settings, get_settings

# Caps Elasticsearch-heavy tasks across all runs; created by `warta airflow prepare`.
ES_POOL = get_settings().es_pool

DOC = """
### news_ingest
Ingests every source in the sources file (`sources_file` param, default `WARTA_SOURCES_FILE`,
the project's `sources.toml`), or only the local `paths` given as a param. Web sources are
fetched politely (robots.txt, per-host delays, retries) and incrementally: a run fetches pages
that are new, or dated inside its data interval; the fetch state lives in Elasticsearch.

Each run stages its files under `WARTA_STAGING_DIR/news_ingest/<run_id>/`; `report.json` there
accounts for every input (indexed, duplicate, quarantined, skipped, each with a reason) and the
`report` task fails if the numbers do not reconcile or a source failed. Documents have
deterministic ids, so re-running a day is safe.
"""


def _settings() -> Settings:
    """WARTA_* settings, with Elasticsearch (URL, credentials, TLS) from the Airflow Connection
    ``WARTA_ES_CONN_ID`` when one exists: secrets live in Airflow's store, not in the DAG."""
    from airflow.sdk import BaseHook

    from pipeline.settings import with_connection

    settings = get_settings()
    try:
        conn = BaseHook.get_connection(settings.es_conn_id)
    except Exception:  # no such connection (AirflowNotFoundException): the environment's settings
        return settings
    return with_connection(
        settings,
        host=conn.host,
        port=conn.port,
        schema=conn.schema,
        login=conn.login,
        password=conn.password,
        extra=conn.extra_dejson,
    )


def _require_prepared() -> None:
    """Fail at once, naming the fix, on an Airflow that `warta airflow prepare` has not made ready:
    without the pool the scheduler would leave the run's later tasks waiting forever."""
    from airflow.sdk import Variable

    prepared = Variable.get(PREPARED_VARIABLE, default=None, deserialize_json=True) or {}
    if ES_POOL not in prepared.get("pools", []):
        raise AirflowFailException(
            f"this Airflow is not prepared for Warta: the pool {ES_POOL!r} the Elasticsearch tasks "
            "run in may not exist, and without it they would wait forever. Run `warta airflow "
            f"prepare` (creates the pool, the Connection and the staging folder, and the Variable "
            f"{PREPARED_VARIABLE!r} this check reads) with this Airflow's environment."
        )


def _run_dir() -> str:
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
        "retries": get_settings().task_retries,
        "retry_delay": timedelta(seconds=get_settings().task_retry_delay_s),
        "retry_exponential_backoff": True,
    },
    params={
        "sources_file": Param(
            None,
            type=["null", "string"],
            description="Sources file (TOML/YAML) inside WARTA_INPUT_ROOTS; null means WARTA_SOURCES_FILE.",
        ),
        "paths": Param(
            [],
            type="array",
            items={"type": "string"},
            description="Local files or folders (inside WARTA_INPUT_ROOTS) to ingest, not the sources file.",
        ),
        "index": Param(None, type=["null", "string"], description="Target index; null means WARTA_INDEX."),
    },
)
def news_ingest() -> None:
    @task
    def plan_sources() -> list[str]:
        """Validate the sources and record them with the data interval; returns source names."""
        from pathlib import Path

        from pipeline.index import AccessDenied, check_access
        from pipeline.records import Interval
        from pipeline.run import step_plan_sources
        from pipeline.settings import PROJECT_ROOT, dag_input_roots
        from pipeline.sources_file import SourcesFileError
        from pipeline.trust import OutsideRoots, dag_sources

        _require_prepared()
        settings = _settings()
        context = get_current_context()
        params = context["params"]
        given = [Path(p) if Path(p).is_absolute() else PROJECT_ROOT / p for p in params.get("paths") or []]
        chosen = params.get("sources_file")
        # Whoever triggers a run reads only what the operator allowed (WARTA_INPUT_ROOTS). A path
        # outside it, or a sources file that cannot be used, fails at once: retrying cannot help.
        try:
            specs = dag_sources(
                Path(chosen) if chosen else None, given, settings.sources_file, dag_input_roots(settings)
            )
            check_access(settings)  # a wrong password or an expired key: fail before any work
        except (OutsideRoots, SourcesFileError, AccessDenied) as err:
            raise AirflowFailException(str(err)) from err
        start, end = context.get("data_interval_start"), context.get("data_interval_end")
        interval = Interval(start=start, end=end) if start and end and end > start else None
        names = step_plan_sources(Path(_run_dir()), specs, interval)
        print(f"sources {names}, data interval {interval}")
        return names

    @task
    def discover(source: str) -> list[str]:
        """One source: local files -> raw batches (returned); web sources -> candidate URLs."""
        from pathlib import Path

        from pipeline.run import step_discover

        folder = _run_dir()
        return [f"{folder}/raw/{b}.jsonl" for b in step_discover(Path(folder), source, _settings())]

    @task(pool=ES_POOL)
    def plan_fetch(discovered: list[list[str]]) -> list[str]:
        """New or changed pages of all web sources, grouped by host; one path per fetch batch."""
        from pathlib import Path

        from pipeline.run import step_plan_fetch

        folder = _run_dir()
        run_id = str(get_current_context()["run_id"])
        return [
            f"{folder}/fetch/{b}.jsonl" for b in step_plan_fetch(Path(folder), _settings(), run_id=run_id)
        ]

    @task
    def fetch(fetch_batch: str) -> list[str]:
        """Fetch one host group politely; returns the raw batches it wrote."""
        from pathlib import Path

        from pipeline.run import step_fetch

        batch = Path(fetch_batch)
        folder = batch.parent.parent
        return [f"{folder}/raw/{b}.jsonl" for b in step_fetch(folder, batch.stem, _settings())]

    @task(trigger_rule="none_failed")
    def batches(local: list[list[str]], fetched: list[list[str]] | None) -> list[str]:
        """All raw batches of the run, for mapping ``process`` (an empty fetch is skipped, not failed)."""
        return sorted(b for group in [*local, *(fetched or [])] for b in group)

    @task
    def process(batch_file: str) -> str:
        """Clean + tag one batch (the CPU-bound chain); one mapped task instance per batch."""
        from pathlib import Path

        from pipeline.run import step_process

        batch = Path(batch_file)
        folder = batch.parent.parent
        print(f"batch {batch.stem}: {step_process(folder, batch.stem, _settings())}")
        return str(folder)

    @task(pool=ES_POOL, max_active_tis_per_dag=1, trigger_rule="none_failed")
    def load(folders: list[str] | None) -> str:
        """Drop in-run duplicates, bulk-load into Elasticsearch, then record the fetch state."""
        from pathlib import Path

        from pipeline.run import step_index

        folder = _run_dir()
        assert all(f == folder for f in folders or []), "batches from another run"
        context = get_current_context()
        index_name = context["params"].get("index")
        print(f"index: {step_index(Path(folder), _settings(), index_name, str(context['run_id']))}")
        return folder

    @task
    def report(folder: str) -> dict[str, Any]:
        """Reconcile and return the counts (not the rejection list) as this run's summary."""
        from pathlib import Path

        from pipeline.run import ReconciliationError, SourcesFailedError
        from pipeline.run import report as reconcile

        run_id = str(get_current_context()["run_id"])
        try:
            summary = reconcile(Path(folder), _settings(), f"news_ingest/{run_id}")
        except (ReconciliationError, SourcesFailedError) as err:
            # The report and dead letters are written; a retry would only write them again.
            raise AirflowFailException(str(err)) from err
        return {k: v for k, v in summary.items() if k != "rejections"} | {"folder": folder}

    # At parse time a TaskFlow call takes the upstream task's XComArg where the function takes
    # its value; Airflow's typing declares the value, hence the ignores (arg-type only).
    local = discover.expand(source=plan_sources())
    fetched = fetch.expand(fetch_batch=plan_fetch(local))  # type: ignore[arg-type]
    report(load(process.expand(batch_file=batches(local, fetched))))  # type: ignore[arg-type]


news_ingest()
