"""Replay: dead-lettered inputs through the pipeline again, as one ordinary run with a report."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import index, sources
from pipeline.records import RawArticle, Rejection
from pipeline.run.files import raw_batches, split, tagged_articles, write_batches, write_rejected
from pipeline.run.report import rejections, report
from pipeline.run.steps import (
    step_discover,
    step_fetch,
    step_index,
    step_plan_fetch,
    step_plan_sources,
    step_process_all,
)
from pipeline.settings import Settings
from pipeline.sources_file import LocalSource, WebSource

if TYPE_CHECKING:
    from pipeline.deadletter import DeadLetter


def _local_input(input_id: str) -> Path | None:
    """The file a local input id names: ``path``, ``path:line`` (JSON lines) or ``path#N:url``
    (WARC records); ids are real, absolute paths, so a replay finds them from any folder."""
    for candidate in (input_id, input_id.rsplit(":", 1)[0], input_id.split("#", 1)[0]):
        if candidate and os.path.isabs(candidate) and Path(candidate).is_file():
            return Path(candidate)
    return None


def replay(
    letters: list[DeadLetter],
    run_dir: Path,
    settings: Settings,
    index_name: str | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """Run dead-lettered inputs through the pipeline again, as one ordinary run with a report.

    A letter with its raw article kept is processed from that copy; one without is re-read from
    its file (through the same trust check, at the real path it was read from), or fetched again
    from its URL (unconditionally: the fetch state is not consulted). Each input keeps its
    letter's source, in the index and in the fetch state. Letters whose input is gone cannot be
    replayed and are returned under ``not_replayable`` (left open). Afterwards a letter is marked
    resolved only if its input was indexed or proven a duplicate; one skipped or quarantined again
    stays open (the report updated a quarantined one: attempts + 1, the new reason).
    """
    from pipeline import deadletter

    index.check_access(settings)
    kept = [letter.raw for letter in letters if letter.raw is not None]
    files: dict[str | None, dict[Path, set[str]]] = defaultdict(lambda: defaultdict(set))
    urls: dict[str, list[str]] = defaultdict(list)
    not_replayable: dict[str, str] = {}
    for letter in letters:
        if letter.raw is not None:
            continue
        path = _local_input(letter.input_id)
        if path is not None:
            files[letter.source][path].add(letter.input_id)
        elif letter.input_id.startswith(("http://", "https://")):
            urls[letter.source or "replay"].append(letter.input_id)
        else:
            not_replayable[letter.input_id] = "raw input not kept, and no such file or URL"
    web: list[LocalSource | WebSource] = [
        WebSource(name=name, kind="urls", urls=listed) for name, listed in sorted(urls.items())
    ]
    step_plan_sources(run_dir, web, None)
    rejected: list[Rejection] = []
    from_files: list[RawArticle] = []
    for source, by_path in files.items():
        # Only the dead-lettered inputs of each file: other lines or records of it are not replayed.
        wanted = {input_id for ids in by_path.values() for input_id in ids}
        read = sources.read_inputs(list(by_path), source=source, exact=True)
        from_files.extend(split((item for item in read if item.input_id in wanted), rejected))
    write_batches(run_dir, "replay", [*kept, *from_files], settings.batch_size)
    write_rejected(run_dir, "sources.replay", rejected)
    for name in [s.name for s in web]:
        step_discover(run_dir, name, settings)
    for batch in step_plan_fetch(run_dir, settings, consult_state=False):
        step_fetch(run_dir, batch, settings)
    step_process_all(
        run_dir, raw_batches(run_dir), settings, workers or settings.workers or os.cpu_count() or 1
    )
    step_index(run_dir, settings, index_name)
    try:
        summary = report(run_dir, settings)
    finally:
        done = _replay_outcomes(run_dir, {letter.input_id for letter in letters} - set(not_replayable))
        client = index.connect(settings)
        try:
            deadletter.resolve(client, settings.dead_letter_index, done)
        finally:
            client.close()
    return {**summary, "resolved": len(done), "not_replayable": not_replayable}


def _replay_outcomes(run_dir: Path, replayed: set[str]) -> dict[str, str]:
    """{input id: indexed | duplicate} for the replayed inputs that reached the index (or proved
    to be a copy of an article that did). Skipped is no success: a letter whose URL is disallowed
    by robots.txt today, or unchanged, stays open."""
    outcome = {r.input_id: r.outcome for r in rejections(run_dir)}
    indexed = {a.input_id for a in tagged_articles(run_dir)}
    done: dict[str, str] = {}
    for input_id in replayed:
        got = outcome.get(input_id)
        if got == "duplicate":
            done[input_id] = "duplicate"
        elif got is None and input_id in indexed:
            done[input_id] = "indexed"
    return done
