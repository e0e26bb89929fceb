"""The run folder's files: what each step writes there, and the helpers that write and read them.

Every file is written whole (to a temporary name, then moved), so a retried task rewrites its
files instead of appending to them and never double-counts.
"""

from __future__ import annotations

import glob
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from pydantic import BaseModel, TypeAdapter

from pipeline.records import Interval, RawArticle, Rejection, TaggedArticle
from pipeline.sources_file import LocalSource, Source, WebSource
from pipeline.staging import read_jsonl, write_jsonl

T = TypeVar("T", bound=BaseModel)
_SOURCES = TypeAdapter(list[Source])

# What fetching writes, and what a whole run writes (cleared when a step starts over).
FETCH_OUTPUTS = (
    "fetch/*",
    "fetched/*",
    "raw/web-*",
    "tagged/web-*",
    "counts/web-*",
    "rejected/fetch.*",
    "rejected/process.web-*",
    "timings/fetch.*",
    "timings/process.web-*",
    "deadletter/process.web-*",
)
RUN_OUTPUTS = (
    *FETCH_OUTPUTS,
    "raw/*",
    "tagged/*",
    "counts/*",
    "candidates/*",
    "rejected/*",
    "deadletter/*",
    "sources-status/*",
    "timings/*",
    "index.json",
    "report.json",
)


P = ParamSpec("P")
R = TypeVar("R")


def timed(
    step: str, part: int | None = None
) -> Callable[[Callable[Concatenate[Path, P], R]], Callable[Concatenate[Path, P], R]]:
    """Record the step's start and duration in timings/<step>[.<part>].json (for the run ledger);
    ``part`` is the position of the argument (after run_dir) naming the source or batch."""

    def decorate(fn: Callable[Concatenate[Path, P], R]) -> Callable[Concatenate[Path, P], R]:
        def timed(run_dir: Path, /, *args: P.args, **kwargs: P.kwargs) -> R:
            started, clock = datetime.now(UTC), time.monotonic()
            try:
                return fn(run_dir, *args, **kwargs)
            finally:
                name = step if part is None or len(args) <= part else f"{step}.{args[part]}"
                write_json(
                    run_dir / "timings" / f"{name}.json",
                    {
                        "step": step,
                        "started_at": started.isoformat(),
                        "seconds": round(time.monotonic() - clock, 3),
                    },
                )

        timed.__name__, timed.__qualname__, timed.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
        return timed

    return decorate


def remove(run_dir: Path, pattern: str) -> None:
    for path in run_dir.glob(pattern):
        if path.is_file():
            path.unlink()


def split(items: Iterable[T | Rejection], rejected: list[Rejection] | RejectionFile) -> Iterator[T]:
    """Pass records through, collecting rejections on the side."""
    for item in items:
        if isinstance(item, Rejection):
            rejected.append(item)
        else:
            yield item


class RejectionFile:
    """rejected/<name>.jsonl written as rejections come, so a source that rejects a million lines
    holds none of them in memory; put in place whole on success (a retried step never counts twice),
    discarded if the step fails."""

    def __init__(self, run_dir: Path, name: str) -> None:
        folder = run_dir / "rejected"
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{name}.jsonl"
        self._tmp = self.path.with_name(self.path.name + ".tmp")
        self._handle = self._tmp.open("w", encoding="utf-8")
        self.count = 0

    def append(self, rejection: Rejection) -> None:
        self._handle.write(rejection.model_dump_json() + "\n")
        self.count += 1

    def __enter__(self) -> RejectionFile:
        return self

    def __exit__(self, error: type[BaseException] | None, *_: object) -> None:
        self._handle.close()
        if error is None:
            os.replace(self._tmp, self.path)
        else:
            self._tmp.unlink(missing_ok=True)


def tally(rejected: list[Rejection]) -> dict[str, int]:
    return {str(outcome): n for outcome, n in Counter(r.outcome for r in rejected).items()}


def write_rejected(run_dir: Path, name: str, rejected: list[Rejection]) -> None:
    (run_dir / "rejected").mkdir(parents=True, exist_ok=True)
    write_jsonl(run_dir / "rejected" / f"{name}.jsonl", rejected)


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, default=str) + "\n")
    os.replace(tmp, path)


_BATCH_NUMBER = "[0-9]" * 5


def write_batches(run_dir: Path, prefix: str, articles: Iterable[RawArticle], batch_size: int) -> list[str]:
    """raw/<prefix>-NNNNN.jsonl files of ``batch_size`` articles; returns their names."""
    raw_dir = run_dir / "raw"
    raw_dir.mkdir(parents=True, exist_ok=True)
    # A retried or cleared task starts over: its batches go, and with them what later steps made
    # of them (a cleared run may make fewer batches). Exactly this prefix's numbered batches:
    # source `news` must not remove `news-id`'s (raw/files-news-id-00000.jsonl).
    batch = f"{glob.escape(prefix)}-{_BATCH_NUMBER}"
    for pattern in (
        f"raw/{batch}.jsonl",
        f"tagged/{batch}.jsonl",
        f"rejected/process.{batch}.jsonl",
        f"deadletter/process.{batch}.jsonl",
        f"timings/process.{batch}.json",
    ):
        remove(run_dir, pattern)
    names: list[str] = []
    count = 0
    iterator = iter(articles)
    while chunk := list(islice(iterator, batch_size)):
        name = f"{prefix}-{len(names):05d}"
        count += write_jsonl(raw_dir / f"{name}.jsonl", chunk)
        names.append(name)
    # The count is kept so the report need not read the raw files again.
    write_json(run_dir / "counts" / f"{prefix}.json", {"articles": count, "batches": names})
    return names


def raw_batches(run_dir: Path) -> list[str]:
    """Every raw batch of the run, in name order (local sources first, then fetched pages)."""
    return sorted(p.stem for p in (run_dir / "raw").glob("*.jsonl")) if (run_dir / "raw").exists() else []


def tagged_articles(run_dir: Path) -> Iterator[TaggedArticle]:
    for batch in raw_batches(run_dir):
        yield from read_jsonl(run_dir / "tagged" / f"{batch}.jsonl", TaggedArticle)


def read_plan(run_dir: Path) -> tuple[dict[str, LocalSource | WebSource], Interval | None]:
    data = json.loads((run_dir / "sources.json").read_text())
    specs = _SOURCES.validate_python(data["sources"])
    interval = Interval.model_validate(data["interval"]) if data["interval"] else None
    return {s.name: s for s in specs}, interval


# The ids of documents this run created, appended chunk by chunk: kept through retries and clears
# (never removed with the run's outputs), so created/updated stay true however often `load` runs.
CREATED_LOG = "created-ids.txt"


class CreatedLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.ids = set(path.read_text().split()) if path.exists() else set()

    def add(self, ids: list[str]) -> None:
        with self.path.open("a") as handle:
            handle.write("".join(f"{i}\n" for i in ids))
            handle.flush()
            os.fsync(handle.fileno())
        self.ids.update(ids)


def keep_raw_inputs(run_dir: Path, name: str, input_ids: set[str]) -> None:
    """deadletter/<name>.jsonl: the raw inputs of these ids, for their dead-letter records."""
    kept = [
        raw
        for batch in (raw_batches(run_dir) if input_ids else [])
        for raw in read_jsonl(run_dir / "raw" / f"{batch}.jsonl", RawArticle)
        if raw.input_id in input_ids
    ]
    (run_dir / "deadletter").mkdir(parents=True, exist_ok=True)
    write_jsonl(run_dir / "deadletter" / f"{name}.jsonl", kept)


def source_status(run_dir: Path) -> dict[str, dict[str, Any]]:
    folder = run_dir / "sources-status"
    if not folder.exists():
        return {}
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}
