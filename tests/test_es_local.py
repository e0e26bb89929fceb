"""The local node manager: health, status, and clear errors instead of hangs."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import es_local
from pipeline.settings import Settings


def test_running_node_is_reported_healthy(es_node: str) -> None:
    assert es_local.health(es_node) in ("green", "yellow")
    info = es_local.status(Settings(es_url=es_node))
    assert info["health"] in ("green", "yellow")
    # start() on a healthy URL is a no-op, not a second node.
    assert es_local.start(Settings(es_url=es_node)) is False


def test_missing_java_or_maven_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    settings = Settings(es_url="http://127.0.0.1:9", es_home=tmp_path / "es")
    with pytest.raises(es_local.LocalNodeError, match=r"java \(JDK 17\+\) and mvn \(Maven 3\) not found"):
        es_local.start(settings)


def test_remote_url_is_never_started(tmp_path: Path) -> None:
    settings = Settings(es_url="http://es.invalid:9200", es_home=tmp_path / "es")
    with pytest.raises(es_local.LocalNodeError, match="not local"):
        es_local.start(settings)


def test_stop_without_a_node_says_so(tmp_path: Path) -> None:
    assert es_local.stop(Settings(es_url="http://127.0.0.1:9", es_home=tmp_path / "es")) is False
