"""A run: the stages in order over one staging folder, and the report that accounts for every input.

    sources -> raw/<batch>.jsonl -> process (clean + tag) -> tagged/<batch>.jsonl -> index

``sources`` splits the inputs into batches of ``settings.batch_size`` articles. ``process`` is the
CPU-bound chain and runs once per batch: the Airflow DAG maps one task per batch (so more workers,
or Celery/Kubernetes executors, mean more throughput) and ``warta ingest`` runs batches in a pool
of ``settings.workers`` processes; the model is loaded once per worker process. ``index`` drops
in-run duplicates across all batches and bulk-loads in batch order, so a run's result does not
depend on which batch finished first.

Every step writes its rejections to ``rejected/<step>[.<batch>].jsonl`` and rewrites its files
whole, so a retried task never double-counts. ``report`` reconciles: inputs = indexed +
duplicates + quarantined + skipped, and fails loudly when it does not.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from pipeline import clean as clean_stage
from pipeline import dedup, enrich, index, sources
from pipeline.records import Article, RawArticle, Rejection, TaggedArticle
from pipeline.settings import Settings
from pipeline.staging import read_jsonl, write_jsonl

T = TypeVar("T", bound=BaseModel)
# Fork (Linux) lets workers share the model loaded by the parent; elsewhere the default context.
_FORK = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None


class ReconciliationError(RuntimeError):
    """The run's counts do not add up: some input is unaccounted for."""


def _split(items: Iterable[T | Rejection], rejected: list[Rejection]) -> Iterator[T]:
    """Pass records through, collecting rejections on the side."""
    for item in items:
        if isinstance(item, Rejection):
            rejected.append(item)
        else:
            yield item


def _tally(rejected: list[Rejection]) -> dict[str, int]:
    return {str(outcome): n for outcome, n in Counter(r.outcome for r in rejected).items()}


def _write_rejected(run_dir: Path, name: str, rejected: list[Rejection]) -> None:
    (run_dir / "rejected").mkdir(parents=True, exist_ok=True)
    write_jsonl(run_dir / "rejected" / f"{name}.jsonl", rejected)


def step_sources(run_dir: Path, paths: list[Path], batch_size: int) -> list[str]:
    """Read every input under ``paths`` into raw/<batch>.jsonl files; returns the batch names."""
    raw_dir = run_dir / "raw"
    raw_dir.mkdir(parents=True, exist_ok=True)
    for stale in raw_dir.glob("*.jsonl"):
        stale.unlink()  # a retried task starts over
    rejected: list[Rejection] = []
    articles = _split(sources.read_inputs(paths), rejected)
    batches: list[str] = []
    articles_read = 0
    while chunk := list(islice(articles, batch_size)):
        name = f"{len(batches):05d}"
        articles_read += write_jsonl(raw_dir / f"{name}.jsonl", chunk)
        batches.append(name)
    _write_rejected(run_dir, "sources", rejected)
    # The count is kept so the report need not read the raw files again.
    (run_dir / "batches.json").write_text(json.dumps({"batches": batches, "articles": articles_read}) + "\n")
    return batches


def step_process(run_dir: Path, batch: str, settings: Settings) -> dict[str, int]:
    """Clean and tag one batch: raw/<batch>.jsonl -> tagged/<batch>.jsonl."""
    rejected: list[Rejection] = []
    raw = read_jsonl(run_dir / "raw" / f"{batch}.jsonl", RawArticle)
    cleaned: Iterator[Article] = _split(
        (clean_stage.clean(r, min_body_chars=settings.min_body_chars) for r in raw), rejected
    )
    (run_dir / "tagged").mkdir(parents=True, exist_ok=True)
    passed = write_jsonl(
        run_dir / "tagged" / f"{batch}.jsonl", enrich.tag_articles(cleaned, settings.ner_model)
    )
    _write_rejected(run_dir, f"process.{batch}", rejected)
    return {"passed": passed, **_tally(rejected)}


def _process_in_worker(args: tuple[Path, str, Settings]) -> dict[str, int]:
    return step_process(*args)


def step_process_all(run_dir: Path, batches: list[str], settings: Settings, workers: int) -> None:
    """Every batch, in ``workers`` processes (1: in this process)."""
    jobs = [(run_dir, batch, settings) for batch in batches]
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            _process_in_worker(job)
        return
    # Load the model before the pool forks: workers inherit it instead of each loading its own.
    enrich.load_model(settings.ner_model)
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=_FORK) as pool:
        for _ in pool.map(_process_in_worker, jobs):
            pass


def _tagged_articles(run_dir: Path) -> Iterator[TaggedArticle]:
    for batch in json.loads((run_dir / "batches.json").read_text())["batches"]:
        yield from read_jsonl(run_dir / "tagged" / f"{batch}.jsonl", TaggedArticle)


def step_index(run_dir: Path, settings: Settings, index_name: str | None = None) -> dict[str, int]:
    """Drop in-run duplicates across batches, then bulk-load everything into the index."""
    name = index_name or settings.index
    duplicates: list[Rejection] = []
    unique = _split(dedup.drop_duplicates(_tagged_articles(run_dir)), duplicates)
    client = index.connect(settings)
    try:
        index.ensure_index(client, name)
        with index.bulk_mode(client, name):
            result = index.bulk_load(
                client,
                name,
                unique,
                chunk_size=settings.bulk_chunk_size,
                max_retries=settings.bulk_max_retries,
            )
    finally:
        client.close()
    _write_rejected(run_dir, "dedup", duplicates)
    _write_rejected(run_dir, "index", result.rejected)
    counts = {"created": result.created, "updated": result.updated, "passed": result.indexed}
    (run_dir / "index.json").write_text(json.dumps({"index": name, **counts}) + "\n")
    return {**counts, "duplicate": len(duplicates), "quarantined": len(result.rejected)}


def report(run_dir: Path) -> dict[str, Any]:
    """Reconcile the run from its files; write report.json; raise if any input is unaccounted for."""
    rejections: list[Rejection] = []
    for path in sorted((run_dir / "rejected").glob("*.jsonl")):
        rejections.extend(read_jsonl(path, Rejection))
    outcomes = Counter(r.outcome for r in rejections)
    index_info = json.loads((run_dir / "index.json").read_text())
    raw_count = json.loads((run_dir / "batches.json").read_text())["articles"]
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
    workers: int | None = None,
) -> dict[str, Any]:
    """Every step in this process (batches in a worker pool), over the same files as the DAG."""

    def announce(step: str) -> None:
        if on_step:
            on_step(step)

    announce("sources")
    batches = step_sources(run_dir, paths, settings.batch_size)
    announce("process")
    step_process_all(run_dir, batches, settings, workers or settings.workers or os.cpu_count() or 1)
    announce("index")
    step_index(run_dir, settings, index_name)
    return report(run_dir)
