"""Commands on articles: ingest, search, reindex, the index status, the dead letters."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, overload

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from pipeline.cli.app import (
    app,
    console,
    deadletter_app,
    index_app,
)
from pipeline.settings import get_settings

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pipeline.deadletter import DeadLetter
    from pipeline.records import TaggedArticle


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Local files or folders (.txt, .html, .jsonl, .warc[.gz]); or use --sources."),
    ] = None,
    sources: Annotated[
        Path | None, typer.Option(help="A sources file (TOML/YAML): files, WARC, URL lists, feeds, sitemaps.")
    ] = None,
    since: Annotated[
        datetime | None, typer.Option(help="Data interval start: fetch pages dated from here (with --until).")
    ] = None,
    until: Annotated[datetime | None, typer.Option(help="Data interval end (exclusive).")] = None,
    index: Annotated[str | None, typer.Option(help="Index name (default: WARTA_INDEX).")] = None,
    run_id: Annotated[str | None, typer.Option(help="Staging folder name (default: a timestamp).")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default: WARTA_WORKERS or cores).")
    ] = None,
) -> None:
    """Run every stage over PATHS or the --sources file and print the run report as JSON.

    Without --since/--until, web sources fetch pages never fetched before, and pages whose feed or
    sitemap date is newer than their last fetch.
    """
    from pipeline.records import Interval
    from pipeline.run import ReconciliationError, SourcesFailedError, run_sources
    from pipeline.sources_file import SourcesFileError, load_sources, local_sources
    from pipeline.staging import run_dir

    if bool(paths) == bool(sources):
        raise typer.BadParameter("give either PATHS or --sources")
    if (since is None) != (until is None):
        raise typer.BadParameter("--since and --until go together")
    interval = None
    if since is not None and until is not None:
        interval = Interval(start=_utc(since), end=_utc(until))
    settings = get_settings()
    try:
        specs = load_sources(sources) if sources else local_sources(paths or [])
    except SourcesFileError as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(2) from err
    folder = run_dir(settings.staging_dir / "cli", run_id or datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ"))
    steps = ["discover", "fetch", "process", "index"]
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("starting", total=len(steps))

        def on_step(name: str) -> None:
            progress.update(task, description=name, completed=steps.index(name))

        try:
            report = run_sources(
                specs, folder, settings, interval, index_name=index, on_step=on_step, workers=workers
            )
        except (ReconciliationError, SourcesFailedError) as err:
            console.print(f"[red]{err}[/red] (report: {folder / 'report.json'})")
            raise typer.Exit(1) from err
        progress.update(task, description="done", completed=len(steps))
    typer.echo(json.dumps(report, ensure_ascii=False, indent=2))


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="simple_query_string syntax; '' matches all.")],
    person: Annotated[list[str] | None, typer.Option(help="Only articles naming this person.")] = None,
    organisation: Annotated[
        list[str] | None, typer.Option(help="Only articles naming this organisation.")
    ] = None,
    location: Annotated[list[str] | None, typer.Option(help="Only articles naming this place.")] = None,
    language: Annotated[str | None, typer.Option(help="ISO 639-1 code, e.g. id or en.")] = None,
    source: Annotated[str | None, typer.Option(help="Source name.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Dated on or after: a day (from its start) or an ISO time.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Dated on or before: a day (to its end, whole) or an ISO time.")
    ] = None,
    tz: Annotated[str, typer.Option(help="Zone of --since/--until days and times without one.")] = "UTC",
    size: Annotated[int, typer.Option(min=1, max=1000)] = 10,
    facets: Annotated[
        int, typer.Option(min=0, max=100, help="Top N people, places, sources... (0: none).")
    ] = 0,
    one_per_story: Annotated[bool, typer.Option(help="Only the best article of each story.")] = False,
    index: Annotated[str | None, typer.Option(help="Index name (default: WARTA_INDEX).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    page: Annotated[bool, typer.Option(help="Print a cursor for the next page of results.")] = False,
    after: Annotated[str | None, typer.Option(help="The next page, from a previous page's cursor.")] = None,
    text_only: Annotated[
        bool, typer.Option(help="Match words in the text only, not the entities they name.")
    ] = False,
) -> None:
    """Search the index: highlighted snippets and entity tags for the top hits, facets on request.
    Words that name a person, organisation or place also find the articles tagged with it in any
    language (`Rusia` finds articles tagged Russia); each hit says which entity matched."""
    from elasticsearch import ConnectionError as EsConnectionError
    from elasticsearch import NotFoundError

    from pipeline.index import connect
    from pipeline.search import SearchFilters
    from pipeline.search import search as run_search

    settings = get_settings()
    try:
        published_from = _bound(since, tz, end=False)
        published_to = _bound(until, tz, end=True)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from err
    filters = SearchFilters(
        persons=tuple(person or ()),
        organisations=tuple(organisation or ()),
        locations=tuple(location or ()),
        language=language,
        source=source,
        published_from=published_from,
        published_to=published_to,
    )
    name = index or settings.index
    client = connect(settings)
    try:
        result = run_search(
            client,
            name,
            query,
            filters,
            size=size,
            facets=facets,
            one_per_story=one_per_story,
            page=page,
            after=after,
            entity_match=not text_only,
        )
    except ValueError as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(2) from err
    except NotFoundError as err:
        console.print(
            f"[red]no index {name} at {settings.es_url}: run `warta ingest` (or set WARTA_INDEX)[/red]"
        )
        raise typer.Exit(1) from err
    except EsConnectionError as err:
        console.print(
            f"[red]cannot reach Elasticsearch at {settings.es_url}: start one with `warta es start`, "
            "or set WARTA_ES_URL[/red]"
        )
        raise typer.Exit(1) from err
    finally:
        client.close()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "total": result.total,
                    "stories": result.stories,
                    "counted": "articles",  # total and facets count articles, also with --one-per-story
                    "next": result.next,
                    "entities": [
                        {"query": e.text, "names": [{"field": f, "value": v} for f, v in e.names]}
                        for e in result.entities
                    ],
                    "unmatched": [
                        {"field": f, "value": v, "nearest": near} for f, v, near in result.unmatched
                    ],
                    "hits": [asdict(h) for h in result.hits],
                    "facets": {
                        name: [{"value": v, "count": n} for v, n in values]
                        for name, values in result.facets.items()
                    },
                },
                ensure_ascii=False,
            )
        )
        return
    out = Console(soft_wrap=True)
    out.print(f"[bold]{result.total}[/bold] matching articles for [cyan]{query!r}[/cyan]")
    for entity in result.entities:
        tags = ", ".join(f"{f} {v!r}" for f, v in entity.names)
        out.print(f"{entity.text!r} also matches articles tagged {tags}", markup=False)
    for es_field, value, nearest in result.unmatched:
        hint = f"; nearest: {', '.join(nearest)}" if nearest else ""
        out.print(f"no article has {es_field} {value!r}{hint}")
    if result.stories is not None:
        out.print(f"{result.stories} stories: the best article of each is shown; facets count articles")
    for rank, hit in enumerate(result.hits, start=1):
        out.print(
            f"\n[bold]{rank}. {hit.title}[/bold]  ({hit.language}, {hit.source}, score {hit.score:.2f})"
        )
        if hit.url or hit.published_at:
            out.print(f"   {hit.published_at or ''} {hit.url or ''}".rstrip())
        for match in hit.matched_entities:
            out.print(f"   [dim]tagged:[/dim] {match['field']} {match['value']!r} ({match['query']!r})")
        for snippet in hit.highlights:
            text = snippet.replace("\n", " ").replace("[", "\\[")
            out.print("   … " + text.replace("«", "[yellow]").replace("»", "[/yellow]") + " …")
        for label, names in (
            ("people", hit.persons),
            ("organisations", hit.organisations),
            ("places", hit.locations),
        ):
            if names:
                out.print(f"   [dim]{label}:[/dim] " + ", ".join(names))
    for name, values in result.facets.items():
        if values:
            out.print(f"\n[bold]{name}[/bold]: " + ", ".join(f"{v} ({n})" for v, n in values))
    if result.next:
        out.print(f"\nnext page: --after {result.next}")


@app.command()
def reindex(
    index: Annotated[str | None, typer.Option(help="Index name (alias; default: WARTA_INDEX).")] = None,
    re_enrich: Annotated[
        bool, typer.Option(help="Re-run entity tagging with the current model while copying.")
    ] = False,
    keep: Annotated[
        int | None, typer.Option(help="Old versions to keep (default: WARTA_KEEP_OLD_INDICES).")
    ] = None,
) -> None:
    """Build the next index version (current mapping, analyzers and, with --re-enrich, entity model),
    verify it, and swap the aliases atomically; prints what was done as JSON."""
    from pipeline import dates, enrich
    from pipeline import index as es_index

    settings = get_settings()
    name = index or settings.index

    # Every reindex dates what older versions left undated; --re-enrich also re-tags entities.
    def transform(docs: Iterable[TaggedArticle]) -> Iterable[TaggedArticle]:
        dated = dates.backfill(docs)
        return enrich.tag_articles(dated, settings.ner_model) if re_enrich else dated

    client = es_index.connect(settings)
    try:
        # Without anything to change here, the cluster copies the documents itself (_reindex).
        needs_transform = re_enrich or (
            bool(client.indices.exists(index=name))
            and client.count(index=name, query=dates.UNDATED_QUERY)["count"] > 0
        )
        report = es_index.reindex(
            client,
            name,
            transform=transform if needs_transform else None,
            keep_old=settings.keep_old_indices if keep is None else keep,
            chunk_size=settings.bulk_chunk_size,
        )
    except es_index.IndexLayoutError as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(1) from err
    finally:
        client.close()
    typer.echo(json.dumps(asdict(report)))


@index_app.command("status")
def index_status(
    index: Annotated[str | None, typer.Option(help="Index name (alias; default: WARTA_INDEX).")] = None,
) -> None:
    """Aliases, versions, document counts and whether the mapping is current, as JSON."""
    from pipeline import index as es_index

    settings = get_settings()
    name = index or settings.index
    client = es_index.connect(settings)
    try:
        current = es_index.current_index(client, name)
        info = {
            "name": name,
            "write_alias": es_index.write_alias(name),
            "current": current,
            "versions": es_index.versions(client, name),
            "documents": client.count(index=name)["count"] if current else 0,
            "mapping_version": es_index.mapping_version(client, current) if current else None,
            "code_mapping_version": es_index.MAPPING_VERSION,
        }
    finally:
        client.close()
    info["reindex_needed"] = (
        info["current"] is not None and info["mapping_version"] != info["code_mapping_version"]
    )
    typer.echo(json.dumps(info))


def _letters(
    ids: list[str] | None, status: str | None, stage: str | None, reason: str | None
) -> list[DeadLetter]:
    from pipeline import deadletter
    from pipeline import index as es_index

    settings = get_settings()
    if status not in (None, "open", "resolved", "all"):
        raise typer.BadParameter("--status is open, resolved or all")
    client = es_index.connect(settings)
    try:
        return deadletter.search(
            client,
            settings.dead_letter_index,
            status=None if status == "all" else status,  # type: ignore[arg-type]
            stage=stage,
            reason=reason,
            ids=[deadletter.letter_id(i) if not _is_letter_id(i) else i for i in ids] if ids else None,
        )
    finally:
        client.close()


def _is_letter_id(value: str) -> bool:
    return len(value) == 40 and all(ch in "0123456789abcdef" for ch in value)


StatusOption = Annotated[str, typer.Option(help="open, resolved or all.")]
StageOption = Annotated[str | None, typer.Option(help="Only this stage (sources, fetch, clean, index...).")]
ReasonOption = Annotated[str | None, typer.Option(help="Only letters whose reason has these words.")]


@deadletter_app.command("list")
def deadletter_list(
    status: StatusOption = "open", stage: StageOption = None, reason: ReasonOption = None
) -> None:
    """One JSON line per dead letter (newest first), without the kept raw input."""
    for letter in _letters(None, status, stage, reason):
        typer.echo(json.dumps({"id": letter.id, **letter.model_dump(mode="json", exclude={"raw"})}))


@deadletter_app.command("show")
def deadletter_show(
    ids: Annotated[list[str], typer.Argument(help="Letter ids or input ids.")],
) -> None:
    """The full dead letters, kept raw input included, as JSON."""
    letters = _letters(ids, "all", None, None)
    if not letters:
        console.print("[red]no such dead letter[/red]")
        raise typer.Exit(1)
    for letter in letters:
        typer.echo(json.dumps({"id": letter.id, **letter.model_dump(mode="json")}, ensure_ascii=False))


@deadletter_app.command("replay")
def deadletter_replay(
    ids: Annotated[list[str] | None, typer.Argument(help="Letter ids or input ids.")] = None,
    all_open: Annotated[
        bool, typer.Option("--all", help="Every open letter (with --stage/--reason).")
    ] = False,
    stage: StageOption = None,
    reason: ReasonOption = None,
    index: Annotated[str | None, typer.Option(help="Index name (default: WARTA_INDEX).")] = None,
    run_id: Annotated[str | None, typer.Option(help="Staging folder name (default: a timestamp).")] = None,
) -> None:
    """Run open dead letters through the pipeline again and print the run report as JSON.

    Letters whose input is now indexed (or a duplicate, or skipped) are resolved; the rest stay
    open with their new reason. Fix the cause first (a setting, the code, the file).
    """
    from pipeline.run import ReconciliationError, SourcesFailedError, replay
    from pipeline.staging import run_dir

    if bool(ids) == all_open:
        raise typer.BadParameter("give letter ids or --all")
    letters = _letters(ids, "open", stage, reason)
    if not letters:
        console.print("nothing to replay")
        return
    settings = get_settings()
    name = run_id or "replay-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = run_dir(settings.staging_dir / "cli", name)
    try:
        result = replay(letters, folder, settings, index_name=index)
    except (ReconciliationError, SourcesFailedError) as err:
        console.print(f"[red]{err}[/red] (report: {folder / 'report.json'})")
        raise typer.Exit(1) from err
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2))


def _bound(value: str | None, zone: str, end: bool) -> datetime | None:
    """A --since/--until value: a day means the whole day in ``zone`` (its start for --since, the
    start of the next day, exclusive, for --until); a time without a zone is in ``zone``."""
    if value is None:
        return None
    from datetime import date, timedelta
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        where = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"unknown time zone {zone!r}") from err
    try:
        day = date.fromisoformat(value)
    except ValueError:
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=where)
    start = datetime(day.year, day.month, day.day, tzinfo=where)
    return start + timedelta(days=1) if end else start


@overload
def _utc(value: datetime) -> datetime: ...
@overload
def _utc(value: None) -> None: ...
def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
