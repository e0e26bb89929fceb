"""A run: the stages in order over one staging folder, and the report that accounts for every input.

    plan_sources -> discover (per source) -> plan_fetch -> fetch (per host group) -> raw/<batch>.jsonl
    raw/<batch>.jsonl -> process (clean + tag, per batch) -> tagged/<batch>.jsonl -> index -> report

``discover`` reads local sources (files, WARC) straight into raw batches and lists the pages of
web sources (URL lists, feeds, sitemaps) as candidates. ``plan_fetch`` drops URLs already planned
by another source, looks up the fetch state, keeps what is new or changed in the data interval,
and groups the rest by host into fetch batches (a host never spans two batches, so its delay and
robots.txt hold across a batch). ``fetch`` writes fetched pages as raw batches. ``process`` is the
CPU-bound chain, once per raw batch: the DAG maps one task per batch and ``warta ingest`` runs
them in a pool of ``settings.workers`` processes. ``index`` drops in-run duplicates across all
batches, groups near-duplicates into stories, bulk-loads in batch-name order (a run's result does
not depend on which batch finished first), and only then records the fetch state, so nothing
fetched is forgotten if indexing fails.

Every step writes its rejections to ``rejected/<step>[.<part>].jsonl`` and rewrites its files
whole, so a retried task never double-counts. ``report`` reconciles: inputs = indexed +
duplicates + quarantined + skipped, and fails loudly when it does not, or when a source failed.

The parts: ``steps`` (one function per step, each an Airflow task), ``files`` (what the steps
write in the run folder), ``report`` (the reconciliation, the run ledger and the dead letters),
``replay`` (dead-lettered inputs run again). ``run_sources`` and ``run_all`` run every step in
this process, as ``warta ingest`` does.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline import index
from pipeline.records import Interval
from pipeline.run.files import raw_batches
from pipeline.run.replay import replay
from pipeline.run.report import ReconciliationError, SourcesFailedError, report
from pipeline.run.steps import (
    step_discover,
    step_fetch,
    step_index,
    step_plan_fetch,
    step_plan_sources,
    step_process,
    step_process_all,
    step_sources,
)
from pipeline.settings import Settings
from pipeline.sources_file import LocalSource, WebSource, local_sources

__all__ = [
    "ReconciliationError",
    "SourcesFailedError",
    "raw_batches",
    "replay",
    "report",
    "run_all",
    "run_sources",
    "step_discover",
    "step_fetch",
    "step_index",
    "step_plan_fetch",
    "step_plan_sources",
    "step_process",
    "step_process_all",
    "step_sources",
]


def run_sources(
    specs: list[LocalSource | WebSource],
    run_dir: Path,
    settings: Settings,
    interval: Interval | None = None,
    index_name: str | None = None,
    on_step: Callable[[str], None] | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """Every step in this process (processing in a worker pool), over the same files as the DAG."""

    def announce(step: str) -> None:
        if on_step:
            on_step(step)

    index.check_access(settings)
    announce("discover")
    for name in step_plan_sources(run_dir, specs, interval):
        step_discover(run_dir, name, settings)
    announce("fetch")
    for batch in step_plan_fetch(run_dir, settings):
        step_fetch(run_dir, batch, settings)
    announce("process")
    step_process_all(
        run_dir, raw_batches(run_dir), settings, workers or settings.workers or os.cpu_count() or 1
    )
    announce("index")
    step_index(run_dir, settings, index_name)
    return report(run_dir, settings)


def run_all(
    paths: list[Path],
    run_dir: Path,
    settings: Settings,
    index_name: str | None = None,
    on_step: Callable[[str], None] | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """Local files or folders only: ``run_sources`` over one ``files`` source per path."""
    return run_sources(local_sources(paths), run_dir, settings, None, index_name, on_step, workers)
