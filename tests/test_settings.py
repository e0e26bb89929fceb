"""Settings: environment overrides, Airflow Connection fields, secrets kept secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.index import connect
from pipeline.settings import Settings, with_connection


def test_connection_fields_become_elasticsearch_settings() -> None:
    base = Settings(es_url="http://127.0.0.1:9200")
    full = with_connection(
        base,
        host="es.example.org",
        port=9243,
        schema="https",
        login="warta",
        password="pw-123",
        extra={"ca_certs": "/etc/ssl/es-ca.pem", "verify_certs": "true"},
    )
    assert full.es_url == "https://es.example.org:9243" and full.es_username == "warta"
    assert full.es_password is not None and full.es_password.get_secret_value() == "pw-123"
    assert full.es_ca_certs == Path("/etc/ssl/es-ca.pem") and full.es_verify_certs is True
    assert "pw-123" not in repr(full) and "pw-123" not in str(full.model_dump())

    keyed = with_connection(base, host="https://cloud.example.io:443", extra={"api_key": "key-456"})
    assert keyed.es_url == "https://cloud.example.io:443" and keyed.es_api_key is not None
    assert "key-456" not in repr(keyed)
    assert with_connection(base, host=None) == base
    assert with_connection(base, host="es", schema="elasticsearch").es_url == "https://es:9200"


@pytest.mark.filterwarnings("ignore:Connecting to .* using TLS with verify_certs=False is insecure")
def test_client_gets_tls_and_auth_options() -> None:
    client = connect(
        with_connection(
            Settings(), host="es.example.org", login="u", password="p", extra={"verify_certs": False}
        )
    )
    node = client.transport.node_pool.all()[0]
    assert node.config.scheme == "https" and node.config.verify_certs is False
    assert client._headers["authorization"].startswith("Basic ")
    client.close()


@pytest.mark.parametrize(
    "es_url",
    ["http://127.0.0.1:9250", "https://es.example.org:9243", "http://10.0.0.1:9200,http://10.0.0.2:9200"],
)
def test_the_prepared_connection_reads_back_as_the_same_settings(es_url: str) -> None:
    """What `warta airflow prepare` writes into the Connection, the DAG's tasks read back whole:
    one node or several (comma-separated), credentials and CA included."""
    import json

    from pydantic import SecretStr

    from pipeline.service import connection_fields

    settings = Settings(
        es_url=es_url, es_username="warta", es_password=SecretStr("pw"), es_ca_certs=Path("/etc/ca.pem")
    )
    fields = connection_fields(settings)
    read = with_connection(
        Settings(),
        host=fields["host"],
        port=fields["port"],
        schema=fields["schema"],
        login=fields["login"],
        password=fields["password"],
        extra=json.loads(fields["extra"]),
    )
    assert read.es_url == es_url
    assert (read.es_username, read.es_password, read.es_ca_certs) == (
        "warta",
        SecretStr("pw"),
        Path("/etc/ca.pem"),
    )
