"""A real HTTP server on 127.0.0.1 playing a news site, for the fetch tests.

It serves the real article pages in ``fixtures/web`` (with ETag / Last-Modified and 304s), and
builds around them: an RSS feed, a sitemap index pointing to a gzipped news sitemap and a plain
sitemap, a robots.txt with a disallowed folder and a Crawl-delay, and the misbehaving endpoints a
crawler meets (429 with Retry-After, 500s, a slow body, an oversized body, redirect chains and a
loop, a PDF, a windows-1252 page). Every request is logged with its arrival time and answer.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.records import Interval

FIXTURES = Path(__file__).parent / "fixtures" / "web"
PAGES = {
    "/news/kabarislamia-kaum": "kabarislamia-kaum.html.gz",
    "/news/sciencealert-europa": "sciencealert-europa.html.gz",
    "/news/spacereview-3834": "spacereview-3834.html.gz",
    "/news/aljazeera-moonshot": "aljazeera-moonshot.html.gz",
    "/news/paradigmng-lawan": "paradigmng-lawan.html.gz",
}
CRAWL_DELAY_S = 0.25
# The data interval the tests run; the site dates its articles inside it.
INTERVAL = Interval(start=datetime(2026, 11, 26, 2, tzinfo=UTC), end=datetime(2026, 11, 27, 2, tzinfo=UTC))
# Indonesian text with the characters windows-1252 puts where latin-1 has control codes.
CP1252_TEXT = (
    "Menteri Keuangan Sri Mulyani mengatakan \u201cekonomi Indonesia tetap tangguh\u201d \u2013 "
    "meski harga minyak naik \u2026 Pertumbuhan kuartal ketiga mencapai 5,1 persen, "
    "didorong konsumsi rumah tangga dan investasi. Bank Indonesia menahan suku bunga acuan "
    "di tingkat 6 persen untuk menjaga stabilitas rupiah. Para ekonom memperkirakan inflasi "
    "tetap terkendali hingga akhir tahun, sementara ekspor batu bara dan minyak sawit "
    "masih menjadi penopang neraca perdagangan."
)

BUSY_TEXT = (
    "The harbour of the small coastal town reopened on Monday after three days of closure caused "
    "by the storm. Fishing boats returned to sea at dawn, and the harbour master said the damage "
    "to the breakwater was lighter than feared. Repairs to the fuel dock will take two more weeks."
)
FLAKY_TEXT = (
    "The city library will stay open until nine in the evening on Fridays from next month, the "
    "council announced. Librarians said students had asked for longer hours during the exam "
    "season, and the council found the budget by closing an unused branch office downtown."
)


def generated_article(title: str, text: str) -> bytes:
    return (
        f"<html><head><title>{title}</title></head><body><nav><a href='/'>Home</a></nav>"
        f"<article><h1>{title}</h1><p>{text}</p></article><footer>Warta test site</footer></body></html>"
    ).encode()


@dataclass
class Hit:
    at: float
    path: str
    status: int
    headers: dict[str, str]


@dataclass
class NewsSite:
    """The site's content and behaviour; tests change ``versions`` / ``dates`` between runs."""

    dates: dict[str, datetime]  # article path -> date the feed/sitemap announce
    versions: dict[str, int] = field(default_factory=dict)  # bump to change a page
    hits: list[Hit] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base: str = ""
    robots_status: int = 200

    def requests_to(self, prefix: str) -> list[Hit]:
        return [h for h in self.hits if h.path.startswith(prefix)]

    def page(self, path: str) -> bytes:
        html = gzip.decompress((FIXTURES / PAGES[path]).read_bytes())
        version = self.versions.get(path, 0)
        if version:  # a real edit: a correction paragraph added to the article
            marker = f"<p>Correction {version}: this article was updated.</p></body>".encode()
            html = html.replace(b"</body>", marker, 1)
        return html

    def count(self, key: str) -> int:
        with self.lock:
            self.counters[key] = self.counters.get(key, 0) + 1
            return self.counters[key]


def rss(site: NewsSite, paths: list[str]) -> bytes:
    items = "".join(
        f"<item><title>{p.rsplit('/', 1)[-1]}</title><link>{site.base}{p}</link>"
        f"<pubDate>{format_datetime(site.dates[p])}</pubDate></item>"
        for p in paths
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Warta test news</title>'
        f"<link>{site.base}/</link><description>test</description>{items}</channel></rss>"
    ).encode()


def news_sitemap(site: NewsSite, paths: list[str]) -> bytes:
    urls = "".join(
        f"<url><loc>{site.base}{p}</loc><news:news><news:publication><news:name>Warta test</news:name>"
        f"<news:language>en</news:language></news:publication>"
        f"<news:publication_date>{site.dates.get(p, _EPOCH).isoformat()}</news:publication_date>"
        f"<news:title>{p.rsplit('/', 1)[-1]}</news:title></news:news></url>"
        for p in paths
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>'
    ).encode()


def plain_sitemap(site: NewsSite, paths: list[str]) -> bytes:
    urls = "".join(
        f"<url><loc>{site.base}{p}</loc>"
        + (f"<lastmod>{site.dates[p].isoformat()}</lastmod>" if p in site.dates else "")
        + "</url>"
        for p in paths
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    ).encode()


def sitemap_index(site: NewsSite) -> bytes:
    children = "".join(
        f"<sitemap><loc>{site.base}{p}</loc></sitemap>"
        for p in ("/sitemaps/news.xml.gz", "/sitemaps/pages.xml")
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{children}</sitemapindex>'
    ).encode()


FEED_PAGES = ["/news/kabarislamia-kaum", "/news/sciencealert-europa"]
NEWS_SITEMAP_PAGES = ["/news/spacereview-3834", "/news/sciencealert-europa", "/private/leak"]
PLAIN_SITEMAP_PAGES = [
    "/news/aljazeera-moonshot",
    "/moved/1",  # -> /moved/2 -> /news/paradigmng-lawan
    "/loop/a",
    "/busy",  # 429 + Retry-After once, then the page
    "/flaky",  # 500 once, then the page
    "/broken",  # 500 always
    "/gone",  # 404
    "/slow",  # trickles its body for longer than the fetch deadline
    "/huge",  # bigger than the size cap, no Content-Length
    "/report.pdf",
    "/latin",  # windows-1252, declared only in <meta>
    "/to-private",  # redirects to a private address
]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *_: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._arrived = time.monotonic()
        self._route(self.server.site, self.path.split("?", 1)[0])

    def _log(self, status: int) -> None:
        """Logged before the answer is sent, so a client that has its answer sees the log entry."""
        site = self.server.site
        with site.lock:
            site.hits.append(
                Hit(self._arrived, self.path.split("?", 1)[0], status, dict(self.headers.items()))
            )

    def _send(
        self, status: int, body: bytes = b"", ctype: str = "text/html; charset=utf-8", **headers: str
    ) -> int:
        self._log(status)
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        if status != 304:
            self.wfile.write(body)
        return status

    def _route(self, site: NewsSite, path: str) -> int:
        if path == "/robots.txt" and site.robots_status != 200:
            return self._send(site.robots_status, b"robots unavailable", "text/plain")
        if path == "/robots.txt":
            body = f"User-agent: *\nDisallow: /private/\nCrawl-delay: {CRAWL_DELAY_S}\n".encode()
            return self._send(200, body, "text/plain")
        if path == "/feed.xml":
            return self._send(200, rss(site, FEED_PAGES), "application/rss+xml")
        if path == "/all.xml":  # every article the site dates
            return self._send(200, rss(site, sorted(site.dates)), "application/rss+xml")
        if path == "/sitemap_index.xml":
            return self._send(200, sitemap_index(site), "application/xml")
        if path == "/sitemaps/news.xml.gz":
            return self._send(
                200, gzip.compress(news_sitemap(site, NEWS_SITEMAP_PAGES)), "application/x-gzip"
            )
        if path == "/sitemaps/pages.xml":
            return self._send(200, plain_sitemap(site, PLAIN_SITEMAP_PAGES), "application/xml")
        if path in PAGES:
            return self._article(site, path)
        if path == "/moved/1":
            return self._send(301, Location="/moved/2")
        if path == "/moved/2":
            return self._send(302, Location=f"{site.base}/news/paradigmng-lawan")
        if path == "/loop/a":
            return self._send(302, Location="/loop/b")
        if path == "/loop/b":
            return self._send(302, Location="/loop/a")
        if path == "/to-private":
            return self._send(302, Location="http://10.255.255.1/internal")
        if path == "/busy":
            if site.count(path) == 1:
                return self._send(429, b"slow down", "text/plain", Retry_After="1")
            return self._html(generated_article("Harbour reopens after storm", BUSY_TEXT))
        if path == "/flaky":
            if site.count(path) == 1:
                return self._send(500, b"oops", "text/plain")
            return self._html(generated_article("Library opens late on Fridays", FLAKY_TEXT))
        if path == "/broken":
            return self._send(500, b"always broken", "text/plain")
        if path == "/slow":
            return self._trickle()
        if path == "/huge":
            return self._huge()
        if path == "/too-long":
            return self._send(503, b"maintenance", "text/plain", Retry_After="86400")
        if path == "/bomb.xml.gz":  # 64 MiB of zeros in a small gzip
            return self._send(200, gzip.compress(b"\0" * (64 * 1024 * 1024), 1), "application/x-gzip")
        if path == "/huge-header":  # 256 KiB of header: more than any client should hold
            return self._send(200, b"<p>x</p>", X_Padding="a" * (256 * 1024))
        if path == "/gzip-bomb":  # 64 MiB of zeros behind Content-Encoding: gzip
            return self._send(200, BOMB, Content_Encoding="gzip")
        if path == "/not-gzip":  # says gzip, is not: the client's decoder fails mid-body
            return self._send(200, b"<p>plain text, not gzip</p>" * 10, Content_Encoding="gzip")
        if path == "/to-bad-port":
            return self._send(302, Location="http://127.0.0.1:99999/x")
        if path == "/report.pdf":
            return self._send(200, b"%PDF-1.4\n%fake but typed\n", "application/pdf")
        if path == "/latin":
            html = (
                "<html><head><meta charset='windows-1252'><title>Ekonomi tetap tangguh</title></head>"
                f"<body><article><h1>Ekonomi tetap tangguh</h1><p>{CP1252_TEXT}</p></article></body></html>"
            )
            return self._send(200, html.encode("cp1252"), "text/html")
        return self._send(404, b"not found", "text/plain")

    def _article(self, site: NewsSite, path: str) -> int:
        return self._html(site.page(path), format_datetime(site.dates.get(path, _EPOCH), True))

    def _html(self, body: bytes, last_modified: str | None = None) -> int:
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            return self._send(304, ETag=etag)
        extra = {"Last_Modified": last_modified} if last_modified else {}
        return self._send(200, body, ETag=etag, **extra)

    def _trickle(self) -> int:
        self._log(200)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for _ in range(40):
                chunk = b"<p>still coming</p>"
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.flush()
                time.sleep(0.25)
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        return 200

    def _huge(self) -> int:
        self._log(200)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"<p>" + b"x" * 65536 + b"</p>"
        try:
            for _ in range(64):  # 4 MiB
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        return 200


_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
BOMB = gzip.compress(b"<p>" + b"\0" * (64 * 1024 * 1024), 9)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: NewsSite


def serve(site: NewsSite) -> tuple[_Server, threading.Thread]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.site = site
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def write_warc(path: Path, records: list[tuple[str, str, bytes]]) -> None:
    """A WARC.gz with one request + one response record per (url, content type, body)."""
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for url, content_type, body in records:
            writer.write_record(
                writer.create_warc_record(url, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n"))
            )
            http = StatusAndHeaders("200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http)
            )
