"""Elasticsearch with security switched on, for real: Elastic's 8.x distribution with X-Pack
security (es_local's secured node), TLS from a CA made for this node by elasticsearch-certutil,
basic auth, API keys, and a role with only the privileges Warta needs.

The node runs on WARTA_TEST_ES_SECURE_URL (default https://127.0.0.1:9252) with the version
WARTA_TEST_ES8_VERSION (default 8.19.21); a fresh data folder each test run.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from elastic_transport import TlsError
from elasticsearch import AuthorizationException, Elasticsearch
from pydantic import SecretStr
from typer.testing import CliRunner

from pipeline import es_local
from pipeline.cli import app
from pipeline.index import AccessDenied, connect, drop, least_privilege_role
from pipeline.run import run_all
from pipeline.settings import Settings, get_settings

SECURE_URL = os.environ.get("WARTA_TEST_ES_SECURE_URL", "https://127.0.0.1:9252")
ES8_VERSION = os.environ.get("WARTA_TEST_ES8_VERSION", "8.19.21")
ADMIN_PASSWORD = f"admin-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def admin() -> Iterator[Settings]:
    """Settings of the secured node's administrator (a file-realm superuser)."""
    settings = get_settings().model_copy(
        update={
            "es_url": SECURE_URL,
            "es_local_version": ES8_VERSION,
            "es_username": "warta_admin",
            "es_password": SecretStr(ADMIN_PASSWORD),
            "es_api_key": None,
            "es_ca_certs": None,
        }
    )
    shutil.rmtree(es_local.node_paths(settings).base, ignore_errors=True)  # a fresh node
    started = es_local.start(settings)
    settings = settings.model_copy(update={"es_ca_certs": es_local.ca_path(settings)})
    yield settings
    if started:
        es_local.stop(settings)


@pytest.fixture
def admin_client(admin: Settings) -> Iterator[Elasticsearch]:
    client = connect(admin)
    yield client
    client.close()


@pytest.fixture
def secure_index(admin_client: Elasticsearch) -> Iterator[str]:
    name = f"warta-sec-{uuid.uuid4().hex[:8]}"
    yield name
    drop(admin_client, name)
    for suffix in ("runs", "dead-letter", "fetch-state"):
        admin_client.options(ignore_status=404).indices.delete(index=f"{name}-{suffix}")


def _warta_settings(admin: Settings, index: str, **update: object) -> Settings:
    """Settings naming the test's own indices, so the role's patterns cover exactly them."""
    return admin.model_copy(
        update={
            "index": index,
            "runs_index": f"{index}-runs",
            "dead_letter_index": f"{index}-dead-letter",
            "fetch_state_index": f"{index}-fetch-state",
            **update,
        }
    )


def _api_key(
    client: Elasticsearch, settings: Settings, expiration: str | None = None
) -> tuple[SecretStr, str, str]:
    """An API key limited to Warta's role (the key's own role descriptor): (encoded key as
    WARTA_ES_API_KEY takes it, its id, its secret part)."""
    created = client.security.create_api_key(
        name=f"warta-{uuid.uuid4().hex[:6]}",
        role_descriptors={"warta": least_privilege_role(settings)},
        **({"expiration": expiration} if expiration else {}),
    )
    return SecretStr(created["encoded"]), created["id"], created["api_key"]


def _leftovers(client: Elasticsearch, index: str) -> list[str]:
    """Everything a run could have written for this index name: indices, aliases, templates."""
    found = list(client.indices.get(index=f"{index}*", ignore_unavailable=True, allow_no_indices=True))
    found += list(client.indices.get_alias(name=f"{index}*", ignore_unavailable=True) or {})
    templates = client.options(ignore_status=404).indices.get_index_template(name=f"{index}*")
    found += [t["name"] for t in templates.get("index_templates", [])]
    return found


def test_the_pipeline_loads_over_verified_tls_with_basic_auth(
    admin: Settings, admin_client: Elasticsearch, secure_index: str, seeds_dir: Path, tmp_path: Path
) -> None:
    settings = _warta_settings(admin, secure_index)
    report = run_all([seeds_dir], tmp_path / "run", settings, workers=1)
    assert report["reconciled"] and report["indexed"] == 9
    assert admin_client.count(index=secure_index)["count"] == 9
    assert admin_client.security.authenticate()["username"] == "warta_admin"

    # Without the CA the client refuses the server's certificate.
    untrusting = connect(settings.model_copy(update={"es_ca_certs": None}))
    with pytest.raises(TlsError) as refused:
        untrusting.options(max_retries=0).cluster.health()
    assert "CERTIFICATE_VERIFY_FAILED" in repr(refused.value)
    untrusting.close()


def test_an_api_key_with_only_wartas_role_runs_everything_and_nothing_more(
    admin: Settings, admin_client: Elasticsearch, secure_index: str, seeds_dir: Path, tmp_path: Path
) -> None:
    base = _warta_settings(admin, secure_index)
    # The role `warta es role` prints is one the cluster takes as it is.
    names = ("index", "runs_index", "dead_letter_index", "fetch_state_index")
    env = {f"WARTA_{name.upper()}": getattr(base, name) for name in names}
    role = json.loads(CliRunner().invoke(app, ["es", "role"], env=env).output)
    assert role == least_privilege_role(base)
    assert admin_client.security.put_role(name=f"warta-{secure_index}", **role)["role"]["created"]
    key, _id, _secret = _api_key(admin_client, base)
    settings = base.model_copy(update={"es_api_key": key, "es_username": None, "es_password": None})
    report = run_all([seeds_dir], tmp_path / "run", settings, workers=1)
    assert report["reconciled"] and report["indexed"] == 9 and report["skipped"] == 1
    # The ledger and the dead letters were written with the key's privileges too.
    admin_client.indices.refresh(index=f"{secure_index}-*")
    assert admin_client.count(index=settings.runs_index)["count"] == 1
    # A rerun: the same articles again, updated in place (reads of the index under the same key).
    again = run_all([seeds_dir], tmp_path / "rerun", settings, workers=1)
    assert again["reconciled"] and (again["created"], again["updated"]) == (0, 9)

    # Search and reindex (aliases, templates, versions) under the key.
    from pipeline.index import reindex

    client = connect(settings)
    try:
        assert client.count(index=secure_index)["count"] == 9
        moved = reindex(client, secure_index)
        assert moved.copied == 9 and moved.method == "scroll-and-bulk"  # no reindex module here
        # Nothing outside Warta's own indices.
        with pytest.raises(AuthorizationException):
            client.options(max_retries=0).indices.create(index=f"other-{uuid.uuid4().hex[:6]}")
        with pytest.raises(AuthorizationException):
            client.options(max_retries=0).security.get_user()
    finally:
        client.close()


@pytest.mark.parametrize("wrong", ["password", "expired key", "invalidated key"])
def test_refused_credentials_give_one_clear_error_and_nothing_written(
    wrong: str,
    admin: Settings,
    admin_client: Elasticsearch,
    secure_index: str,
    seeds_dir: Path,
    tmp_path: Path,
) -> None:
    base = _warta_settings(admin, secure_index)
    if wrong == "password":
        settings = base.model_copy(update={"es_password": SecretStr("not-the-password")})
    else:
        expiration = "1s" if wrong == "expired key" else None
        key, key_id, _secret = _api_key(admin_client, base, expiration)
        if wrong == "invalidated key":
            admin_client.security.invalidate_api_key(ids=[key_id])
        else:
            time.sleep(2)
        settings = base.model_copy(update={"es_api_key": key, "es_username": None, "es_password": None})
    with pytest.raises(AccessDenied) as refused:
        run_all([seeds_dir], tmp_path / "run", settings, workers=1)
    message = str(refused.value)
    assert "HTTP 401" in message and "Nothing was written" in message
    assert SECURE_URL in message
    for secret in ("not-the-password", ADMIN_PASSWORD):
        assert secret not in message
    if settings.es_api_key is not None:
        assert settings.es_api_key.get_secret_value() not in message
    assert _leftovers(admin_client, secure_index) == []
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").rglob("*.jsonl"))


def test_no_secret_in_logs_reports_or_the_run_ledger(
    admin: Settings,
    admin_client: Elasticsearch,
    secure_index: str,
    seeds_dir: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    base = _warta_settings(admin, secure_index)
    key, _key_id, key_secret = _api_key(admin_client, base)
    broken = tmp_path / "inputs" / "empty.txt"  # quarantined: a dead letter is written too
    broken.parent.mkdir()
    broken.write_text("", encoding="utf-8")
    caplog.set_level("DEBUG")
    for name, settings in {
        "basic": base,
        "key": base.model_copy(update={"es_api_key": key, "es_username": None, "es_password": None}),
    }.items():
        report = run_all([seeds_dir, broken], tmp_path / name, settings, workers=1)
        assert report["reconciled"] and report["quarantined"] == 1
    admin_client.indices.refresh(index=f"{secure_index}-*")
    ledger = admin_client.search(index=base.runs_index, size=10)["hits"]["hits"]
    letters = admin_client.search(index=base.dead_letter_index, size=10)["hits"]["hits"]
    assert len(ledger) == 2 and letters
    written = "\n".join(
        [
            caplog.text,
            *capfd.readouterr(),
            json.dumps(ledger),
            json.dumps(letters),
            *(p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()),
        ]
    )
    for secret in (ADMIN_PASSWORD, key.get_secret_value(), key_secret):
        assert secret not in written
    assert repr(base).count(ADMIN_PASSWORD) == 0  # SecretStr in the settings' repr


def test_a_dag_run_through_a_connection_with_an_api_key_keeps_it_secret(
    admin: Settings,
    admin_client: Elasticsearch,
    secure_index: str,
    seeds_dir: Path,
    airflow_db: Path,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The DAG reaches the secured node only through its Airflow Connection (an API key and the
    CA in its extra); the key is in no task log, XCom value, staging file, report or ledger."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk import DagRunState

    base = _warta_settings(admin, secure_index)
    key, _key_id, key_secret = _api_key(admin_client, base)
    extra = {"api_key": key.get_secret_value(), "ca_certs": str(admin.es_ca_certs)}
    port = int(SECURE_URL.rsplit(":", 1)[1])
    connection = {"conn_type": "elasticsearch", "host": "127.0.0.1", "port": port, "schema": "https"}
    monkeypatch.setenv("AIRFLOW_CONN_WARTA_ELASTICSEARCH", json.dumps(connection | {"extra": extra}))
    monkeypatch.setenv("WARTA_ES_URL", "http://127.0.0.1:9")  # only the Connection leads there
    for name in ("runs_index", "dead_letter_index", "fetch_state_index"):
        monkeypatch.setenv(f"WARTA_{name.upper()}", getattr(base, name))
    dag = DagBag(dag_folder=str(Path(__file__).parent.parent / "dags")).dags["news_ingest"]
    run = dag.test(run_conf={"paths": [str(seeds_dir)], "index": secure_index})
    assert run.state == DagRunState.SUCCESS, f"dag run ended {run.state}"
    assert admin_client.count(index=secure_index)["count"] == 9

    with sqlite3.connect(airflow_db / "airflow.db") as db:
        rows = [
            list(map(str, row)) for row in db.execute("SELECT * FROM xcom WHERE run_id = ?", (run.run_id,))
        ]
    assert len(rows) >= 5  # every task of this run returned something (paths and counts)
    xcoms = json.dumps(rows)
    admin_client.indices.refresh(index=base.runs_index)
    ledger = json.dumps(admin_client.search(index=base.runs_index)["hits"]["hits"])
    output = capfd.readouterr()
    staged = Path(os.environ["WARTA_STAGING_DIR"])
    files = [p for folder in (staged, airflow_db / "logs") for p in folder.rglob("*") if p.is_file()]
    for secret in (key.get_secret_value(), key_secret):
        assert secret not in xcoms and secret not in ledger
        assert secret not in output.out + output.err
        for path in files:
            assert secret not in path.read_text(errors="replace"), path


def test_the_distribution_answers_what_kibana_asks_at_startup(admin_client: Elasticsearch) -> None:
    """Kibana's first two calls (read in its source): the nodes' versions and addresses (its version
    check: same version as Kibana), and X-Pack info (its licensing plugin). The 8.x distribution
    has x-pack-core: it answers the first, and the build and license parts of the second; the
    features part, and the saved-object migrations that follow, need modules no local node has
    (es/README.md lists them)."""
    nodes = admin_client.nodes.info(
        filter_path=["nodes.*.version", "nodes.*.http.publish_address", "nodes.*.ip"]
    )["nodes"]
    (node,) = nodes.values()
    assert node["version"] == ES8_VERSION and node["ip"] == "127.0.0.1"
    assert node["http"]["publish_address"].endswith(SECURE_URL.rsplit(":", 1)[1])
    info = admin_client.xpack.info(categories="build,license")
    assert info["license"]["type"] == "basic" and info["license"]["status"] == "active"
    assert info["build"]["hash"]
