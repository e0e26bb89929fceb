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


def test_missing_maven_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    settings = Settings(es_url="http://127.0.0.1:9", es_home=tmp_path / "es")
    with pytest.raises(es_local.LocalNodeError, match=r"mvn \(Maven 3\) not found"):
        es_local.start(settings)


def test_a_jdk_too_old_for_the_line_is_a_clear_error(tmp_path: Path) -> None:
    """9.x needs Java 21+: a JDK 17 named for it is refused by name, before anything starts."""
    jdk17 = tmp_path / "jdk17"
    (jdk17 / "bin").mkdir(parents=True)
    for tool in ("java", "javac"):
        (jdk17 / "bin" / tool).write_text("")
    (jdk17 / "release").write_text('JAVA_VERSION="17.0.15"\n')
    settings = Settings(es_local_version="9.5.3", es_java_home=jdk17, es_home=tmp_path / "es")
    with pytest.raises(es_local.LocalNodeError, match=r"is not a JDK 21\+ \(Elasticsearch 9.5.3 needs one\)"):
        es_local.java_home(settings, settings.es_local_version)
    # The 8.x distribution runs on it.
    assert es_local.java_home(settings.model_copy(update={"es_local_version": "8.19.21"}), "8.19.21") == jdk17


def test_the_default_node_is_the_current_line(es_node: str) -> None:
    """The suite's node is the configured version (9.x unless WARTA_ES_LOCAL_VERSION says else),
    and the 8.x Python client talks to it (the compatibility header 9.x servers accept)."""
    from elasticsearch import __versionstr__

    from pipeline.index import connect
    from pipeline.settings import get_settings

    settings = get_settings()
    client = connect(settings)
    try:
        assert client.info()["version"]["number"] == settings.es_local_version
    finally:
        client.close()
    assert __versionstr__.startswith("8.")


def test_remote_url_is_never_started(tmp_path: Path) -> None:
    settings = Settings(es_url="http://es.invalid:9200", es_home=tmp_path / "es")
    with pytest.raises(es_local.LocalNodeError, match="not local"):
        es_local.start(settings)


def test_stop_without_a_node_says_so(tmp_path: Path) -> None:
    assert es_local.stop(Settings(es_url="http://127.0.0.1:9", es_home=tmp_path / "es")) is False


def test_the_distribution_unpacks_into_every_home(tmp_path: Path) -> None:
    """Each es_home gets its own unpacked 8.x distribution: nothing left by an earlier unpack
    (Maven's unpack markers once were) makes a later one skip the files and fail."""
    version = "8.19.21"
    settings = Settings(es_local_version=version)
    mvn, java = es_local._require_maven(), es_local.java_home(settings, version)
    for home in ("first", "second"):
        dist = es_local._distribution(
            settings.model_copy(update={"es_home": tmp_path / home}), mvn, java, version
        )
        assert dist == tmp_path / home / "dist" / version
        assert (dist / "bin" / "elasticsearch").is_file()
        assert sorted(p.name for p in (tmp_path / home / "dist").iterdir()) == [version]
