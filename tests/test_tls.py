"""Elasticsearch over TLS: the client verifies the server against a private CA (WARTA_ES_CA_CERTS)
and the whole pipeline loads through it. The local node speaks plain HTTP (TLS in Elasticsearch
is part of its security module, which is not on Maven Central), so a real TLS terminator on
loopback, with a certificate from a throwaway CA (trustme), stands in front of the real node."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import trustme
from elastic_transport import TlsError
from elasticsearch import Elasticsearch

from pipeline.index import connect
from pipeline.run import run_all
from pipeline.settings import get_settings


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def tls_front(es_node: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(https URL, CA file) of a TLS terminator forwarding to the test node."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    upstream = urlsplit(es_node)
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
                client = context.wrap_socket(raw, server_side=True)
            except OSError:
                continue
            backend = socket.create_connection((upstream.hostname, upstream.port))
            threading.Thread(target=_pump, args=(client, backend), daemon=True).start()
            threading.Thread(target=_pump, args=(backend, client), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"https://127.0.0.1:{listener.getsockname()[1]}", ca_file
    stop.set()
    listener.close()


def test_the_pipeline_loads_over_verified_tls(
    tls_front: tuple[str, Path],
    seeds_dir: Path,
    index_name: str,
    es_client: Elasticsearch,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, ca_file = tls_front
    monkeypatch.setenv("WARTA_ES_URL", url)
    monkeypatch.setenv("WARTA_ES_CA_CERTS", str(ca_file))
    report = run_all([seeds_dir], tmp_path / "run", get_settings(), index_name=index_name, workers=1)
    assert report["reconciled"] and report["indexed"] == 9
    assert es_client.count(index=index_name)["count"] == 9  # the same node, seen over plain HTTP

    # Without the CA the client refuses the server's certificate.
    monkeypatch.delenv("WARTA_ES_CA_CERTS")
    untrusting = connect(get_settings().model_copy(update={"es_ca_certs": None}))
    with pytest.raises(TlsError) as refused:
        untrusting.options(max_retries=0).info()
    assert "CERTIFICATE_VERIFY_FAILED" in repr(refused.value)
    untrusting.close()
