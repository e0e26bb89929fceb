"""news_ingest on several workers: the CeleryExecutor with Redis as the broker and PostgreSQL as
Airflow's metadata database (Debian's servers, started here on loopback), two Celery workers with
their own names, and one of them SIGKILLed while it runs a batch."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from airflow_helpers import airflow_cli, free_port
from elasticsearch import Elasticsearch

from pipeline import service
from pipeline.settings import INDOSUM_ARTICLES, Settings, get_settings
from pipeline.staging import run_dir

ARTICLES = 14
BATCH_SIZE = 2  # 7 process batches
RUN_TIMEOUT_S = 600


def _wait_for_port(port: int, what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not listen on 127.0.0.1:{port} within {timeout_s}s")


@pytest.fixture
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed (Debian: apt-get install redis-server; .ci/run does it)"
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    assert found, "PostgreSQL is not installed (Debian: apt-get install postgresql; .ci/run does it)"
    return found[-1].parent


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on loopback. PostgreSQL refuses to run as root, so as root
    it runs as the `postgres` user Debian's package creates."""
    bindir = _postgres_bin()
    folder = Path(tempfile.mkdtemp(prefix="warta-pg-"))
    folder.chmod(0o755)
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", free_port()
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "airflow", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        [*as_user, str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(folder),
         "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for_port(port, "postgres")
        for _ in range(50):
            created = subprocess.run(
                [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "airflow", "airflow"],
                capture_output=True,
                text=True,
            )
            if created.returncode == 0:
                break
            time.sleep(0.2)
        assert created.returncode == 0, created.stderr
        yield f"postgresql+psycopg2://airflow@127.0.0.1:{port}/airflow"
    finally:
        # runuser does not pass signals on: pg_ctl stops the server itself (fast: no waiting).
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "stop", "-m", "fast"], check=False)
        server.wait(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def _sql(url: str, query: str, *args: Any) -> list[tuple[Any, ...]]:
    import psycopg2

    with psycopg2.connect(url.replace("postgresql+psycopg2", "postgresql")) as db, db.cursor() as cursor:
        cursor.execute(query, args)
        return list(cursor.fetchall())


@pytest.fixture
def celery_stack(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    redis_url: str,
    postgres_url: str,
    index_name: str,
    es_client: Elasticsearch,
) -> Iterator[tuple[Settings, str, Path]]:
    """Warta's Airflow with the CeleryExecutor and two named workers; an input of 14 articles."""
    articles = tmp_path / "input" / "articles.jsonl"
    articles.parent.mkdir()
    with INDOSUM_ARTICLES.open(encoding="utf-8") as source, articles.open("w", encoding="utf-8") as out:
        for line, _ in zip(source, range(ARTICLES), strict=False):
            record = json.loads(line)
            out.write(json.dumps({"url": record["url"], "text": record["text"], "language": "id"}) + "\n")
    home = tmp_path / "airflow"
    monkeypatch.delenv(
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", raising=False
    )  # the test run's own SQLite (conftest)
    for key, value in {
        "AIRFLOW_HOME": str(home),
        "WARTA_AIRFLOW_HOME": str(home),
        "WARTA_AIRFLOW_EXECUTOR": "CeleryExecutor",
        "WARTA_AIRFLOW_DATABASE_URL": postgres_url,
        "WARTA_AIRFLOW_CELERY_BROKER_URL": redis_url,
        "WARTA_AIRFLOW_PORT": str(free_port()),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        # A killed worker's task is noticed within seconds, and retried soon after.
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
        # A batch the killed worker had taken from the queue but not started comes back too.
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "30",
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "5",
        "WARTA_TASK_RETRY_DELAY_S": "2",
        "WARTA_BATCH_SIZE": str(BATCH_SIZE),
        "WARTA_INDEX": index_name,
        "WARTA_INPUT_ROOTS": json.dumps([str(articles.parent)]),
        "WARTA_STAGING_DIR": str(tmp_path / "staging"),
    }.items():
        monkeypatch.setenv(key, value)
    settings = get_settings()
    try:
        service.start(settings)
        service.start_worker(settings, "worker-a")
        service.start_worker(settings, "worker-b")
        yield settings, postgres_url, articles
    finally:
        service.stop(settings)


def test_batches_spread_over_two_workers_and_survive_one_killed(
    celery_stack: tuple[Settings, str, Path], es_client: Elasticsearch
) -> None:
    settings, db, articles = celery_stack
    now = datetime.now(UTC)
    night = now.replace(hour=2, minute=0, second=0, microsecond=0)
    night -= timedelta(days=1 if night <= now else 2)  # the latest complete night's start
    conf = json.dumps({"paths": [str(articles)], "index": settings.index})
    deadline = time.monotonic() + 120
    while (created := airflow_cli(
        settings, "backfill", "create", "--dag-id", "news_ingest", "--dag-run-conf", conf,
        "--from-date", night.isoformat(), "--to-date", night.isoformat(),
    )).returncode != 0:  # fmt: skip
        assert time.monotonic() < deadline, created.stdout + created.stderr
        time.sleep(3)
    unpaused = airflow_cli(settings, "dags", "unpause", "news_ingest")
    assert unpaused.returncode == 0, unpaused.stdout + unpaused.stderr

    # Once both workers have taken batches, SIGKILL one while it runs a batch.
    killed = None
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while killed is None and time.monotonic() < deadline:
        taken = _sql(
            db,
            "SELECT hostname, state FROM task_instance WHERE dag_id = 'news_ingest' AND task_id = 'process' "
            "AND state IN ('running', 'success') AND hostname IN ('worker-a', 'worker-b')",
        )
        running = sorted({host for host, state in taken if state == "running"})
        if running and len({host for host, _state in taken}) == 2:
            killed = running[0]
            pid = service.status(settings)["running"][f"worker:{killed}"]
            os.killpg(pid, signal.SIGKILL)
        time.sleep(0.3)
    assert killed, f"the two workers never both ran process batches: {taken}"
    killed_at = time.monotonic()

    while time.monotonic() < deadline:
        (state,) = _sql(db, "SELECT state FROM dag_run WHERE dag_id = 'news_ingest'")[0]
        if state in ("success", "failed"):
            break
        time.sleep(2)
    assert state == "success", _sql(
        db, "SELECT task_id, map_index, state, try_number, hostname FROM task_instance ORDER BY task_id"
    )
    recovered_s = time.monotonic() - killed_at

    # Every try of every batch: the current one, and earlier ones in Airflow's history table.
    tries = _sql(
        db,
        "SELECT map_index, try_number, hostname, state FROM task_instance "
        "WHERE dag_id = 'news_ingest' AND task_id = 'process' UNION ALL "
        "SELECT map_index, try_number, hostname, state FROM task_instance_history "
        "WHERE dag_id = 'news_ingest' AND task_id = 'process' ORDER BY 1, 2",
    )
    batches = {i for i, _try, _host, _state in tries}
    hosts = {host for _i, _try, host, _state in tries if host}
    interrupted = {i for i, _try, host, state in tries if host == killed and state != "success"}
    assert len(batches) == ARTICLES // BATCH_SIZE >= 6
    assert hosts == {"worker-a", "worker-b"}, tries  # batches ran on both workers
    assert interrupted, tries  # the killed worker's batch...
    for batch in interrupted:  # ...succeeded on the other worker
        assert any(i == batch and h != killed and s == "success" for i, _t, h, s in tries), tries

    # The index holds exactly what an uninterrupted run gives: every article once.
    (run_id,) = _sql(db, "SELECT run_id FROM dag_run WHERE dag_id = 'news_ingest'")[0]
    report = json.loads((run_dir(settings.staging_dir / "news_ingest", run_id) / "report.json").read_text())
    assert report["reconciled"] and report["inputs"] == report["indexed"] == ARTICLES, report
    es_client.indices.refresh(index=settings.index)
    urls = [h["_source"]["url"] for h in es_client.search(index=settings.index, size=100)["hits"]["hits"]]
    assert len(urls) == len(set(urls)) == ARTICLES
    print(
        f"process batches: {len(batches)}, run on {sorted(hosts)}; killed {killed} while it ran "
        f"{sorted(interrupted)}, finished on the other; run succeeded {recovered_s:.0f}s after the kill"
    )
