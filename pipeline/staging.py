"""Staging files: each run has a folder, each stage writes JSON lines there.

Stages hand each other file paths, never article bodies (that is what travels through XCom).
Writes go to a temporary name and are renamed into place, so a retried task never sees a
half-written file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


def run_dir(staging_root: Path, run_id: str) -> Path:
    """The folder for one run (run ids from Airflow contain ':' and '+', made path-safe)."""
    path = staging_root / _UNSAFE.sub("_", run_id)
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_jsonl(path: Path, records: Iterable[BaseModel]) -> int:
    """Write records atomically; returns how many were written."""
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    with tmp.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(record.model_dump_json())
            handle.write("\n")
            count += 1
    os.replace(tmp, path)
    return count


def read_jsonl(path: Path, model: type[M]) -> Iterator[M]:
    """Stream records of one type back from a staging file."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield model.model_validate_json(line)
