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
"""

from __future__ import annotations

import glob
import json
import multiprocessing
import os
import re
import signal
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, TypeAdapter

from pipeline import clean as clean_stage
from pipeline import dedup, enrich, index, sources
from pipeline.records import Article, Candidate, Interval, RawArticle, Rejection, TaggedArticle
from pipeline.settings import Settings
from pipeline.sources_file import LocalSource, Source, WebSource, local_sources
from pipeline.staging import read_jsonl, write_jsonl

if TYPE_CHECKING:
    from pipeline.deadletter import DeadLetter

T = TypeVar("T", bound=BaseModel)
# Fork (Linux) lets workers share the model loaded by the parent; elsewhere the default context.
_FORK = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
# Rejections from these steps are inputs that never became raw articles; they count as inputs.
_INPUT_STEPS = ("sources", "discover", "plan", "fetch")
_SOURCES = TypeAdapter(list[Source])


# What fetching writes, and what a whole run writes (cleared when a step starts over).
_FETCH_OUTPUTS = (
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
_RUN_OUTPUTS = (
    *_FETCH_OUTPUTS,
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


def _timed(
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
                _write_json(
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


def _remove(run_dir: Path, pattern: str) -> None:
    for path in run_dir.glob(pattern):
        if path.is_file():
            path.unlink()


class ReconciliationError(RuntimeError):
    """The run's counts do not add up: some input is unaccounted for."""


class SourcesFailedError(RuntimeError):
    """At least one source could not be read at all; the rest of the run was still indexed."""


def _split(items: Iterable[T | Rejection], rejected: list[Rejection] | _RejectionFile) -> Iterator[T]:
    """Pass records through, collecting rejections on the side."""
    for item in items:
        if isinstance(item, Rejection):
            rejected.append(item)
        else:
            yield item


class _RejectionFile:
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

    def __enter__(self) -> _RejectionFile:
        return self

    def __exit__(self, error: type[BaseException] | None, *_: object) -> None:
        self._handle.close()
        if error is None:
            os.replace(self._tmp, self.path)
        else:
            self._tmp.unlink(missing_ok=True)


def _tally(rejected: list[Rejection]) -> dict[str, int]:
    return {str(outcome): n for outcome, n in Counter(r.outcome for r in rejected).items()}


def _write_rejected(run_dir: Path, name: str, rejected: list[Rejection]) -> None:
    (run_dir / "rejected").mkdir(parents=True, exist_ok=True)
    write_jsonl(run_dir / "rejected" / f"{name}.jsonl", rejected)


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, default=str) + "\n")
    os.replace(tmp, path)


_BATCH_NUMBER = "[0-9]" * 5


def _write_batches(run_dir: Path, prefix: str, articles: Iterable[RawArticle], batch_size: int) -> list[str]:
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
        _remove(run_dir, pattern)
    names: list[str] = []
    count = 0
    iterator = iter(articles)
    while chunk := list(islice(iterator, batch_size)):
        name = f"{prefix}-{len(names):05d}"
        count += write_jsonl(raw_dir / f"{name}.jsonl", chunk)
        names.append(name)
    # The count is kept so the report need not read the raw files again.
    _write_json(run_dir / "counts" / f"{prefix}.json", {"articles": count, "batches": names})
    return names


# -- sources ---------------------------------------------------------------------------------------


@_timed("plan_sources")
def step_plan_sources(
    run_dir: Path, specs: list[LocalSource | WebSource], interval: Interval | None
) -> list[str]:
    """Record what this run ingests (sources.json) and return the source names, one task each.

    The first step, so it clears what an earlier attempt of the same run left in the folder.
    """
    for pattern in _RUN_OUTPUTS:
        _remove(run_dir, pattern)
    _write_json(
        run_dir / "sources.json",
        {
            "sources": [s.model_dump(mode="json") for s in specs],
            "interval": interval.model_dump(mode="json") if interval else None,
        },
    )
    return [s.name for s in specs]


def _plan(run_dir: Path) -> tuple[dict[str, LocalSource | WebSource], Interval | None]:
    data = json.loads((run_dir / "sources.json").read_text())
    specs = _SOURCES.validate_python(data["sources"])
    interval = Interval.model_validate(data["interval"]) if data["interval"] else None
    return {s.name: s for s in specs}, interval


@_timed("discover", part=0)
def step_discover(run_dir: Path, name: str, settings: Settings) -> list[str]:
    """One source: local files -> raw batches (returned); web pages -> candidates/<name>.jsonl."""
    from pipeline.discover import SourceFailed, discover
    from pipeline.fetch import Fetcher

    source = _plan(run_dir)[0][name]
    status: dict[str, Any] = {"source": name, "kind": source.kind, "ok": True, "reason": ""}
    batches: list[str] = []
    with _RejectionFile(run_dir, f"discover.{name}") as rejected:
        if isinstance(source, LocalSource):
            items = sources.read_inputs(
                source.paths,
                source=name,
                language=source.language,
                warc_only=source.kind == "warc",
                timezone=source.timezone,
            )
            batches = _write_batches(run_dir, f"files-{name}", _split(items, rejected), settings.batch_size)
        else:
            (run_dir / "candidates").mkdir(parents=True, exist_ok=True)
            with Fetcher(settings, source.host_delay_s) as fetcher:
                try:
                    found = write_jsonl(
                        run_dir / "candidates" / f"{name}.jsonl", _split(discover(source, fetcher), rejected)
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
    _write_json(run_dir / "sources-status" / f"{name}.json", status)
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


@_timed("plan_fetch")
def step_plan_fetch(
    run_dir: Path, settings: Settings, consult_state: bool = True, run_id: str | None = None
) -> list[str]:
    """Candidates of all sources -> fetch/<NNNNN>.jsonl batches grouped by host; returns their names.
    ``consult_state=False`` (a replay) fetches every candidate afresh, whatever was fetched before.
    What this same run (``run_id``, default the run folder's name) recorded does not count as
    fetched before: a cleared or retried run plans as its first attempt did, so its counts repeat."""
    from pipeline.fetch_state import FetchStateStore

    specs, interval = _plan(run_dir)
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
    for pattern in _FETCH_OUTPUTS:
        _remove(run_dir, pattern)
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
    _write_rejected(run_dir, "plan", rejected)
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


@_timed("fetch", part=0)
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
    names = _write_batches(run_dir, f"web-{batch}", articles, settings.batch_size)
    (run_dir / "fetched").mkdir(parents=True, exist_ok=True)
    write_jsonl(run_dir / "fetched" / f"{batch}.jsonl", states)
    _write_rejected(run_dir, f"fetch.{batch}", rejected)
    return names


@_timed("process", part=0)
def step_process(run_dir: Path, batch: str, settings: Settings) -> dict[str, int]:
    """Clean and tag one batch: raw/<batch>.jsonl -> tagged/<batch>.jsonl."""
    rejected: list[Rejection] = []
    quarantined_raws: list[RawArticle] = []  # for their dead-letter records (see report)
    raws = read_jsonl(run_dir / "raw" / f"{batch}.jsonl", RawArticle)
    # A date in the text without a year takes it from the run's data interval (or the file's time).
    interval = _plan(run_dir)[1] if (run_dir / "sources.json").exists() else None
    cleaned: Iterator[Article] = _split(
        _clean_within_budget(raws, settings, quarantined_raws, interval.end if interval else None), rejected
    )
    (run_dir / "tagged").mkdir(parents=True, exist_ok=True)
    passed = write_jsonl(
        run_dir / "tagged" / f"{batch}.jsonl", enrich.tag_articles(cleaned, settings.ner_model)
    )
    _write_rejected(run_dir, f"process.{batch}", rejected)
    (run_dir / "deadletter").mkdir(parents=True, exist_ok=True)
    write_jsonl(run_dir / "deadletter" / f"process.{batch}.jsonl", quarantined_raws)
    return {"passed": passed, **_tally(rejected)}


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


def _clean_within_budget(
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


def raw_batches(run_dir: Path) -> list[str]:
    """Every raw batch of the run, in name order (local sources first, then fetched pages)."""
    return sorted(p.stem for p in (run_dir / "raw").glob("*.jsonl")) if (run_dir / "raw").exists() else []


def _tagged_articles(run_dir: Path) -> Iterator[TaggedArticle]:
    for batch in raw_batches(run_dir):
        yield from read_jsonl(run_dir / "tagged" / f"{batch}.jsonl", TaggedArticle)


@_timed("index")
def step_index(
    run_dir: Path, settings: Settings, index_name: str | None = None, run_id: str | None = None
) -> dict[str, int]:
    """Drop in-run duplicates across batches, bulk-load everything, then record the fetch state."""
    from pipeline.fetch_state import FetchStateStore, PageState, SourceState

    name = index_name or settings.index
    duplicates: list[Rejection] = []
    distinct = _split(dedup.drop_duplicates(_tagged_articles(run_dir)), duplicates)
    client = index.connect(settings)
    try:
        concrete = index.ensure_index(client, name)
        lookup = index.story_lookup(client, name, retry_budget_s=settings.bulk_retry_budget_s)
        sent: set[str] = set()  # input ids handed to the load
        created_log = _CreatedLog(run_dir / _CREATED_LOG)
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
        _write_rejected(run_dir, "dedup", duplicates)
        _write_rejected(run_dir, "index", result.rejected)
        _keep_raw_inputs(run_dir, "index", {r.input_id for r in result.rejected})
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
        specs, interval = _plan(run_dir) if (run_dir / "sources.json").exists() else ({}, None)
        succeeded = [
            SourceState(
                source=source,
                fetched_at=datetime.now(UTC),
                interval_end=interval.end if interval else None,
                run_id=run_id or run_dir.name,
            )
            for source, status in _source_status(run_dir).items()
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
    _write_json(
        run_dir / "index.json",
        {"index": name, "concrete_index": concrete, **counts, "fetch_states_recorded": recorded},
    )
    return {**counts, "duplicate": len(duplicates), "quarantined": len(result.rejected)}


# The ids of documents this run created, appended chunk by chunk: kept through retries and clears
# (never removed with the run's outputs), so created/updated stay true however often `load` runs.
_CREATED_LOG = "created-ids.txt"


class _CreatedLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.ids = set(path.read_text().split()) if path.exists() else set()

    def add(self, ids: list[str]) -> None:
        with self.path.open("a") as handle:
            handle.write("".join(f"{i}\n" for i in ids))
            handle.flush()
            os.fsync(handle.fileno())
        self.ids.update(ids)


def _noted(article: TaggedArticle, sent: set[str]) -> TaggedArticle:
    sent.add(article.input_id)
    return article


def _keep_raw_inputs(run_dir: Path, name: str, input_ids: set[str]) -> None:
    """deadletter/<name>.jsonl: the raw inputs of these ids, for their dead-letter records."""
    kept = [
        raw
        for batch in (raw_batches(run_dir) if input_ids else [])
        for raw in read_jsonl(run_dir / "raw" / f"{batch}.jsonl", RawArticle)
        if raw.input_id in input_ids
    ]
    (run_dir / "deadletter").mkdir(parents=True, exist_ok=True)
    write_jsonl(run_dir / "deadletter" / f"{name}.jsonl", kept)


def _source_status(run_dir: Path) -> dict[str, dict[str, Any]]:
    folder = run_dir / "sources-status"
    if not folder.exists():
        return {}
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


REPORT_SAMPLE = 1000  # rejections listed in report.json; all of them stay in rejected/*.jsonl
REPORT_REASONS = 50  # distinct reasons counted in the summary, most frequent first
_NUMBER = re.compile(r"\d+")


def _rejections(run_dir: Path) -> Iterator[Rejection]:
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
    for rejection in _rejections(run_dir):
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
    statuses = _source_status(run_dir)
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
    _write_json(run_dir / "report.json", summary)
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
        deadletter.record(client, settings.dead_letter_index, _rejections(run_dir), raws, run_id)
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


# -- dead letters ----------------------------------------------------------------------------------


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
        from_files.extend(_split((item for item in read if item.input_id in wanted), rejected))
    _write_batches(run_dir, "replay", [*kept, *from_files], settings.batch_size)
    _write_rejected(run_dir, "sources.replay", rejected)
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
    outcome = {r.input_id: r.outcome for r in _rejections(run_dir)}
    indexed = {a.input_id for a in _tagged_articles(run_dir)}
    done: dict[str, str] = {}
    for input_id in replayed:
        got = outcome.get(input_id)
        if got == "duplicate":
            done[input_id] = "duplicate"
        elif got is None and input_id in indexed:
            done[input_id] = "indexed"
    return done
