"""The polite fetcher against the real loopback site: address checks, robots.txt, retries,
conditional GET, caps; and WARC archives built here with warcio."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from webserver import NewsSite, write_warc

from pipeline.discover import SourceFailed, discover
from pipeline.fetch import Fetcher, parse_retry_after
from pipeline.records import Candidate, RawArticle, Rejection
from pipeline.settings import Settings
from pipeline.sources import read_inputs
from pipeline.sources_file import WebSource


def loopback(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "fetch_allow_networks": ["127.0.0.1/32"],
        "fetch_host_delay_s": 0.0,
        "fetch_backoff_s": 0.1,
        "fetch_max_attempts": 3,
        "fetch_total_timeout_s": 2.0,
    }
    return Settings(**(values | overrides))  # type: ignore[arg-type]


def test_loopback_is_refused_unless_allowed(site: NewsSite) -> None:
    with Fetcher(Settings(fetch_host_delay_s=0)) as fetcher:
        result = fetcher.fetch_page(f"{site.base}/news/sciencealert-europa")
    assert result.outcome == "failed"
    assert result.reason == "refused non-public address 127.0.0.1 for host 127.0.0.1"
    assert site.hits == []  # not even robots.txt was asked for
    for url, reason in [
        ("file:///etc/passwd", "only http(s) URLs are fetched, not 'file'"),
        ("http://169.254.169.254/latest/meta-data", "refused non-public address 169.254.169.254"),
        ("http://[::1]/x", "refused non-public address ::1"),
        (f"http://localhost:{site.base.rsplit(':', 1)[1]}/news/x", "refused non-public address"),  # via DNS
    ]:
        with Fetcher(Settings(fetch_host_delay_s=0)) as fetcher:
            assert reason in fetcher.fetch_page(url).reason
    assert site.hits == []


def test_conditional_get_answers_not_modified(site: NewsSite) -> None:
    with Fetcher(loopback()) as fetcher:
        first = fetcher.fetch_page(f"{site.base}/news/kabarislamia-kaum")
        assert first.outcome == "ok" and first.etag and first.text and "<html" in first.text.lower()
        again = fetcher.fetch_page(f"{site.base}/news/kabarislamia-kaum", etag=first.etag)
    assert (again.outcome, again.status) == ("not_modified", 304)
    assert site.hits[-1].headers["If-None-Match"] == first.etag


def test_unreachable_robots_txt_keeps_the_crawler_off_the_host(site: NewsSite) -> None:
    site.robots_status = 503
    with Fetcher(loopback()) as fetcher:
        result = fetcher.fetch_page(f"{site.base}/news/kabarislamia-kaum")
    assert result.outcome == "skipped"
    assert "robots.txt answered HTTP 503; host treated as disallowed" in result.reason
    assert [h.path for h in site.hits] == ["/robots.txt"]


def test_missing_robots_txt_allows_everything(site: NewsSite) -> None:
    site.robots_status = 404
    with Fetcher(loopback()) as fetcher:
        assert fetcher.fetch_page(f"{site.base}/private/leak").reason == "HTTP 404"


def test_retry_after_beyond_the_cap_fails_at_once(site: NewsSite) -> None:
    started = time.monotonic()
    with Fetcher(loopback(fetch_max_retry_after_s=60)) as fetcher:
        result = fetcher.fetch_page(f"{site.base}/too-long")
    assert result.outcome == "failed" and "Retry-After 86400 s (over the 60 s cap)" in result.reason
    assert time.monotonic() - started < 5
    assert len(site.requests_to("/too-long")) == 1


def test_retry_after_header_forms() -> None:
    assert parse_retry_after("120") == 120.0
    in_a_minute = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    assert 55 <= (parse_retry_after(in_a_minute) or 0) <= 61
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_gzip_bomb_sitemap_stops_at_the_size_cap(site: NewsSite) -> None:
    source = WebSource(name="bomb", kind="sitemap", url=f"{site.base}/bomb.xml.gz")
    with (
        Fetcher(loopback(fetch_max_bytes=1_000_000)) as fetcher,
        pytest.raises(SourceFailed, match="expands beyond"),
    ):
        list(discover(source, fetcher))


def test_sitemap_index_news_dates_and_patterns(site: NewsSite) -> None:
    source = WebSource(
        name="site", kind="sitemap", url=f"{site.base}/sitemap_index.xml", exclude=[r"/loop/", r"\.pdf$"]
    )
    with Fetcher(loopback()) as fetcher:
        found = list(discover(source, fetcher))
    candidates = {c.url.removeprefix(site.base): c for c in found if isinstance(c, Candidate)}
    rejected = {r.input_id.removeprefix(site.base): r for r in found if isinstance(r, Rejection)}
    # News sitemap (gzipped) gives publication dates with their time zone.
    assert candidates["/news/spacereview-3834"].date == site.dates["/news/spacereview-3834"]
    assert candidates["/news/aljazeera-moonshot"].date == site.dates["/news/aljazeera-moonshot"]
    assert candidates["/busy"].date is None  # no <lastmod>
    assert rejected["/loop/a"].reason == "matches exclude pattern '/loop/'"
    assert rejected["/report.pdf"].outcome == "skipped"
    assert len(candidates) + len(rejected) == 3 + 12


def test_warc_responses_become_articles(tmp_path: Path) -> None:
    html = (
        "<html><head><title>Banjir di Jakarta</title></head><body><article><p>{}</p></article></body></html>"
    )
    text = "Banjir merendam ratusan rumah di Jakarta Timur setelah hujan deras sejak Selasa malam. " * 4
    write_warc(
        tmp_path / "crawl.warc.gz",
        [
            ("https://berita.example.id/banjir", "text/html; charset=utf-8", html.format(text).encode()),
            ("https://berita.example.id/logo.png", "image/png", b"\x89PNG\r\n\x1a\n"),
            (
                "https://berita.example.id/latin",
                "text/html; charset=windows-1252",
                "<p>\u201cKutipan\u201d</p>".encode("cp1252"),
            ),
        ],
    )
    (tmp_path / "notes.txt").write_text("not an archive\nbody")
    items = list(read_inputs([tmp_path], source="cc-news", language="id", warc_only=True))
    articles = [i for i in items if isinstance(i, RawArticle)]
    rejections = {i.input_id.rsplit("#", 1)[-1]: i for i in items if isinstance(i, Rejection)}
    assert [a.url for a in articles] == [
        "https://berita.example.id/banjir",
        "https://berita.example.id/latin",
    ]
    assert all(a.source == "cc-news" and a.language == "id" for a in articles)
    assert "\u201cKutipan\u201d" in articles[1].content
    assert rejections["2:https://berita.example.id/logo.png"].reason == "not HTML: image/png"
    assert any(r.reason == "not a WARC file (.warc, .warc.gz)" for r in rejections.values())


def test_truncated_warc_is_quarantined_after_its_good_records(tmp_path: Path) -> None:
    body = b"<html><body><p>" + b"Isi berita. " * 50 + b"</p></body></html>"
    write_warc(tmp_path / "a.warc", [(f"https://e.id/{n}", "text/html", body) for n in range(3)])
    data = (tmp_path / "a.warc").read_bytes()
    (tmp_path / "a.warc").write_bytes(data[: len(data) - 200] + b"\x00garbage")
    items = list(read_inputs([tmp_path / "a.warc"], source="cc"))
    assert [type(i).__name__ for i in items][:2] == ["RawArticle", "RawArticle"]
    assert isinstance(items[-1], Rejection) and items[-1].outcome == "quarantined"
    assert "truncated or corrupt WARC" in items[-1].reason
    write_warc(tmp_path / "b.warc", [(f"https://e.id/{n}", "text/html", body) for n in range(3)])
    assert all(isinstance(i, RawArticle) for i in read_inputs([tmp_path / "b.warc"], source="cc"))


def test_hostile_responses_fail_with_a_reason_in_bounded_time(site: NewsSite) -> None:
    started = time.monotonic()
    with Fetcher(loopback(fetch_max_bytes=1_000_000, fetch_max_attempts=1)) as fetcher:
        header = fetcher.fetch_page(f"{site.base}/huge-header")
        bomb = fetcher.fetch_page(f"{site.base}/gzip-bomb")
    assert header.outcome == "failed" and "Receive buffer too long" in header.reason  # header block refused
    assert (bomb.outcome, bomb.reason) == ("failed", "response too large: over 1000000 bytes")
    assert time.monotonic() - started < 10


def test_one_broken_page_fails_alone_and_the_batch_goes_on(site: NewsSite, tmp_path: Path) -> None:
    """A body that is not the gzip it claims, and a redirect to a port out of range, each become
    that URL's quarantine record; the good pages of the same batch are written."""
    from pipeline.run import step_fetch
    from pipeline.staging import read_jsonl, write_jsonl

    paths = ["/news/kabarislamia-kaum", "/not-gzip", "/news/sciencealert-europa", "/to-bad-port"]
    candidates = [
        Candidate(url=f"{site.base}{p}", key=f"{site.base}{p}", source="site", via="test") for p in paths
    ]
    (tmp_path / "fetch").mkdir()
    write_jsonl(tmp_path / "fetch" / "00000.jsonl", candidates)
    batches = step_fetch(tmp_path, "00000", loopback())
    fetched = [a.input_id for b in batches for a in read_jsonl(tmp_path / "raw" / f"{b}.jsonl", RawArticle)]
    assert sorted(fetched) == sorted(f"{site.base}{p}" for p in paths if p.startswith("/news/"))
    rejected = {r.input_id: r for r in read_jsonl(tmp_path / "rejected" / "fetch.00000.jsonl", Rejection)}
    assert set(rejected) == {f"{site.base}/not-gzip", f"{site.base}/to-bad-port"}
    assert all(r.outcome == "quarantined" for r in rejected.values())
    assert "DecodingError" in rejected[f"{site.base}/not-gzip"].reason
    assert "bad port" in rejected[f"{site.base}/to-bad-port"].reason
    with Fetcher(loopback()) as fetcher, pytest.raises(SourceFailed, match="DecodingError"):
        list(discover(WebSource(name="s", kind="feed", url=f"{site.base}/not-gzip"), fetcher))


def test_dns_rebinding_cannot_reach_a_refused_address(
    site: NewsSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name that resolves to an allowed address when checked and to a refused one afterwards
    (a rebinding DNS server, played by the resolver): no request reaches the refused server."""
    port = int(site.base.rsplit(":", 1)[1])
    # Like a rebinding server whose short TTL runs out: the allowed address for the first
    # answers (the checks), then the refused one.
    answers = iter(["127.0.0.2"] * 2 + ["127.0.0.1"] * 50)
    real_getaddrinfo = socket.getaddrinfo

    def rebinding(host: str, *args: Any, **kwargs: Any) -> Any:
        return real_getaddrinfo(next(answers) if host == "news.rebind.test" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    settings = loopback(fetch_allow_networks=["127.0.0.2/32"], fetch_max_attempts=1)
    with Fetcher(settings) as fetcher:
        result = fetcher.fetch_page(f"http://news.rebind.test:{port}/admin?delete=all")
    assert result.outcome in ("failed", "skipped")
    assert site.hits == []  # neither robots.txt nor the page reached 127.0.0.1


def test_a_url_list_keeps_pages_that_differ_only_in_their_query() -> None:
    urls = [f"https://news.example.id/read.php?newsid={n}" for n in (101, 102, 103)]
    source = WebSource(name="list", kind="urls", urls=[*urls, urls[0] + "&utm_source=rss"])
    with Fetcher(Settings()) as fetcher:
        found = list(discover(source, fetcher))
    assert [c.url for c in found if isinstance(c, Candidate)] == urls
    assert [(r.outcome, r.input_id) for r in found if isinstance(r, Rejection)] == [
        ("duplicate", urls[0] + "&utm_source=rss")
    ]
