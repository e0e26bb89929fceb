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
