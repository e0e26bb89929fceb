"""The ``warta`` app and its command groups; every command starts by checking the settings."""

from __future__ import annotations

import typer
from rich.console import Console

from pipeline.settings import PROJECT_ROOT, SettingsError, get_settings

app = typer.Typer(
    help="Warta: news articles into an entity-tagged Elasticsearch index.", no_args_is_help=True
)
es_app = typer.Typer(
    help="The local Elasticsearch node (Maven and a JDK: 21+ for 9.x, 17+ for 8.x).", no_args_is_help=True
)
train_app = typer.Typer(help="Rebuild models.", no_args_is_help=True)
eval_app = typer.Typer(help="Measure stages on gold data.", no_args_is_help=True)
index_app = typer.Typer(help="The article index: versions and aliases.", no_args_is_help=True)
app.add_typer(index_app, name="index")
kibana_app = typer.Typer(
    help="Kibana saved objects: data view, saved search, dashboard.", no_args_is_help=True
)
app.add_typer(kibana_app, name="kibana")
KIBANA_FILE = PROJECT_ROOT / "kibana" / "warta.ndjson"
app.add_typer(es_app, name="es")
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")
deadletter_app = typer.Typer(
    help="Quarantined inputs (WARTA_DEAD_LETTER_INDEX): inspect and replay.", no_args_is_help=True
)
app.add_typer(deadletter_app, name="deadletter")
airflow_app = typer.Typer(
    help="Warta's Airflow on this machine, without Docker: nightly runs by Airflow's own scheduler.",
    no_args_is_help=True,
)
app.add_typer(airflow_app, name="airflow")

console = Console(stderr=True)


@app.callback()
def _settings_in_bounds() -> None:
    """Every command starts by checking the WARTA_* settings: one clear line, exit 2, if one is off."""
    try:
        get_settings()
    except SettingsError as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(2) from err
