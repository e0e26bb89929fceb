"""Fetching the web end to end: a real HTTP server on loopback, the real pipeline, a real node.

One feed, one sitemap index (gzipped news sitemap + plain sitemap) and one URL list point at the
test news site (tests/webserver.py). Two runs over the same data interval: the first must index
every good page exactly once and record every other URL with its reason, politely; the second
must fetch nothing unchanged and pick up the one page that changed.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from webserver import CP1252_TEXT, CRAWL_DELAY_S, INTERVAL, PAGES, NewsSite

from pipeline.run import run_sources
from pipeline.settings import get_settings
from pipeline.sources_file import load_sources

DISCOVERY = ("/robots.txt", "/feed.xml", "/sitemap")


def write_sources(folder: Path, site: NewsSite) -> Path:
    (folder / "more-urls.txt").write_text(
        "# one URL per line\n"
        f"{site.base}/news/kabarislamia-kaum?utm_source=twitter&utm_medium=social\n"
        "ftp://files.example.com/article.txt\n"
        f"{site.base}/private/other\n"
    )
    path = folder / "sources.toml"
    path.write_text(
        f"""
[[sources]]
name = "test-feed"
kind = "feed"
url = "{site.base}/feed.xml"

[[sources]]
name = "test-sitemap"
kind = "sitemap"
url = "{site.base}/sitemap_index.xml"
host_delay_s = 0

[[sources]]
name = "test-urls"
kind = "urls"
urls_file = "more-urls.txt"
exclude = ['/ignored/']
"""
    )
    return path


def outcomes(report: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {r["input_id"]: (r["outcome"], r["reason"]) for r in report["rejections"]}


def indexed_docs(es: Elasticsearch, index: str) -> dict[str, dict[str, Any]]:
    es.indices.refresh(index=index)
    hits = es.search(index=index, size=100, query={"match_all": {}})["hits"]["hits"]
    return {h["_source"]["url"]: h["_source"] for h in hits}


@pytest.mark.es_api
def test_two_nightly_runs_over_a_real_site(
    site: NewsSite, web_env: str, index_name: str, es_client: Elasticsearch, tmp_path: Path
) -> None:
    base = site.base
    specs = load_sources(write_sources(tmp_path, site))
    settings = get_settings()

    first = run_sources(specs, tmp_path / "run1", settings, INTERVAL, index_name=index_name, workers=1)

    # Every good page indexed exactly once, under its final URL.
    docs = indexed_docs(es_client, index_name)
    expected = {f"{base}{p}" for p in PAGES} | {f"{base}/busy", f"{base}/flaky", f"{base}/latin"}
    assert set(docs) == expected
    assert first["indexed"] == len(expected) == first["created"]
    assert first["reconciled"]
    # The windows-1252 page (charset only in <meta>) decoded right, curly quotes and dash included.
    assert "\u201cekonomi Indonesia tetap tangguh\u201d \u2013" in docs[f"{base}/latin"]["body"]
    assert CP1252_TEXT[:40] in docs[f"{base}/latin"]["body"]

    # Everything else is accounted for, with the reason.
    seen = outcomes(first)
    assert seen[f"{base}/private/leak"] == ("skipped", f"disallowed by robots.txt: {base}/private/leak")
    assert seen[f"{base}/private/other"][0] == "skipped"
    assert seen[f"{base}/report.pdf"] == ("skipped", "not HTML: application/pdf")
    assert seen[f"{base}/gone"] == ("quarantined", "fetch failed: HTTP 404")
    assert (
        seen[f"{base}/broken"][0] == "quarantined"
        and "HTTP 500 (after 3 attempts)" in seen[f"{base}/broken"][1]
    )
    assert "more than 3 redirects" in seen[f"{base}/loop/a"][1]
    assert "took over 2 s" in seen[f"{base}/slow"][1]
    assert "too large" in seen[f"{base}/huge"][1]
    assert "refused non-public address 10.255.255.1" in seen[f"{base}/to-private"][1]
    assert seen["ftp://files.example.com/article.txt"] == ("quarantined", "not an http(s) URL")
    # Listed by two sources (once with tracking parameters): fetched once, the other is a duplicate.
    assert seen[f"{base}/news/sciencealert-europa"][0] == "duplicate"
    assert seen[f"{base}/news/kabarislamia-kaum?utm_source=twitter&utm_medium=social"][0] == "duplicate"
    assert first["inputs"] == first["indexed"] + len(seen)
    assert first["sources"] == {"test-feed": "ok", "test-sitemap": "ok", "test-urls": "ok"}

    # Politeness: disallowed paths never requested; retries and delays honoured.
    assert site.requests_to("/private/") == []
    assert len(site.requests_to("/broken")) == 3
    busy = site.requests_to("/busy")
    assert [h.status for h in busy] == [429, 200] and busy[1].at - busy[0].at >= 1.0
    pages = sorted((h for h in site.hits if not h.path.startswith(DISCOVERY)), key=lambda h: h.at)
    gaps = [b.at - a.at for a, b in itertools.pairwise(pages)]
    assert min(gaps) >= CRAWL_DELAY_S - 0.02, gaps
    assert all("WartaBot" in h.headers.get("User-Agent", "") for h in site.hits)

    # Second run, same interval: one article was corrected in the meantime.
    site.versions["/news/spacereview-3834"] = 1
    site.hits.clear()
    second = run_sources(specs, tmp_path / "run2", settings, INTERVAL, index_name=index_name, workers=1)

    refetched = {h.path for h in site.hits if h.status == 200 and not h.path.startswith(DISCOVERY)}
    assert refetched <= {"/news/spacereview-3834", "/slow", "/huge"}  # the changed page, and failures
    assert "/news/spacereview-3834" in refetched
    assert {h.path for h in site.hits if h.status == 304} >= {
        "/news/kabarislamia-kaum",
        "/news/aljazeera-moonshot",
    }
    assert (second["indexed"], second["updated"], second["created"]) == (1, 1, 0)
    assert second["reconciled"]
    docs = indexed_docs(es_client, index_name)
    assert len(docs) == len(expected)
    assert "Correction 1" in docs[f"{base}/news/spacereview-3834"]["body"]
    again = outcomes(second)
    assert again[f"{base}/news/aljazeera-moonshot"] == (
        "skipped",
        "unchanged since the last fetch (HTTP 304)",
    )
    assert again[f"{base}/moved/1"][0] == "skipped"  # undated and fetched before


def test_a_failed_source_is_reported_and_the_rest_still_indexed(
    site: NewsSite, web_env: str, index_name: str, es_client: Elasticsearch, tmp_path: Path, seeds_dir: Path
) -> None:
    from pipeline.run import SourcesFailedError
    from pipeline.sources_file import LocalSource, WebSource

    specs = [
        WebSource(name="dead-feed", kind="feed", url=f"{site.base}/gone"),
        WebSource(name="not-a-feed", kind="feed", url=f"{site.base}/news/sciencealert-europa"),
        WebSource(name="no-such-host", kind="sitemap", url="http://news.does-not-exist.invalid/sitemap.xml"),
        WebSource(name="too-slow", kind="feed", url=f"{site.base}/slow"),
        LocalSource(name="seeds", kind="files", paths=[seeds_dir]),
    ]
    with pytest.raises(SourcesFailedError, match=r"4 source\(s\) failed: dead-feed: .*HTTP 404"):
        run_sources(specs, tmp_path / "run", get_settings(), INTERVAL, index_name=index_name, workers=1)
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["reconciled"] and report["indexed"] == 9
    assert report["sources"] == {
        "dead-feed": "failed",
        "not-a-feed": "failed",
        "no-such-host": "failed",
        "too-slow": "failed",
        "seeds": "ok",
    }
    failed = report["failed_sources"]
    assert "not an RSS or Atom feed" in failed["not-a-feed"]
    assert "DNS lookup failed for news.does-not-exist.invalid" in failed["no-such-host"]
    assert "response took over 2 s" in failed["too-slow"]
