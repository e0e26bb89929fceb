"""The steps of a run, each one Airflow task (or, in ``warta ingest``, one call in order).

Each reads what the step before it wrote in the run folder and writes its own files there
(``pipeline.run.files``); it returns only names (sources, batches) or counts, which is what
the DAG passes between tasks.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pipeline import clean as clean_stage
from pipeline import dedup, enrich, index, sources
from pipeline.records import Article, Candidate, Interval, RawArticle, Rejection, TaggedArticle
from pipeline.run.files import (
    CREATED_LOG,
    FETCH_OUTPUTS,
    RUN_OUTPUTS,
    CreatedLog,
    RejectionFile,
    keep_raw_inputs,
    read_plan,
    remove,
    source_status,
    split,
    tagged_articles,
    tally,
    timed,
    write_batches,
    write_json,
    write_rejected,
)
from pipeline.settings import Settings
from pipeline.sources_file import LocalSource, WebSource, local_sources
from pipeline.staging import read_jsonl, write_jsonl

# Fork (Linux) lets workers share the model loaded by the parent; elsewhere the default context.
_FORK = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None


# -- sources ---------------------------------------------------------------------------------------


@timed("plan_sources")
def step_plan_sources(
    run_dir: Path, specs: list[LocalSource | WebSource], interval: Interval | None
) -> list[str]:
    """Record what this run ingests (sources.json) and return the source names, one task each.

    The first step, so it clears what an earlier attempt of the same run left in the folder.
    """
    for pattern in RUN_OUTPUTS:
        remove(run_dir, pattern)
    write_json(
        run_dir / "sources.json",
        {
            "sources": [s.model_dump(mode="json") for s in specs],
            "interval": interval.model_dump(mode="json") if interval else None,
        },
    )
    return [s.name for s in specs]


@timed("discover", part=0)
def step_discover(run_dir: Path, name: str, settings: Settings) -> list[str]:
    """One source: local files -> raw batches (returned); web pages -> candidates/<name>.jsonl."""
    from pipeline.discover import SourceFailed, discover
    from pipeline.fetch import Fetcher

    source = read_plan(run_dir)[0][name]
    status: dict[str, Any] = {"source": name, "kind": source.kind, "ok": True, "reason": ""}
    batches: list[str] = []
    with RejectionFile(run_dir, f"discover.{name}") as rejected:
        if isinstance(source, LocalSource):
            items = sources.read_inputs(
                source.paths,
                source=name,
                language=source.language,
                warc_only=source.kind == "warc",
                timezone=source.timezone,
            )
            batches = write_batches(run_dir, f"files-{name}", split(items, rejected), settings.batch_size)
        else:
            (run_dir / "candidates").mkdir(parents=True, exist_ok=True)
            with Fetcher(settings, source.host_delay_s) as fetcher:
                try:
                    found = write_jsonl(
                        run_dir / "candidates" / f"{name}.jsonl", split(discover(source, fetcher), rejected)
                    )
                    status["candidates"] = found
                except SourceFailed as err:
                    write_jsonl(run_dir / "candidates" / f"{name}.jsonl", [])
                    rejected.append(
                        Rejection(
                            input_id=source.url or name,
                            stage="discover",
                            outcome="quarantined",
                            reason=f"source {name} failed: {err}",
                            source=name,
                        )
                    )
                    status.update(ok=False, reason=str(err))
    status["finished_at"] = datetime.now(UTC).isoformat()
    write_json(run_dir / "sources-status" / f"{name}.json", status)
    return batches


def step_sources(run_dir: Path, paths: list[Path], settings: Settings) -> list[str]:
    """Local files only (``warta ingest PATH...``): plan + discover; returns the raw batch names."""
    names = step_plan_sources(run_dir, local_sources(paths), None)
    return [batch for name in names for batch in step_discover(run_dir, name, settings)]


# -- fetching --------------------------------------------------------------------------------------


def _decide(
    candidate: Candidate, seen: bool, fetched_at: datetime | None, interval: Interval | None
) -> str | None:
    """None to fetch the candidate, else why it is skipped this run."""
    date = candidate.date
    if not seen:
        if interval is not None and date is not None and date >= interval.end:
            return "dated after this run's data interval; left for the run that covers it"
        return None
    if candidate.revalidate:
        return None  # conditional GET: costs a 304 when unchanged
    if date is None:
        return "fetched before, and the source gives no date saying it changed"
    changed = date in interval if interval is not None else fetched_at is None or date > fetched_at
    return None if changed else "fetched before, and not updated in this run's data interval"


@timed("plan_fetch")
def step_plan_fetch(
    run_dir: Path, settings: Settings, consult_state: bool = True, run_id: str | None = None
) -> list[str]:
    """Candidates of all sources -> fetch/<NNNNN>.jsonl batches grouped by host; returns their names.
    ``consult_state=False`` (a replay) fetches every candidate afresh, whatever was fetched before.
    What this same run (``run_id``, default the run folder's name) recorded does not count as
    fetched before: a cleared or retried run plans as its first attempt did, so its counts repeat."""
    from pipeline.fetch_state import FetchStateStore

    specs, interval = read_plan(run_dir)
    rejected: list[Rejection] = []
    first_source: dict[str, str] = {}
    wanted: list[Candidate] = []
    for name in specs:
        path = run_dir / "candidates" / f"{name}.jsonl"
        if not path.exists():
            continue
        for candidate in read_jsonl(path, Candidate):
            earlier = first_source.setdefault(candidate.key, candidate.source)
            if earlier != candidate.source:
                rejected.append(
                    _reject_candidate(candidate, "plan", "duplicate", f"also listed by source {earlier}")
                )
                continue
            wanted.append(candidate)
    known = {}
    if wanted and consult_state:  # local-only runs need no fetch state
        client = index.connect(settings)
        try:
            store = FetchStateStore(client, settings.fetch_state_index)
            store.ensure()
            known = dict(store.pages(c.key for c in wanted))
        finally:
            client.close()
    this_run = run_id or run_dir.name
    by_host: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in wanted:
        state = known.get(candidate.key)
        if state is not None and state.run_id == this_run:
            state = None
        reason = _decide(candidate, state is not None, state.fetched_at if state else None, interval)
        if reason:
            rejected.append(_reject_candidate(candidate, "plan", "skipped", reason))
            continue
        if state is not None:
            candidate = candidate.model_copy(
                update={
                    "etag": state.etag,
                    "last_modified": state.last_modified,
                    "content_sha": state.content_sha,
                }
            )
        by_host[_host_key(candidate)].append(candidate)
    # A re-planned run may group hosts differently: nothing from an earlier plan may linger.
    for pattern in FETCH_OUTPUTS:
        remove(run_dir, pattern)
    fetch_dir = run_dir / "fetch"
    fetch_dir.mkdir(parents=True, exist_ok=True)
    # Whole hosts per batch, biggest first, about batch_size URLs each.
    groups: list[list[Candidate]] = []
    for host in sorted(by_host, key=lambda h: (-len(by_host[h]), h)):
        if not groups or len(groups[-1]) >= settings.batch_size:
            groups.append([])
        groups[-1].extend(by_host[host])
    names = []
    for number, group in enumerate(groups):
        name = f"{number:05d}"
        write_jsonl(fetch_dir / f"{name}.jsonl", group)
        names.append(name)
    write_rejected(run_dir, "plan", rejected)
    return names


def _host_key(candidate: Candidate) -> str:
    """The politeness unit: fetch batches never split a host, a batch fetches hosts in parallel."""
    return urlsplit(candidate.url).netloc.lower()


def _reject_candidate(candidate: Candidate, stage: str, outcome: str, reason: str) -> Rejection:
    return Rejection(
        input_id=candidate.url,
        stage=stage,
        outcome=outcome,  # type: ignore[arg-type]
        reason=reason,
        source=candidate.source,
    )


@timed("fetch", part=0)
def step_fetch(run_dir: Path, batch: str, settings: Settings) -> list[str]:
    """One fetch batch: pages -> raw/web-<batch>-*.jsonl; states to commit -> fetched/<batch>.jsonl."""
    from pipeline.fetch import Fetcher, FetchResult
    from pipeline.fetch_state import PageState

    candidates = list(read_jsonl(run_dir / "fetch" / f"{batch}.jsonl", Candidate))
    by_host: dict[str, list[int]] = defaultdict(list)
    for position, candidate in enumerate(candidates):
        by_host[_host_key(candidate)].append(position)
    results: list[FetchResult | None] = [None] * len(candidates)

    with Fetcher(settings) as fetcher:

        def fetch_host(positions: list[int]) -> None:
            for position in positions:  # one host's pages in order; the Fetcher spaces them
                c = candidates[position]
                results[position] = fetcher.fetch_page(c.url, c.etag, c.last_modified, c.host_delay_s)

        with ThreadPoolExecutor(max_workers=max(1, settings.fetch_threads)) as pool:
            list(pool.map(fetch_host, by_host.values()))

    now = datetime.now(UTC)
    rejected: list[Rejection] = []
    articles: list[RawArticle] = []
    states: list[PageState] = []
    for candidate, result in zip(candidates, results, strict=True):
        assert result is not None
        state = PageState(
            key=candidate.key,
            url=candidate.url,
            source=candidate.source,
            outcome="ok",
            etag=result.etag,
            last_modified=result.last_modified,
            content_sha=result.content_sha,
            fetched_at=now,
        )
        if result.outcome == "ok" and result.content_sha == candidate.content_sha:
            rejected.append(
                _reject_candidate(
                    candidate, "fetch", "skipped", "unchanged since the last fetch (same content)"
                )
            )
            states.append(state.model_copy(update={"outcome": "not_modified"}))
        elif result.outcome == "ok":
            assert result.text is not None
            articles.append(
                RawArticle(
                    input_id=candidate.url,
                    source=candidate.source,
                    format="html",
                    content=result.text,
                    url=result.final_url or candidate.url,
                    published_at=None,
                    date_hint=candidate.date,
                    language=candidate.language,
                    timezone=candidate.timezone,
                )
            )
            states.append(state)
        elif result.outcome == "not_modified":
            rejected.append(_reject_candidate(candidate, "fetch", "skipped", result.reason))
            states.append(
                state.model_copy(update={"outcome": "not_modified", "content_sha": candidate.content_sha})
            )
        elif result.outcome == "skipped":
            rejected.append(_reject_candidate(candidate, "fetch", "skipped", result.reason))
            if result.reason.startswith("not HTML"):  # robots.txt may change; a PDF stays a PDF
                states.append(state.model_copy(update={"outcome": "skipped"}))
        else:
            attempts = f" [{result.attempts} attempts]" if result.attempts > 1 else ""
            rejected.append(
                _reject_candidate(
                    candidate, "fetch", "quarantined", f"fetch failed: {result.reason}{attempts}"
                )
            )
    names = write_batches(run_dir, f"web-{batch}", articles, settings.batch_size)
    (run_dir / "fetched").mkdir(parents=True, exist_ok=True)
    write_jsonl(run_dir / "fetched" / f"{batch}.jsonl", states)
    write_rejected(run_dir, f"fetch.{batch}", rejected)
    return names


@timed("process", part=0)
def step_process(run_dir: Path, batch: str, settings: Settings) -> dict[str, int]:
    """Clean and tag one batch: raw/<batch>.jsonl -> tagged/<batch>.jsonl."""
    rejected: list[Rejection] = []
    quarantined_raws: list[RawArticle] = []  # for their dead-letter records (see report)
    raws = read_jsonl(run_dir / "raw" / f"{batch}.jsonl", RawArticle)
    # A date in the text without a year takes it from the run's data interval (or the file's time).
    interval = read_plan(run_dir)[1] if (run_dir / "sources.json").exists() else None
    cleaned: Iterator[Article] = split(
        clean_within_budget(raws, settings, quarantined_raws, interval.end if interval else None), rejected
    )
    (run_dir / "tagged").mkdir(parents=True, exist_ok=True)
    passed = write_jsonl(
        run_dir / "tagged" / f"{batch}.jsonl", enrich.tag_articles(cleaned, settings.ner_model)
    )
    write_rejected(run_dir, f"process.{batch}", rejected)
    (run_dir / "deadletter").mkdir(parents=True, exist_ok=True)
    write_jsonl(run_dir / "deadletter" / f"process.{batch}.jsonl", quarantined_raws)
    return {"passed": passed, **tally(rejected)}


class DocumentTimeout(BaseException):
    """One document used up its processing time budget. A BaseException, so the libraries' own
    ``except Exception`` blocks (trafilatura has many) cannot swallow it."""


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise DocumentTimeout in this thread after ``seconds`` (SIGALRM; main thread only, which
    is where Airflow tasks and the worker processes run; elsewhere, and for 0, no limit)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum: int, _frame: object) -> None:
        raise DocumentTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def clean_within_budget(
    raws: Iterable[RawArticle],
    settings: Settings,
    quarantined: list[RawArticle] | None = None,
    reference: datetime | None = None,
) -> Iterator[Article | Rejection]:
    """Clean each article under the per-document time budget; one that overruns is quarantined.
    The raw input of every rejection is appended to ``quarantined`` when given."""
    for raw in raws:
        result: Article | Rejection
        try:
            with time_budget(settings.doc_time_budget_s):
                result = clean_stage.clean(raw, min_body_chars=settings.min_body_chars, reference=reference)
        except DocumentTimeout:
            result = Rejection(
                input_id=raw.input_id,
                stage="clean",
                outcome="quarantined",
                reason=f"cleaning took over {settings.doc_time_budget_s:g} s (the per-document budget)",
            )
        if isinstance(result, Rejection) and quarantined is not None:
            quarantined.append(raw)
        yield result  # outside the budget: the consumer's time is not this document's


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


@timed("index")
def step_index(
    run_dir: Path, settings: Settings, index_name: str | None = None, run_id: str | None = None
) -> dict[str, int]:
    """Drop in-run duplicates across batches, bulk-load everything, then record the fetch state."""
    from pipeline.fetch_state import FetchStateStore, PageState, SourceState

    name = index_name or settings.index
    duplicates: list[Rejection] = []
    distinct = split(dedup.drop_duplicates(tagged_articles(run_dir)), duplicates)
    client = index.connect(settings)
    try:
        concrete = index.ensure_index(client, name)
        lookup = index.story_lookup(client, name, retry_budget_s=settings.bulk_retry_budget_s)
        sent: set[str] = set()  # input ids handed to the load
        created_log = CreatedLog(run_dir / CREATED_LOG)
        unique = dedup.assign_stories(distinct, lookup=lookup)
        target = index.write_alias(name)
        with index.bulk_mode(client, target):
            result = index.bulk_load(
                client,
                target,
                (_noted(article, sent) for article in unique),
                chunk_size=settings.bulk_chunk_size,
                max_retries=settings.bulk_max_retries,
                retry_budget_s=settings.bulk_retry_budget_s,
                on_created=created_log.add,
            )
        write_rejected(run_dir, "dedup", duplicates)
        write_rejected(run_dir, "index", result.rejected)
        keep_raw_inputs(run_dir, "index", {r.input_id for r in result.rejected})
        # A fetched page is recorded only once its article reached the index (loaded, or a copy of
        # one that was): a page quarantined on the way, or refused by Elasticsearch, is fetched
        # again by the next run. Pages that brought no article (304, not HTML) are recorded as such.
        reached = (sent - {r.input_id for r in result.rejected}) | {d.input_id for d in duplicates}
        pages = [
            page.model_copy(update={"run_id": run_id or run_dir.name})
            for path in sorted((run_dir / "fetched").glob("*.jsonl"))
            for page in read_jsonl(path, PageState)
            if page.outcome != "ok" or page.url in reached
        ]
        specs, interval = read_plan(run_dir) if (run_dir / "sources.json").exists() else ({}, None)
        succeeded = [
            SourceState(
                source=source,
                fetched_at=datetime.now(UTC),
                interval_end=interval.end if interval else None,
                run_id=run_id or run_dir.name,
            )
            for source, status in source_status(run_dir).items()
            if status["ok"] and isinstance(specs.get(source), WebSource)
        ]
        recorded = 0
        if pages or succeeded:
            store = FetchStateStore(client, settings.fetch_state_index)
            store.ensure()
            recorded = store.commit(pages, succeeded)
    finally:
        client.close()
    # A document this run created stays "created" when a retried or cleared load writes it again.
    created = len(result.loaded_ids & (created_log.ids | result.created_ids))
    counts = {"created": created, "updated": result.indexed - created, "passed": result.indexed}
    write_json(
        run_dir / "index.json",
        {"index": name, "concrete_index": concrete, **counts, "fetch_states_recorded": recorded},
    )
    return {**counts, "duplicate": len(duplicates), "quarantined": len(result.rejected)}


def _noted(article: TaggedArticle, sent: set[str]) -> TaggedArticle:
    sent.add(article.input_id)
    return article
