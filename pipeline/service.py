"""Warta's Airflow as a service on one machine, without Docker: ``warta airflow prepare | start |
stop | status``.

``prepare`` is the one place that makes an Airflow ready for the ``news_ingest`` DAG, here and in
``docker-compose.yml``: the metadata database migrated, the ``warta_elasticsearch`` pool, the
``warta_elasticsearch`` Connection from the ``WARTA_ES_*`` settings (created, or updated when it
was made this way; a Connection the operator made is kept), the staging folder, and the Variable
``warta_prepared`` naming the pool. The DAG's first task reads that Variable and fails at once,
naming this command, when the Airflow it runs on was not prepared: a missing pool would otherwise
leave the run waiting forever (the scheduler only logs that it will not schedule tasks of a pool
that does not exist).

``start`` prepares, then runs the api-server, scheduler, dag-processor and triggerer (with the
CeleryExecutor, workers are started where they run: ``start_worker``, ``warta airflow start
--workers N``) as background processes, each in its own process group, with pid and log files in
``<AIRFLOW_HOME>/warta/``, and waits until the API reports a healthy scheduler. ``stop`` ends the
process groups it started (TERM, then KILL after a grace period), and ``status`` says which run.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from pipeline.settings import AIRFLOW_PREPARED_VARIABLE, PROJECT_ROOT, Settings

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
# Marks the Connection prepare() made, which it keeps in step with WARTA_ES_*; any other is the operator's.
CONNECTION_DESCRIPTION = "Elasticsearch for Warta, from the WARTA_ES_* settings (warta airflow prepare)"
STOP_GRACE_S = 30.0


class ServiceError(RuntimeError):
    """The Airflow service could not be prepared or started; the message says what to do."""


def airflow_env(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every Airflow process Warta starts: its home, the project's DAGs, the
    executor and database from the settings, the api-server on loopback. Variables already set
    (``AIRFLOW__...``) win: an operator's configuration is never overridden."""
    env = dict(os.environ if base is None else base)
    home = settings.airflow_home.resolve()
    database = (
        settings.airflow_database_url.get_secret_value()
        if settings.airflow_database_url
        else f"sqlite:///{home / 'airflow.db'}"
    )
    defaults = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": settings.airflow_executor,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url(settings)}/execution/",
        "AIRFLOW__API__HOST": settings.airflow_host,
        "AIRFLOW__API__PORT": str(settings.airflow_port),
        # A new DAG file or a changed one is picked up within seconds, not minutes.
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "WARTA_STAGING_DIR": str(settings.staging_dir.resolve()),
    }
    if settings.airflow_celery_broker_url:
        defaults["AIRFLOW__CELERY__BROKER_URL"] = settings.airflow_celery_broker_url.get_secret_value()
        defaults["AIRFLOW__CELERY__RESULT_BACKEND"] = "db+" + database
    for key, value in defaults.items():
        env.setdefault(key, value)
    return env


def api_url(settings: Settings) -> str:
    return f"http://{settings.airflow_host}:{settings.airflow_port}"


def _airflow(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "airflow", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise ServiceError(f"`airflow {' '.join(args)}` failed (exit {done.returncode}):\n{tail}")
    return done


@dataclass
class Prepared:
    home: Path
    pool: str
    slots: int
    connection: str  # "created" | "updated" | "kept (...)"
    staging_dir: Path


def prepare(settings: Settings, env: dict[str, str] | None = None) -> Prepared:
    """Everything the DAG needs from the Airflow it runs on; safe to run again."""
    env = env or airflow_env(settings)
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    Path(env["WARTA_STAGING_DIR"]).mkdir(parents=True, exist_ok=True)
    _airflow(env, "db", "migrate")
    spec = {
        "pool": settings.es_pool,
        "slots": settings.es_pool_slots,
        "conn_id": settings.es_conn_id,
        "variable": AIRFLOW_PREPARED_VARIABLE,
        "description": CONNECTION_DESCRIPTION,
        "connection": connection_fields(settings),
    }
    # Pool, Connection and Variable in one short Python process with Airflow's own models (three
    # `airflow` commands would each pay Airflow's import time).
    done = subprocess.run(
        [sys.executable, "-c", _PREPARE_IN_AIRFLOW],
        input=json.dumps(spec),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise ServiceError(f"preparing the pool and the Connection failed:\n{done.stderr.strip()[-2000:]}")
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    return Prepared(
        Path(env["AIRFLOW_HOME"]),
        settings.es_pool,
        settings.es_pool_slots,
        outcome["connection"],
        Path(env["WARTA_STAGING_DIR"]),
    )


def connection_fields(settings: Settings) -> dict[str, Any]:
    """The ``warta_elasticsearch`` Connection for the ``WARTA_ES_*`` settings, as
    ``settings.with_connection`` reads it back. Several nodes (a comma-separated ``WARTA_ES_URL``)
    go whole into ``host``, which that function takes as a full URL."""
    url = urlsplit(settings.es_url.split(",")[0])
    several = "," in settings.es_url
    return {
        "conn_type": "generic",
        "host": settings.es_url if several else url.hostname,
        "port": None if several else url.port or (443 if url.scheme == "https" else 9200),
        "schema": url.scheme,
        "login": settings.es_username,
        "password": settings.es_password.get_secret_value() if settings.es_password else None,
        "extra": json.dumps(
            {
                "scheme": url.scheme,
                "verify_certs": settings.es_verify_certs,
                **({"ca_certs": str(settings.es_ca_certs)} if settings.es_ca_certs else {}),
                **({"api_key": settings.es_api_key.get_secret_value()} if settings.es_api_key else {}),
            }
        ),
    }


_PREPARE_IN_AIRFLOW = """
import json, sys
from airflow.models import Connection, Pool, Variable
from airflow.utils.session import create_session

spec = json.load(sys.stdin)
Pool.create_or_update_pool(spec["pool"], spec["slots"], "Elasticsearch load (Warta)", include_deferred=False)
with create_session() as session:
    found = session.query(Connection).filter(Connection.conn_id == spec["conn_id"]).first()
    if found is None:
        outcome = "created"
    elif found.description == spec["description"]:
        session.delete(found)  # ours: follows the WARTA_ES_* settings
        session.flush()
        outcome = "updated"
    else:
        outcome = "kept (not made by warta airflow prepare)"
    if outcome != "kept (not made by warta airflow prepare)":
        conn = Connection(conn_id=spec["conn_id"], description=spec["description"], **spec["connection"])
        session.add(conn)
Variable.set(spec["variable"], json.dumps({"pools": [spec["pool"]]}))
print(json.dumps({"connection": outcome}))
"""


def _home(settings: Settings) -> Path:
    """The AIRFLOW_HOME the processes use (an AIRFLOW_HOME already set wins over the setting)."""
    return Path(airflow_env(settings)["AIRFLOW_HOME"])


def _state_dir(settings: Settings) -> Path:
    return _home(settings) / "warta"


def _pid_file(settings: Settings, component: str) -> Path:
    return _state_dir(settings) / f"{component}.pid"


def _alive(pid: int, component: str) -> bool:
    """Whether ``pid`` is still the Airflow ``component`` Warta started (not a reused pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    if component.startswith("worker:"):  # Celery retitles it: "[celeryd: worker-a@host:MainProcess] ..."
        return "celery" in cmdline and component.removeprefix("worker:") in cmdline
    # Airflow renames some of its processes ("airflow api_server -- host:...").
    return "airflow" in cmdline and (component in cmdline or component.replace("-", "_") in cmdline)


def _running(settings: Settings) -> dict[str, int]:
    """Component name -> pid of what Warta started and still runs (workers: ``worker:<name>``)."""
    found: dict[str, int] = {}
    state = _state_dir(settings)
    names = [*COMPONENTS, *(p.stem for p in sorted(state.glob("worker:*.pid")))] if state.exists() else []
    for name in names:
        path = _pid_file(settings, name)
        if path.exists():
            pid = int(path.read_text().strip() or 0)
            if pid and _alive(pid, name):
                found[name] = pid
    return found


def worker_hostname() -> str:
    """The host name task instances record (``[core] hostname_callable`` of workers Warta starts):
    the worker's name when several run on one machine, so each is told apart in the UI."""
    return os.environ.get("WARTA_WORKER_NAME") or socket.getfqdn()


def start_worker(settings: Settings, name: str, concurrency: int = 2) -> int:
    """One Celery worker in the background, named ``name`` (its hostname in task instances)."""
    env = airflow_env(settings) | {
        "WARTA_WORKER_NAME": name,
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "pipeline.service.worker_hostname",
    }
    component = f"worker:{name}"
    if component in _running(settings):
        return _running(settings)[component]
    return _spawn(
        settings,
        component,
        ["celery", "worker", "--celery-hostname", f"{name}@%h", "--concurrency", str(concurrency)],
        env,
    )


def _spawn(settings: Settings, component: str, args: list[str], env: dict[str, str]) -> int:
    state = _state_dir(settings)
    state.mkdir(parents=True, exist_ok=True)
    with (state / f"{component}.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "airflow", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stop() ends it and its children
        )
    _pid_file(settings, component).write_text(str(process.pid))
    return process.pid


def login(settings: Settings) -> tuple[str, str | None]:
    """The UI's user and password: SimpleAuthManager writes generated passwords to a file in
    AIRFLOW_HOME when the api-server first starts."""
    generated = _home(settings) / "simple_auth_manager_passwords.json.generated"
    try:
        passwords: dict[str, str] = json.loads(generated.read_text())
    except (OSError, ValueError):
        return "admin", None
    user = next(iter(passwords), "admin")
    return user, passwords.get(user)


def health(settings: Settings) -> dict[str, Any] | None:
    """The api-server's health report (metadatabase, scheduler, triggerer, dag processor)."""
    try:
        answer = httpx.get(f"{api_url(settings)}/api/v2/monitor/health", timeout=5)
        return dict(answer.json()) if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


def _healthy(report: dict[str, Any] | None, components: tuple[str, ...]) -> bool:
    if not report:
        return False
    keys = {"scheduler": "scheduler", "triggerer": "triggerer", "dag-processor": "dag_processor"}
    wanted = ["metadatabase", *(keys[c] for c in components if c in keys)]
    return all((report.get(key) or {}).get("status") == "healthy" for key in wanted)


def start(settings: Settings, components: tuple[str, ...] = COMPONENTS, timeout_s: float = 180) -> Prepared:
    """Prepare, then start each component not already running, and wait until it is healthy."""
    env = airflow_env(settings)
    prepared = prepare(settings, env)
    state = _state_dir(settings)
    running = _running(settings)
    for component in components:
        if component not in running:
            _spawn(settings, component, [component], env)
    deadline = time.monotonic() + timeout_s
    while not _healthy(health(settings), components):
        dead = [c for c in components if c not in _running(settings)]
        if dead:
            raise ServiceError(
                f"{', '.join(dead)} stopped while starting; see {state}/<component>.log "
                f"(e.g. {state / (dead[0] + '.log')})"
            )
        if time.monotonic() > deadline:
            raise ServiceError(f"Airflow did not report healthy within {timeout_s:.0f}s; see {state}/*.log")
        time.sleep(1)
    return prepared


def stop(settings: Settings) -> list[str]:
    """End the components Warta started (their whole process groups); returns their names."""
    running = _running(settings)
    for pid in running.values():
        with suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    while time.monotonic() < deadline and any(_group_alive(pid) for pid in running.values()):
        time.sleep(0.5)
    for pid in running.values():
        if _group_alive(pid):
            with suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
    for component in running:
        _pid_file(settings, component).unlink(missing_ok=True)
    return list(running)


def status(settings: Settings) -> dict[str, Any]:
    return {
        "url": api_url(settings),
        "home": str(_home(settings)),
        "running": _running(settings),
        "health": health(settings),
    }


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group still runs. Zombies do not count: a container's init may
    never reap the children an exited Airflow process leaves behind."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":  # fields: state, ppid, pgrp, ...
            return True
    return False
