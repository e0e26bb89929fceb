"""All configuration in one place: defaults here, overridden by ``WARTA_*`` environment variables.

Secrets (API key, password) are ``SecretStr`` so they never print in reprs, logs or reports.
Inside Airflow, the Connection ``WARTA_ES_CONN_ID`` (``warta_elasticsearch``), when it exists,
supplies the Elasticsearch URL and credentials instead (``with_connection``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Development data beside the clone (../shared/data): training, evaluation and benchmarks only.
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
# The Airflow Variable `warta airflow prepare` writes and the DAG's first task checks.
AIRFLOW_PREPARED_VARIABLE = "warta_prepared"
INDOSUM_ARTICLES = SHARED_DATA / "corpus" / "indosum" / "articles.jsonl"
NER_CORPORA = SHARED_DATA / "ner"  # what `warta train ner` trains on


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WARTA_", extra="ignore")

    # Elasticsearch
    es_url: str = "http://127.0.0.1:9200"  # or several nodes of one cluster, comma-separated
    es_username: str | None = None
    es_password: SecretStr | None = None
    es_api_key: SecretStr | None = None
    es_timeout_s: Annotated[float, Field(gt=0)] = 30.0
    es_ca_certs: Path | None = None  # CA bundle for https:// clusters with a private CA
    es_verify_certs: bool = True
    es_conn_id: str = "warta_elasticsearch"  # Airflow Connection that overrides the es_* settings
    index: str = "warta-articles"  # the read alias; writes go to "<index>-write"
    runs_index: str = "warta-runs"  # the run ledger: one document per run, for Kibana
    dead_letter_index: str = "warta-dead-letter"  # quarantined inputs, to inspect and replay
    keep_old_indices: Annotated[int, Field(ge=0)] = (
        1  # versions kept after `warta reindex` swaps to a new one
    )

    # Kibana (saved-objects import)
    kibana_url: str = "http://127.0.0.1:5601"
    kibana_username: str | None = None
    kibana_password: SecretStr | None = None
    kibana_api_key: SecretStr | None = None

    # Local node started by `warta es start` (Java + Maven, see es/README.md). 9.x: a node built
    # from the server jars; 8.x: Elastic's distribution zip, with security for https:// URLs.
    es_local_version: str = "9.5.3"
    es_java_home: Path | None = None  # default: the oldest JDK the version runs on (21+ / 17+)
    es_home: Path = PROJECT_ROOT / ".warta" / "elasticsearch"
    es_heap: str = "1g"
    es_start_timeout_s: Annotated[float, Field(gt=0)] = 180.0

    # Pipeline
    staging_dir: Path = PROJECT_ROOT / ".warta" / "staging"
    ner_model: Path = Path(__file__).resolve().parent / "models" / "ner"
    batch_size: Annotated[int, Field(ge=1, le=100_000)] = (
        100  # articles per batch (one mapped task / one pool job each)
    )
    workers: Annotated[int, Field(ge=0, le=1024)] = 0  # processes for `warta ingest`; 0 = one per CPU core
    bulk_chunk_size: Annotated[int, Field(ge=1, le=100_000)] = 500
    bulk_max_retries: Annotated[int, Field(ge=0)] = 5  # per item answered 429
    bulk_retry_budget_s: Annotated[float, Field(ge=0)] = (
        300.0  # how long a load waits out an unreachable Elasticsearch
    )
    min_body_chars: Annotated[int, Field(ge=0)] = 200
    doc_time_budget_s: Annotated[float, Field(ge=0)] = (
        30.0  # cleaning one document; over it, the document is quarantined
    )
    sources_file: Path = PROJECT_ROOT / "sources.toml"  # what the DAG ingests (TOML or YAML)
    # The folders a DAG run may read local files from (its params and the sources file's paths;
    # see pipeline/trust.py). Empty: the project's seeds/ and the sources file's folder.
    input_roots: list[Path] = []

    # Fetching (see pipeline/fetch.py). Requests to one host are at least host_delay_s apart,
    # more when robots.txt asks for a longer Crawl-delay.
    fetch_user_agent: str = "WartaBot/0.1 (+https://github.com/warta-news/warta; news indexing)"
    fetch_robots_token: str = "WartaBot"  # the name robots.txt rules address
    fetch_connect_timeout_s: Annotated[float, Field(gt=0)] = 10.0
    fetch_read_timeout_s: Annotated[float, Field(gt=0)] = 20.0
    fetch_total_timeout_s: Annotated[float, Field(gt=0)] = (
        60.0  # a whole response, so a trickling server cannot hold a worker
    )
    fetch_max_bytes: Annotated[int, Field(ge=1)] = 10 * 1024 * 1024  # decompressed body
    fetch_max_redirects: Annotated[int, Field(ge=0, le=50)] = 5
    fetch_max_attempts: Annotated[int, Field(ge=1, le=50)] = 4  # per URL, for 429 / 5xx / connection errors
    fetch_backoff_s: Annotated[float, Field(ge=0)] = (
        1.0  # first retry wait; doubles each attempt (with jitter)
    )
    fetch_max_retry_after_s: Annotated[float, Field(ge=0)] = (
        300.0  # a longer Retry-After fails the URL instead of stalling
    )
    fetch_host_delay_s: Annotated[float, Field(ge=0)] = 1.0
    fetch_host_concurrency: Annotated[int, Field(ge=1, le=64)] = 1
    fetch_threads: Annotated[int, Field(ge=1, le=256)] = 8  # hosts fetched at once in one fetch batch
    # Private, loopback and link-local addresses are refused unless inside one of these networks.
    fetch_allow_networks: list[str] = []
    fetch_state_index: str = "warta-fetch-state"
    es_pool: str = "warta_elasticsearch"  # Airflow pool capping concurrent Elasticsearch-heavy tasks
    es_pool_slots: Annotated[int, Field(ge=1, le=1024)] = 2  # its size, set by `warta airflow prepare`
    task_retries: Annotated[int, Field(ge=0, le=20)] = 2  # each news_ingest task, after a failure
    task_retry_delay_s: Annotated[float, Field(ge=0)] = 120.0  # first wait; doubles each retry

    # Airflow as a service (`warta airflow start`, pipeline/service.py); AIRFLOW__* variables win.
    airflow_home: Path = PROJECT_ROOT / ".warta" / "airflow"
    airflow_host: str = "127.0.0.1"  # the api-server (UI, REST and task execution API)
    airflow_port: Annotated[int, Field(ge=1, le=65535)] = 8080
    airflow_executor: str = "LocalExecutor"  # or CeleryExecutor (with a broker and PostgreSQL)
    airflow_database_url: SecretStr | None = None  # SQLAlchemy URL; default SQLite in airflow_home
    airflow_celery_broker_url: SecretStr | None = None  # e.g. redis://127.0.0.1:6379/0


def dag_input_roots(settings: Settings) -> list[Path]:
    """Where a DAG run may read local files: ``input_roots``, or by default ``seeds/`` and the
    sources file's folder."""
    return settings.input_roots or [PROJECT_ROOT / "seeds", settings.sources_file.parent]


def with_connection(
    settings: Settings,
    *,
    host: str | None,
    port: int | None = None,
    schema: str | None = None,
    login: str | None = None,
    password: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Settings:
    """The settings with Elasticsearch taken from an Airflow Connection's fields.

    ``host`` may be a full URL (``https://es.example.org:9243``) or a host name, then with ``port``
    (default 9200) and the scheme from ``extra["scheme"]`` or ``schema`` (default https).
    ``login``/``password`` give basic auth; ``extra`` may hold ``api_key``, ``ca_certs`` and
    ``verify_certs``. Secrets stay ``SecretStr``.
    """
    extra = extra or {}
    if not host:
        return settings
    if "://" in host:
        url = host.rstrip("/")
    else:
        scheme = extra.get("scheme") or (schema if schema in {"http", "https"} else "https")
        url = f"{scheme}://{host}:{port or 9200}"
    update: dict[str, Any] = {"es_url": url}
    if login:
        update["es_username"] = login
    if password:
        update["es_password"] = SecretStr(password)
    if extra.get("api_key"):
        update["es_api_key"] = SecretStr(str(extra["api_key"]))
    if extra.get("ca_certs"):
        update["es_ca_certs"] = Path(str(extra["ca_certs"]))
    if "verify_certs" in extra:
        update["es_verify_certs"] = str(extra["verify_certs"]).lower() not in {"false", "0", "no"}
    return settings.model_copy(update=update)


class SettingsError(ValueError):
    """A setting is out of its bounds or malformed; the message names the variable."""


def get_settings() -> Settings:
    """Fresh settings from the current environment (cheap; not cached, so tests can override).
    SettingsError, naming each offending ``WARTA_*`` variable, when a value is out of bounds."""
    try:
        return Settings()
    except ValidationError as err:
        problems = [
            f"WARTA_{'_'.join(str(part) for part in e['loc']).upper()}: {e['msg']}"
            + (f" (got {e['input']!r})" if not isinstance(e.get("input"), dict) else "")
            for e in err.errors()
        ]
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
