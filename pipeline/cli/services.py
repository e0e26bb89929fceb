"""Commands on the services Warta uses: the local Elasticsearch node, Kibana, Airflow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.app import (
    KIBANA_FILE,
    airflow_app,
    console,
    es_app,
    kibana_app,
)
from pipeline.settings import get_settings


@kibana_app.command("export")
def kibana_export(
    out: Annotated[Path, typer.Option(help="Where to write the NDJSON.")] = KIBANA_FILE,
    index: Annotated[str | None, typer.Option(help="Index name (default: WARTA_INDEX).")] = None,
) -> None:
    """Write the saved objects as NDJSON (for Kibana's Stack Management > Saved objects > Import)."""
    from pipeline.kibana import saved_objects, to_ndjson

    out.parent.mkdir(parents=True, exist_ok=True)
    settings = get_settings()
    out.write_text(
        to_ndjson(saved_objects(index or settings.index, settings.runs_index, settings.dead_letter_index)),
        encoding="utf-8",
    )
    typer.echo(f"written {out}")


@kibana_app.command("import")
def kibana_import(
    index: Annotated[str | None, typer.Option(help="Index name (default: WARTA_INDEX).")] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for Kibana to come up.")] = 300.0,
) -> None:
    """Import the saved objects into Kibana at WARTA_KIBANA_URL (overwriting older versions)."""
    from pipeline.kibana import KibanaError, import_saved_objects, saved_objects

    settings = get_settings()
    try:
        objects = saved_objects(index or settings.index, settings.runs_index, settings.dead_letter_index)
        answer = import_saved_objects(settings, objects, wait_s=wait)
    except KibanaError as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from err
    typer.echo(json.dumps({"imported": answer.get("successCount"), "kibana": settings.kibana_url}))


@airflow_app.command("prepare")
def airflow_prepare() -> None:
    """Metadata database, the Elasticsearch pool, the Connection, the staging folder (idempotent)."""
    from pipeline import service

    try:
        done = service.prepare(get_settings())
    except service.ServiceError as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from err
    settings = get_settings()
    typer.echo(
        f"prepared {done.home}: pool {done.pool} ({done.slots} slots), "
        f"Connection {settings.es_conn_id} {done.connection}, staging {done.staging_dir}"
    )


@airflow_app.command("start")
def airflow_start(
    workers: int = typer.Option(
        0, "--workers", min=0, help="Celery workers to start on this machine (CeleryExecutor)."
    ),
) -> None:
    """Prepare, then run the api-server, scheduler, dag-processor and triggerer in the background."""
    from pipeline import service

    settings = get_settings()
    try:
        service.start(settings)
        for number in range(1, workers + 1):
            service.start_worker(settings, f"worker-{number}")
    except service.ServiceError as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from err
    user, password = service.login(settings)
    secret = password or "see the api-server log"
    typer.echo(f"Airflow is running: {service.api_url(settings)} (login {user} / {secret})")
    typer.echo("news_ingest runs nightly once unpaused: uv run warta airflow cli dags unpause news_ingest")
    typer.echo(
        f"logs: {service.airflow_env(settings)['AIRFLOW_HOME']}/warta; stop with: uv run warta airflow stop"
    )


@airflow_app.command("cli", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def airflow_cli(ctx: typer.Context) -> None:
    """Any `airflow` command against Warta's Airflow (its home, database and DAGs), e.g.
    `warta airflow cli dags unpause news_ingest` or `... backfill create --dag-id news_ingest ...`."""
    import subprocess
    import sys

    from pipeline import service

    env = service.airflow_env(get_settings())
    done = subprocess.run([sys.executable, "-m", "airflow", *ctx.args], env=env, check=False)
    raise typer.Exit(done.returncode)


@airflow_app.command("stop")
def airflow_stop() -> None:
    """Stop the Airflow processes `warta airflow start` started."""
    from pipeline import service

    stopped = service.stop(get_settings())
    typer.echo(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@airflow_app.command("status")
def airflow_status() -> None:
    """Which components run, and what the api-server's health check says."""
    from pipeline import service

    report = service.status(get_settings())
    typer.echo(json.dumps(report, indent=2))
    if not report["running"]:
        raise typer.Exit(3)


@es_app.command("start")
def es_start() -> None:
    """Start a local node at WARTA_ES_URL unless one answers there already."""
    from pipeline import es_local

    settings = get_settings()
    try:
        started = es_local.start(settings)
    except es_local.LocalNodeError as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from err
    typer.echo(f"{'started' if started else 'already running'}: {settings.es_url}")
    if settings.es_url.startswith("https://") and settings.es_ca_certs is None:
        typer.echo(f"its CA certificate: export WARTA_ES_CA_CERTS={es_local.ca_path(settings)}")


@es_app.command("stop")
def es_stop() -> None:
    """Stop the local node this project started on WARTA_ES_URL's port."""
    from pipeline import es_local

    settings = get_settings()
    typer.echo("stopped" if es_local.stop(settings) else "no local node was running")


@es_app.command("status")
def es_status() -> None:
    """Health of WARTA_ES_URL and the local node's pid, as JSON; exit 1 if nothing answers."""
    from pipeline import es_local

    info = es_local.status(get_settings())
    typer.echo(json.dumps(info))
    if info["health"] is None:
        raise typer.Exit(1)


@es_app.command("role")
def es_role() -> None:
    """The least-privilege role Warta needs on a secured cluster, as JSON: the body for
    `PUT _security/role/warta`, or an API key's role descriptor (docs/reliability-and-security.md)."""
    from pipeline.index import least_privilege_role

    typer.echo(json.dumps(least_privilege_role(get_settings()), indent=2))
