"""docker-compose.yml is valid for Docker Compose (the engine cannot run here; the file can be checked).

The check uses `docker compose` or `docker-compose` when the machine has one. Otherwise it runs
docker-compose 1.29.2 from PyPI in its own uv tool environment (the same version Debian ships as
`docker-compose`): its PyYAML 5.4.1 builds from source only with Cython < 3, hence the build
constraint file beside this test.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FROM_PYPI = "docker-compose==1.29.2"
BUILD_CONSTRAINTS = Path(__file__).with_name("compose-build-constraints.txt")


def _compose() -> list[str]:
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True, check=False).returncode == 0
    ):
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    if legacy:
        return [legacy]
    uv = shutil.which("uv")
    assert uv, "no `docker compose`, `docker-compose` or `uv` to check the compose file with"
    return [
        *(uv, "tool", "run"),
        *("--python", "3.11", "--build-constraints", str(BUILD_CONSTRAINTS)),
        *("--from", COMPOSE_FROM_PYPI, "docker-compose"),
    ]


def test_compose_config_is_valid() -> None:
    done = subprocess.run(
        [*_compose(), "-f", str(PROJECT_ROOT / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    assert {"elasticsearch", "kibana"} <= set(services)
    es_image = services["elasticsearch"]["image"].rsplit(":", 1)[1]
    kibana_image = services["kibana"]["image"].rsplit(":", 1)[1]
    assert es_image == kibana_image  # one version; which one: the test below
    importer = services["kibana-import"]
    assert "warta kibana import" in " ".join(importer["command"])
    assert importer["environment"]["WARTA_KIBANA_URL"] == "http://kibana:5601"
    assert importer["environment"]["WARTA_ES_URL"] == "http://elasticsearch:9200"
    airflow = [name for name in services if name.startswith("airflow")]
    assert airflow, "an Airflow service"
    for name in airflow:
        volumes = " ".join(str(v) for v in services[name].get("volumes", []))
        assert "/dags" in volumes, f"{name} mounts dags/"


def test_compose_runs_the_local_default_version_with_the_matching_kibana() -> None:
    """Elasticsearch and Kibana in compose are the version `warta es start` runs by default."""
    from pipeline.settings import Settings

    services = yaml.safe_load((Path(__file__).parent.parent / "docker-compose.yml").read_text())["services"]
    version = Settings.model_fields["es_local_version"].default
    assert services["elasticsearch"]["image"] == f"docker.elastic.co/elasticsearch/elasticsearch:{version}"
    assert services["kibana"]["image"] == f"docker.elastic.co/kibana/kibana:{version}"
