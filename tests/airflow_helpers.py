"""Helpers the tests that run Warta's Airflow as a service share (tests/test_scheduler.py,
tests/test_celery.py)."""

from __future__ import annotations

import socket
import subprocess
import sys

from pipeline import service
from pipeline.settings import Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def airflow_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """An `airflow` command against the Airflow `warta airflow start` runs (its home and database)."""
    return subprocess.run(
        [sys.executable, "-m", "airflow", *args],
        env=service.airflow_env(settings),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
