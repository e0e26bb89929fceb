"""The run's report: every input accounted for (indexed, duplicate, quarantined or skipped), the
run ledger entry, and the dead letters of what was quarantined."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline import index
from pipeline.records import RawArticle, Rejection
from pipeline.run.files import source_status, write_json
from pipeline.settings import Settings
from pipeline.staging import read_jsonl

# Rejections from these steps are inputs that never became raw articles; they count as inputs.
_INPUT_STEPS = ("sources", "discover", "plan", "fetch")


class ReconciliationError(RuntimeError):
    """The run's counts do not add up: some input is unaccounted for."""


class SourcesFailedError(RuntimeError):
    """At least one source could not be read at all; the rest of the run was still indexed."""


REPORT_SAMPLE = 1000  # rejections listed in report.json; all of them stay in rejected/*.jsonl
REPORT_REASONS = 50  # distinct reasons counted in the summary, most frequent first
_NUMBER = re.compile(r"\d+")


def rejections(run_dir: Path) -> Iterator[Rejection]:
    """Every rejection of the run, streamed from rejected/*.jsonl."""
    for path in sorted((run_dir / "rejected").glob("*.jsonl")):
        yield from read_jsonl(path, Rejection)


def report(run_dir: Path, settings: Settings | None = None, run_id: str | None = None) -> dict[str, Any]:
    """Reconcile the run from its files; write report.json and (given settings) the run ledger
    entry; then raise if any input is unaccounted for (ReconciliationError) or a source could not
    be read at all (SourcesFailedError).

    Rejections are streamed, never held: report.json lists the first ``REPORT_SAMPLE`` and counts
    all of them by outcome, by stage and by reason (numbers folded, so "column 7" and "column 9"
    are one reason); the files under rejected/ keep every one."""
    outcomes: Counter[str] = Counter()
    by_stage: dict[str, dict[str, int]] = {}
    reasons: Counter[tuple[str, str, str]] = Counter()
    sample: list[dict[str, Any]] = []
    never_raw = 0
    for rejection in rejections(run_dir):
        outcomes[rejection.outcome] += 1
        stage = by_stage.setdefault(rejection.stage, {})
        stage[rejection.outcome] = stage.get(rejection.outcome, 0) + 1
        never_raw += rejection.stage in _INPUT_STEPS
        kind = (rejection.stage, rejection.outcome, _NUMBER.sub("N", rejection.reason)[:160])
        if kind in reasons or len(reasons) < 10_000:
            reasons[kind] += 1
        if len(sample) < REPORT_SAMPLE:
            sample.append(rejection.model_dump())
    index_info = json.loads((run_dir / "index.json").read_text())
    raw_count = sum(json.loads(p.read_text())["articles"] for p in (run_dir / "counts").glob("*.json"))
    statuses = source_status(run_dir)
    failed_sources = {name: s["reason"] for name, s in statuses.items() if not s["ok"]}
    summary: dict[str, Any] = {
        "inputs": raw_count + never_raw,
        "indexed": index_info["passed"],
        "created": index_info["created"],
        "updated": index_info["updated"],
        "duplicates": outcomes["duplicate"],
        "quarantined": outcomes["quarantined"],
        "skipped": outcomes["skipped"],
        "index": index_info["index"],
        "sources": {name: "failed" if not s["ok"] else "ok" for name, s in statuses.items()},
        "failed_sources": failed_sources,
        "rejection_reasons": [
            {"stage": stage, "outcome": outcome, "reason": reason, "count": count}
            for (stage, outcome, reason), count in reasons.most_common(REPORT_REASONS)
        ],
        "rejections_listed": len(sample),
        "rejections": sample,
    }
    accounted = summary["indexed"] + summary["duplicates"] + summary["quarantined"] + summary["skipped"]
    summary["reconciled"] = accounted == summary["inputs"]
    write_json(run_dir / "report.json", summary)
    if settings is not None:
        _record_in_ledger(run_dir, summary, by_stage, statuses, settings, run_id or run_dir.name)
        _record_dead_letters(run_dir, settings, run_id or run_dir.name)
    if not summary["reconciled"]:
        raise ReconciliationError(
            f"run {run_dir.name}: {summary['inputs']} inputs but {accounted} accounted for "
            f"(indexed {summary['indexed']}, duplicates {summary['duplicates']}, "
            f"quarantined {summary['quarantined']}, skipped {summary['skipped']})"
        )
    if failed_sources:
        listed = "; ".join(f"{name}: {reason}" for name, reason in failed_sources.items())
        raise SourcesFailedError(f"run {run_dir.name}: {len(failed_sources)} source(s) failed: {listed}")
    return summary


def _record_dead_letters(run_dir: Path, settings: Settings, run_id: str) -> None:
    from pipeline import deadletter

    raws = {
        raw.input_id: raw
        for path in sorted((run_dir / "deadletter").glob("*.jsonl"))
        for raw in read_jsonl(path, RawArticle)
    }
    client = index.connect(settings)
    try:
        deadletter.record(client, settings.dead_letter_index, rejections(run_dir), raws, run_id)
    finally:
        client.close()


def _record_in_ledger(
    run_dir: Path,
    summary: dict[str, Any],
    by_stage: dict[str, dict[str, int]],
    statuses: dict[str, dict[str, Any]],
    settings: Settings,
    run_id: str,
) -> None:
    from pipeline import ledger

    timings = [json.loads(p.read_text()) for p in sorted((run_dir / "timings").glob("*.json"))]
    step_seconds: Counter[str] = Counter()
    for timing in timings:
        step_seconds[timing["step"]] += timing["seconds"]
    finished = datetime.now(UTC)
    started = min((datetime.fromisoformat(t["started_at"]) for t in timings), default=finished)
    entry = {
        "run_id": run_id,
        "run_dir": str(run_dir),
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "duration_s": round((finished - started).total_seconds(), 3),
        **{k: summary[k] for k in ("index", "reconciled", "inputs", "indexed", "created", "updated")},
        **{k: summary[k] for k in ("duplicates", "quarantined", "skipped")},
        "failed_source_count": len(summary["failed_sources"]),
        "sources": [
            {"name": name, "status": "ok" if s["ok"] else "failed", "reason": s.get("reason", "")}
            for name, s in statuses.items()
        ],
        "step_seconds": {step: round(seconds, 3) for step, seconds in step_seconds.items()},
        "by_stage": by_stage,
    }
    client = index.connect(settings)
    try:
        ledger.record(client, settings.runs_index, entry)
    finally:
        client.close()
