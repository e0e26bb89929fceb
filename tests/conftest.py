"""Shared fixtures: one real Elasticsearch node per test run, a fresh index per test, and
an isolated Airflow home with a migrated metadata database.

The node listens on WARTA_TEST_ES_URL (default http://127.0.0.1:9250, so a developer's node on
9200 is left alone). If something already answers there it is used; otherwise the project's own
local node is started, and stopped again at the end of the run.
"""

from __future__ import annotations

import base64
import os
import tempfile
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from webserver import INTERVAL, PAGES, NewsSite, serve

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEST_ES_URL = os.environ.get("WARTA_TEST_ES_URL", "http://127.0.0.1:9250")

# Airflow reads its configuration at import time, so its home is set before anything imports it.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="warta-airflow-"))
os.environ.update(
    {
        "AIRFLOW_HOME": str(_AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}",
        # One key for every Airflow process of the test run, in-process or not, whichever home
        # wrote its airflow.cfg first: Variables and Connections are encrypted with it.
        "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "WARTA_ES_URL": TEST_ES_URL,
        "WARTA_STAGING_DIR": str(_AIRFLOW_HOME / "staging"),
    }
)


@pytest.fixture(scope="session")
def es_node() -> Iterator[str]:
    """The URL of a healthy, real Elasticsearch node."""
    from pipeline import es_local
    from pipeline.settings import get_settings

    settings = get_settings()
    started = es_local.start(settings)
    yield settings.es_url
    if started:
        es_local.stop(settings)


@pytest.fixture
def es_client(es_node: str):  # type: ignore[no-untyped-def]
    from pipeline.index import connect
    from pipeline.settings import get_settings

    client = connect(get_settings())
    yield client
    client.close()


@pytest.fixture
def index_name(es_client) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh index name for one test; its versions and templates are removed afterwards."""
    from pipeline.index import drop

    name = f"warta-test-{uuid.uuid4().hex[:10]}"
    yield name
    drop(es_client, name)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """The throwaway Airflow home prepared once per test run, as `warta airflow prepare` does:
    metadata database migrated, the Elasticsearch pool, the Connection, the marker Variable."""
    from pipeline import service
    from pipeline.settings import get_settings

    service.prepare(get_settings())
    return _AIRFLOW_HOME


@pytest.fixture
def settings(es_client):  # type: ignore[no-untyped-def]
    """The environment's settings with a dead-letter index of the test's own (removed afterwards)."""
    from pipeline.settings import get_settings

    name = f"warta-test-dl-{uuid.uuid4().hex[:8]}"
    yield get_settings().model_copy(update={"dead_letter_index": name})
    es_client.options(ignore_status=404).indices.delete(index=name)


@pytest.fixture
def site() -> Iterator[NewsSite]:
    """The loopback news site (tests/webserver.py), its pages dated inside webserver.INTERVAL."""
    news = NewsSite(dates={path: INTERVAL.start + timedelta(hours=6) for path in PAGES})
    server, _thread = serve(news)
    yield news
    server.shutdown()
    server.server_close()


@pytest.fixture
def web_env(monkeypatch: pytest.MonkeyPatch, index_name: str, es_client) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Fetch settings for the loopback site: loopback allowed explicitly, short timeouts and backoff,
    a fetch-state index of the test's own (returned, removed afterwards)."""
    state_index = f"{index_name}-state"
    for key, value in {
        "WARTA_FETCH_ALLOW_NETWORKS": '["127.0.0.1/32"]',
        "WARTA_FETCH_HOST_DELAY_S": "0",
        "WARTA_FETCH_BACKOFF_S": "0.2",
        "WARTA_FETCH_MAX_ATTEMPTS": "3",
        "WARTA_FETCH_MAX_REDIRECTS": "3",
        "WARTA_FETCH_TOTAL_TIMEOUT_S": "2",
        "WARTA_FETCH_MAX_BYTES": "1000000",
        "WARTA_FETCH_STATE_INDEX": state_index,
    }.items():
        monkeypatch.setenv(key, value)
    yield state_index
    es_client.options(ignore_status=404).indices.delete(index=state_index)


@pytest.fixture
def seeds_dir() -> Path:
    return PROJECT_ROOT / "seeds"
