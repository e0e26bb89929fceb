"""Discover: the page URLs a web source offers, with the dates it gives for them.

URL lists are read as given; RSS/Atom feeds are parsed with feedparser; sitemaps with
ultimate-sitemap-parser (``usp``), following sitemap indexes (depth-capped, loop-safe) and
unpacking gzipped sitemaps with a size cap. Every document is fetched through the polite
``Fetcher``, so robots.txt, delays and retries apply to feeds and sitemaps as to pages.

Each discovered URL becomes a ``Candidate`` or a ``Rejection`` (filtered out by the source's
patterns, repeated, malformed); a source that cannot be read at all raises ``SourceFailed``.
"""

from __future__ import annotations

import calendar
import io
import logging
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import feedparser
from usp.objects.sitemap import AbstractIndexSitemap, InvalidSitemap
from usp.tree import sitemap_from_str

from pipeline import trust
from pipeline.dedup import canonical_url
from pipeline.fetch import Fetcher, FetchResult
from pipeline.records import Candidate, Rejection
from pipeline.sources_file import WebSource

MAX_SITEMAP_DEPTH = 5
GZIP_MAGIC = b"\x1f\x8b"

logging.getLogger("usp").setLevel(logging.WARNING)  # it logs every sitemap at INFO


class SourceFailed(RuntimeError):
    """The source as a whole could not be read (its feed or sitemap is unreachable or invalid)."""


def discover(source: WebSource, fetcher: Fetcher) -> Iterator[Candidate | Rejection]:
    """Every URL the source lists, once, as a Candidate or a Rejection with its reason."""
    if source.kind == "urls":
        found = _from_url_list(source)
    elif source.kind == "feed":
        assert source.url
        found = _from_feed(source.url, fetcher, source)
    else:
        assert source.url
        found = _from_sitemap(source.url, fetcher, source, depth=0, visited=set())
    seen: dict[str, str] = {}
    for item in _with_source(found, source.name):
        if isinstance(item, Rejection):
            yield item
            continue
        url, date, via = item
        input_id = url
        if not url.startswith(("http://", "https://")):
            yield _reject(input_id, "quarantined", "not an http(s) URL", source.name)
            continue
        try:
            key = canonical_url(url)
        except ValueError as err:
            yield _reject(input_id, "quarantined", f"unusable URL ({err})", source.name)
            continue
        unwanted = source.wants(url)
        if unwanted:
            yield _reject(input_id, "skipped", unwanted, source.name)
            continue
        if key in seen:
            yield _reject(
                input_id, "duplicate", f"listed again by the source (first as {seen[key]})", source.name
            )
            continue
        seen[key] = url
        yield Candidate(
            url=url,
            key=key,
            source=source.name,
            language=source.language,
            timezone=source.timezone,
            date=date,
            via=via,
            host_delay_s=source.host_delay_s,
            revalidate=source.revalidate,
        )


Found = tuple[str, datetime | None, str] | Rejection  # (url, date, via)


def _with_source(found: Iterator[Found], name: str) -> Iterator[Found]:
    for item in found:
        yield item.model_copy(update={"source": name}) if isinstance(item, Rejection) else item


def _from_url_list(source: WebSource) -> Iterator[Found]:
    yield from ((url.strip(), None, "urls") for url in source.urls)
    if source.urls_file is not None:
        if not source.urls_file.is_file():
            raise SourceFailed(f"urls_file not found: {source.urls_file}")
        try:
            opened = trust.open_input(source.urls_file, trust.real(source.urls_file))
        except trust.Refused as refused:
            raise SourceFailed(f"urls_file {source.urls_file}: {refused.reason}") from refused
        with io.TextIOWrapper(opened, encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if line and not line.startswith("#"):
                    yield line, None, str(source.urls_file)


def _fetch_document(url: str, fetcher: Fetcher, source: WebSource) -> FetchResult:
    result = fetcher.fetch_document(url, source.host_delay_s)
    if result.outcome != "ok":
        raise SourceFailed(f"{url}: {result.reason}")
    return result


def _from_feed(url: str, fetcher: Fetcher, source: WebSource) -> Iterator[Found]:
    result = _fetch_document(url, fetcher, source)
    feed: Any = feedparser.parse(result.data, response_headers={"content-location": url})
    if not feed.entries:
        problem = f": {feed.bozo_exception}" if feed.get("bozo") else ""
        if feed.get("bozo") or not feed.get("feed"):
            raise SourceFailed(f"{url}: not an RSS or Atom feed{problem}")
        return  # a valid feed with no entries today
    for number, entry in enumerate(feed.entries, start=1):
        link = entry.get("link")
        if not link:
            yield _reject(f"{url}#entry-{number}", "quarantined", "feed entry has no link")
            continue
        # dict.get: feedparser's own get() maps a missing key to another one, with a warning.
        dates = [dict.get(entry, k) for k in ("published_parsed", "updated_parsed")]
        stamps = [datetime.fromtimestamp(calendar.timegm(d), tz=UTC) for d in dates if d]
        yield link, max(stamps) if stamps else None, url


def _from_sitemap(
    url: str, fetcher: Fetcher, source: WebSource, depth: int, visited: set[str]
) -> Iterator[Found]:
    visited.add(url)
    result = _fetch_document(url, fetcher, source)
    text = _sitemap_text(result.data, fetcher.settings.fetch_max_bytes, url)
    sitemap = sitemap_from_str(text)
    if isinstance(sitemap, AbstractIndexSitemap):
        for child in sitemap.sub_sitemaps:
            if child.url in visited:
                yield _reject(child.url, "duplicate", f"sitemap already read in this run (listed by {url})")
            elif depth + 1 > MAX_SITEMAP_DEPTH:
                yield _reject(child.url, "skipped", f"sitemap nesting deeper than {MAX_SITEMAP_DEPTH}")
            else:
                try:
                    yield from _from_sitemap(child.url, fetcher, source, depth + 1, visited)
                except SourceFailed as err:
                    yield _reject(child.url, "quarantined", f"sub-sitemap failed: {err}")
        return
    if isinstance(sitemap, InvalidSitemap):
        raise SourceFailed(f"{url}: not a sitemap ({sitemap.reason})")
    pages = sitemap.pages
    if not pages and "<urlset" not in text[:4096]:
        raise SourceFailed(f"{url}: not a sitemap (no <urlset> or <sitemapindex>, no URLs)")
    for page in pages:
        story = page.news_story
        date = story.publish_date if story and story.publish_date else page.last_modified
        if date is not None and date.tzinfo is None:
            date = date.replace(tzinfo=UTC)  # a bare date (YYYY-MM-DD) is a UTC day
        yield page.url, date, url


def _sitemap_text(data: bytes, cap: int, url: str) -> str:
    """Gunzip (capped, so a small bomb cannot expand without bound) and decode a sitemap."""
    if data.startswith(GZIP_MAGIC):
        inflater = zlib.decompressobj(wbits=31)
        data = inflater.decompress(data, cap + 1)
        if len(data) > cap or inflater.unconsumed_tail:
            raise SourceFailed(f"{url}: gzipped sitemap expands beyond {cap} bytes")
    return data.decode("utf-8-sig", errors="replace")


def _reject(input_id: str, outcome: str, reason: str, source: str | None = None) -> Rejection:
    return Rejection(
        input_id=input_id,
        stage="discover",
        outcome=outcome,  # type: ignore[arg-type]
        reason=reason,
        source=source,
    )
