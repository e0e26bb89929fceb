"""A run: the stages in order over one staging folder, and the report that accounts for every input.

Each step reads the previous step's file in the run folder and writes its own, so the Airflow
DAG (one task per step) and ``warta ingest`` (all steps in one process) follow the same path:

    sources -> raw.jsonl -> clean -> clean.jsonl -> dedup + enrich -> tagged.jsonl -> index

Rejections go to ``rejected.<step>.jsonl``. A step rewrites its own files whole, so a retried
task never double-counts. ``report`` reconciles: inputs = indexed + duplicates + quarantined
+ skipped, and fails loudly when it does not.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from pipeline import clean as clean_stage
from pipeline import dedup, enrich, index, sources
from pipeline.records import Article, RawArticle, Rejection, TaggedArticle
from pipeline.settings import Settings
from pipeline.staging import read_jsonl, write_jsonl

RAW, CLEAN, TAGGED = "raw.jsonl", "clean.jsonl", "tagged.jsonl"
STEPS = ("sources", "clean", "enrich", "index")

T = TypeVar("T", bound=BaseModel)


class ReconciliationError(RuntimeError):
    """The run's counts do not add up: some input is unaccounted for."""


def _split(items: Iterable[T | Rejection], rejected: list[Rejection]) -> Iterator[T]:
    """Pass records through, collecting rejections on the side."""
    for item in items:
        if isinstance(item, Rejection):
            rejected.append(item)
        else:
            yield item


def _write_step(run_dir: Path, step: str, output: str | None, records: Iterable[BaseModel]) -> dict[str, int]:
    rejected: list[Rejection] = []
    passed = write_jsonl(run_dir / output, _split(records, rejected)) if output else 0
    write_jsonl(run_dir / f"rejected.{step}.jsonl", rejected)
    return {"passed": passed, **_tally(rejected)}


def _tally(rejected: list[Rejection]) -> dict[str, int]:
    return {str(outcome): n for outcome, n in Counter(r.outcome for r in rejected).items()}


def step_sources(run_dir: Path, paths: list[Path]) -> dict[str, int]:
    """Read every input under ``paths`` into raw.jsonl."""
    run_dir.mkdir(parents=True, exist_ok=True)
    return _write_step(run_dir, "sources", RAW, sources.read_inputs(paths))


def step_clean(run_dir: Path, settings: Settings) -> dict[str, int]:
    raw = read_jsonl(run_dir / RAW, RawArticle)
    cleaned = (clean_stage.clean(r, min_body_chars=settings.min_body_chars) for r in raw)
    return _write_step(run_dir, "clean", CLEAN, cleaned)


def step_enrich(run_dir: Path, settings: Settings) -> dict[str, int]:
    """Drop exact duplicates within the run, then tag entities."""
    rejected: list[Rejection] = []
    unique = _split(dedup.drop_duplicates(read_jsonl(run_dir / CLEAN, Article)), rejected)
    passed = write_jsonl(run_dir / TAGGED, enrich.tag_articles(unique, settings.ner_model))
    write_jsonl(run_dir / "rejected.enrich.jsonl", rejected)
    return {"passed": passed, **_tally(rejected)}


def step_index(run_dir: Path, settings: Settings, index_name: str | None = None) -> dict[str, int]:
    name = index_name or settings.index
    client = index.connect(settings)
    try:
        index.ensure_index(client, name)
        result = index.bulk_load(
            client,
            name,
            read_jsonl(run_dir / TAGGED, TaggedArticle),
            chunk_size=settings.bulk_chunk_size,
            max_retries=settings.bulk_max_retries,
        )
        client.indices.refresh(index=name)
    finally:
        client.close()
    write_jsonl(run_dir / "rejected.index.jsonl", result.rejected)
    counts = {"created": result.created, "updated": result.updated, "passed": result.indexed}
    (run_dir / "index.json").write_text(json.dumps({"index": name, **counts}) + "\n")
    return {**counts, "quarantined": len(result.rejected)}


def report(run_dir: Path) -> dict[str, Any]:
    """Reconcile the run from its files; write report.json; raise if any input is unaccounted for."""
    rejections: list[Rejection] = []
    for step in STEPS:
        path = run_dir / f"rejected.{step}.jsonl"
        if path.exists():
            rejections.extend(read_jsonl(path, Rejection))
    outcomes = Counter(r.outcome for r in rejections)
    index_info = json.loads((run_dir / "index.json").read_text())
    raw_count = _count_lines(run_dir / RAW)
    source_rejections = sum(1 for r in rejections if r.stage == "sources")
    summary: dict[str, Any] = {
        "inputs": raw_count + source_rejections,
        "indexed": index_info["passed"],
        "created": index_info["created"],
        "updated": index_info["updated"],
        "duplicates": outcomes["duplicate"],
        "quarantined": outcomes["quarantined"],
        "skipped": outcomes["skipped"],
        "index": index_info["index"],
        "rejections": [r.model_dump() for r in rejections],
    }
    accounted = summary["indexed"] + summary["duplicates"] + summary["quarantined"] + summary["skipped"]
    summary["reconciled"] = accounted == summary["inputs"]
    (run_dir / "report.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    if not summary["reconciled"]:
        raise ReconciliationError(
            f"run {run_dir.name}: {summary['inputs']} inputs but {accounted} accounted for "
            f"(indexed {summary['indexed']}, duplicates {summary['duplicates']}, "
            f"quarantined {summary['quarantined']}, skipped {summary['skipped']})"
        )
    return summary


def run_all(
    paths: list[Path],
    run_dir: Path,
    settings: Settings,
    index_name: str | None = None,
    on_step: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every step in one process, in the same order and over the same files as the DAG."""
    steps: list[tuple[str, Callable[[], dict[str, int]]]] = [
        ("sources", lambda: step_sources(run_dir, paths)),
        ("clean", lambda: step_clean(run_dir, settings)),
        ("enrich", lambda: step_enrich(run_dir, settings)),
        ("index", lambda: step_index(run_dir, settings, index_name)),
    ]
    for name, step in steps:
        if on_step:
            on_step(name)
        step()
    return report(run_dir)


def _count_lines(path: Path) -> int:
    with path.open(encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip())
