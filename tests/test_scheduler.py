"""news_ingest under Airflow's own scheduler, started as `warta airflow start` starts it
(api-server, scheduler, dag-processor, triggerer; LocalExecutor; the test run's SQLite metadata
database), backfilling three past nightly intervals over a loopback news site whose articles are
dated in each of them."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from airflow_helpers import airflow_cli, free_port
from elasticsearch import Elasticsearch
from webserver import NewsSite, serve

from pipeline import service
from pipeline.records import Interval
from pipeline.settings import Settings, get_settings
from pipeline.staging import run_dir


def _last_three_nights() -> list[Interval]:
    """The three latest complete nightly intervals (02:00 UTC to 02:00 UTC). The latest is the
    one the scheduler itself runs on unpausing a catchup=False DAG: the backfill creates it
    first, so the scheduler does not run it a second time."""
    now = datetime.now(UTC)
    end = now.replace(hour=2, minute=0, second=0, microsecond=0)
    if end > now:
        end -= timedelta(days=1)
    return [Interval(start=end - timedelta(days=n + 1), end=end - timedelta(days=n)) for n in (2, 1, 0)]


NIGHTS = _last_three_nights()
# Which night each article of the site is dated in (six hours into it).
NIGHT_OF = {
    "/news/kabarislamia-kaum": 0,
    "/news/sciencealert-europa": 0,
    "/news/spacereview-3834": 1,
    "/news/aljazeera-moonshot": 1,
    "/news/paradigmng-lawan": 2,
}
RUNS_TIMEOUT_S = 600


def _db() -> sqlite3.Connection:
    """Airflow's own metadata database (read only): the runs and task instances it recorded."""
    url = os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    return sqlite3.connect(f"file:{url.removeprefix('sqlite:///')}?mode=ro", uri=True)


def _runs() -> list[dict[str, Any]]:
    with _db() as db:
        rows = db.execute(
            "SELECT run_id, state, data_interval_start FROM dag_run "
            "WHERE dag_id = 'news_ingest' AND run_type = 'backfill' ORDER BY data_interval_start"
        ).fetchall()
    return [{"run_id": r[0], "state": r[1], "start": r[2]} for r in rows]


def _wait_for_runs(count: int, states: set[str] = frozenset({"success", "failed"})) -> list[dict[str, Any]]:  # type: ignore[assignment]
    deadline = time.monotonic() + RUNS_TIMEOUT_S
    while time.monotonic() < deadline:
        runs = _runs()
        if len(runs) == count and all(r["state"] in states for r in runs):
            return runs
        time.sleep(2)
    raise AssertionError(f"backfill runs did not finish in {RUNS_TIMEOUT_S}s: {_runs()}")


def _pool_peak(pool: str) -> int:
    """The most task instances of ``pool`` that ever ran at the same time (from their times)."""
    with _db() as db:
        spans = db.execute(
            "SELECT start_date, end_date FROM task_instance WHERE dag_id = 'news_ingest' AND pool = ? "
            "AND start_date IS NOT NULL AND end_date IS NOT NULL",
            (pool,),
        ).fetchall()
    events = sorted([(s, 1) for s, _e in spans] + [(e, -1) for _s, e in spans], key=lambda x: (x[0], x[1]))
    peak = running = 0
    for _at, step in events:
        running += step
        peak = max(peak, running)
    return peak


@pytest.fixture
def stack(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    airflow_db: Path,
    index_name: str,
    web_env: str,
) -> Iterator[tuple[Settings, NewsSite]]:
    """The loopback site, a sources file reading its feed, and Warta's Airflow started on loopback
    ports of its own; stopped afterwards."""
    site = NewsSite(dates={path: NIGHTS[n].start + timedelta(hours=6) for path, n in NIGHT_OF.items()})
    server, _thread = serve(site)
    sources = tmp_path / "sources.yaml"
    sources.write_text(f"sources:\n  - {{name: site, kind: feed, url: '{site.base}/all.xml'}}\n")
    for key, value in {
        "WARTA_AIRFLOW_PORT": str(free_port()),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "WARTA_SOURCES_FILE": str(sources),
        "WARTA_INPUT_ROOTS": json.dumps([str(tmp_path)]),
        "WARTA_INDEX": index_name,
    }.items():
        monkeypatch.setenv(key, value)
    settings = get_settings()
    try:
        service.start(settings)
        yield settings, site
    finally:
        service.stop(settings)
        server.shutdown()
        server.server_close()


def _indexed_urls(es: Elasticsearch, index: str, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    found = es.mget(index=index, ids=ids, source_includes=["url"])["docs"]
    return {d["_source"]["url"] for d in found if d.get("found")}


def test_three_nights_under_the_scheduler(stack: tuple[Settings, NewsSite], es_client: Elasticsearch) -> None:
    settings, site = stack
    started = time.monotonic()
    # The DAG file must have been parsed before a backfill can be created.
    deadline = time.monotonic() + 120
    while (created := airflow_cli(
        settings,
        "backfill", "create", "--dag-id", "news_ingest",
        "--from-date", NIGHTS[0].start.isoformat(), "--to-date", NIGHTS[-1].start.isoformat(),
        "--max-active-runs", "1",
    )).returncode != 0:  # fmt: skip
        assert time.monotonic() < deadline, created.stdout + created.stderr
        time.sleep(3)
    # A paused DAG runs nothing, backfills included.
    unpaused = airflow_cli(settings, "dags", "unpause", "news_ingest")
    assert unpaused.returncode == 0, unpaused.stdout + unpaused.stderr
    runs = _wait_for_runs(len(NIGHTS))
    backfilled_s = time.monotonic() - started
    assert [r["state"] for r in runs] == ["success"] * 3, runs

    reports = []
    for night, run in zip(NIGHTS, runs, strict=True):
        folder = run_dir(settings.staging_dir / "news_ingest", run["run_id"])
        report = json.loads((folder / "report.json").read_text())
        created_ids = (folder / "created-ids.txt").read_text().split()
        expected = {f"{site.base}{path}" for path, n in NIGHT_OF.items() if NIGHTS[n] == night}
        assert report["reconciled"] and report["indexed"] == report["created"] == len(expected), report
        assert _indexed_urls(es_client, settings.index, created_ids) == expected
        reports.append(report)
    es_client.indices.refresh(index=settings.index)
    assert es_client.count(index=settings.index)["count"] == len(NIGHT_OF)
    assert 1 <= _pool_peak(settings.es_pool) <= settings.es_pool_slots

    # Clear the middle night and let the scheduler run it again: no count changes.
    middle = runs[1]
    cleared = airflow_cli(
        settings, "tasks", "clear", "news_ingest", "--yes",
        "--start-date", NIGHTS[1].start.isoformat(), "--end-date", NIGHTS[1].start.isoformat(),
    )  # fmt: skip
    assert cleared.returncode == 0, cleared.stdout + cleared.stderr
    rerun_started = time.monotonic()
    deadline = time.monotonic() + RUNS_TIMEOUT_S
    while _runs()[1]["state"] != "running" and time.monotonic() - rerun_started < 60:
        time.sleep(1)
    runs = _wait_for_runs(len(NIGHTS))
    rerun_s = time.monotonic() - rerun_started
    assert runs[1]["run_id"] == middle["run_id"] and runs[1]["state"] == "success"
    again = json.loads(
        (run_dir(settings.staging_dir / "news_ingest", middle["run_id"]) / "report.json").read_text()
    )
    counted = ("inputs", "indexed", "created", "updated", "duplicates", "quarantined", "skipped")
    assert {k: again[k] for k in counted} == {k: reports[1][k] for k in counted}
    es_client.indices.refresh(index=settings.index)
    assert es_client.count(index=settings.index)["count"] == len(NIGHT_OF)
    assert _pool_peak(settings.es_pool) <= settings.es_pool_slots
    print(f"three nights backfilled in {backfilled_s:.0f}s; the cleared night ran again in {rerun_s:.0f}s")
