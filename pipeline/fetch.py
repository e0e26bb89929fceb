"""Fetch: a polite HTTP client for news pages, feeds and sitemaps.

Polite means: a descriptive User-Agent; robots.txt obeyed (RFC 9309: a 4xx robots.txt allows
everything, an unreachable one or a 5xx disallows the host for this run) including Crawl-delay;
requests to one host spaced by the longer of the source's delay and the Crawl-delay, with a cap
on concurrent requests per host; retries with exponential backoff and jitter on 429, 5xx and
connection errors, honouring Retry-After; conditional GET with the validators of the last fetch.

Safe means: only http(s); timeouts per phase and for the whole response; a cap on the
(decompressed) body size and on redirects; private, loopback, link-local and other non-public
addresses refused unless inside ``fetch_allow_networks`` -- checked for every redirect hop when
connecting, on the very addresses connected to (``_CheckedBackend``: no second DNS lookup that a
rebinding name could answer differently), and again on the peer of the response.

Every call returns a ``FetchResult``; nothing raises for a bad URL or server, so each URL's fate
is recorded with its reason.
"""

from __future__ import annotations

import hashlib
import ipaddress
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx
from protego import Protego
from tenacity import RetryCallState, Retrying, retry_if_exception_type, retry_if_result, stop_after_attempt

from pipeline import encoding
from pipeline.settings import Settings

HTML_TYPES = {"text/html", "application/xhtml+xml"}
REDIRECTS = {301, 302, 303, 307, 308}
RETRYABLE = {429, 500, 502, 503, 504}
ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309 asks crawlers to read at least 500 KiB

Outcome = Literal["ok", "not_modified", "skipped", "failed"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass
class FetchResult:
    """What happened to one URL: ``ok`` (body in ``text``/``data``), ``not_modified`` (304),
    ``skipped`` (by policy: robots.txt, non-HTML) or ``failed`` (with the reason)."""

    url: str
    outcome: Outcome
    reason: str = ""
    final_url: str | None = None
    status: int | None = None
    content_type: str | None = None
    data: bytes = b""
    text: str | None = None  # decoded HTML (pages only)
    etag: str | None = None
    last_modified: str | None = None
    attempts: int = 0
    location: str | None = None  # where a redirect points
    retry_after_s: float | None = None  # what a 429/503 asked for

    @property
    def content_sha(self) -> str | None:
        return hashlib.sha256(self.data).hexdigest() if self.data else None


class _Refused(Exception):
    """A policy refusal (not retried): becomes a ``failed`` or ``skipped`` result."""

    def __init__(self, outcome: Outcome, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.outcome: Outcome = outcome
        self.reason = reason
        self.status = status


@dataclass(frozen=True, slots=True)
class _Ask:
    """What one fetch asks for: the host delay, the validators of the last fetch, HTML only?"""

    delay: float | None
    etag: str | None
    last_modified: str | None
    html_only: bool


@dataclass
class _Host:
    """Per-host politeness: robots rules, the time the next request may start, a concurrency cap."""

    robots: Protego | None = None
    robots_refusal: str | None = None  # why the whole host is off limits this run
    robots_loaded: bool = False
    next_start: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    slots: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(1))


def resolve(host: str, port: int) -> list[str]:
    """The addresses a host name resolves to (IP literals in any spelling resolve to themselves)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except socket.gaierror as err:
        raise _Refused("failed", f"DNS lookup failed for {host}: {err.strerror}") from err
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _CheckedBackend(httpcore.SyncBackend):
    """Connects only to addresses that passed the address check, resolving each host once per
    connection: the address checked is the address connected to, so a DNS answer that changes
    between check and connection (DNS rebinding) cannot reach a private address."""

    def __init__(self, check: Callable[[str, str], None]) -> None:
        self._check = check

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = resolve(host, port)
        if not addresses:
            raise _Refused("failed", f"DNS lookup for {host} gave no address")
        for address in addresses:
            self._check(address, host)
        error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as err:
                error = err
        assert error is not None
        raise error


class Fetcher:
    """One per fetch batch; thread-safe, shared by the threads fetching different hosts."""

    def __init__(self, settings: Settings, host_delay_s: float | None = None) -> None:
        self.settings = settings
        self.host_delay_s = settings.fetch_host_delay_s if host_delay_s is None else host_delay_s
        self.allowed: list[IPNetwork] = [ipaddress.ip_network(n) for n in settings.fetch_allow_networks]
        self.client = httpx.Client(
            headers={"User-Agent": settings.fetch_user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(
                connect=settings.fetch_connect_timeout_s,
                read=settings.fetch_read_timeout_s,
                write=settings.fetch_read_timeout_s,
                pool=settings.fetch_total_timeout_s,
            ),
            follow_redirects=False,  # each hop is checked here
            trust_env=False,  # no proxy from the environment: the address checks must see the server
        )
        # httpx takes no network backend of its own; its pool does (checked by the SSRF tests).
        pool = self.client._transport._pool  # type: ignore[attr-defined]
        assert hasattr(pool, "_network_backend"), "httpx/httpcore changed: the address check would be lost"
        pool._network_backend = _CheckedBackend(self._check_address)
        self._hosts: dict[str, _Host] = {}
        self._hosts_lock = threading.Lock()

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- public -------------------------------------------------------------------------------------

    def fetch_page(
        self,
        url: str,
        etag: str | None = None,
        last_modified: str | None = None,
        host_delay_s: float | None = None,
    ) -> FetchResult:
        """An article page: HTML only (anything else is skipped with its type), decoded to text."""
        result = self._fetch(url, _Ask(host_delay_s, etag, last_modified, html_only=True))
        if result.outcome == "ok":
            result.text = encoding.decode(result.data, result.content_type)
        return result

    def fetch_document(self, url: str, host_delay_s: float | None = None) -> FetchResult:
        """A feed, sitemap or robots file: raw bytes, any content type."""
        return self._fetch(url, _Ask(host_delay_s, None, None, html_only=False))

    # -- the request loop ---------------------------------------------------------------------------

    def _fetch(self, url: str, ask: _Ask) -> FetchResult:
        result = FetchResult(url=url, outcome="failed")
        current = url
        try:
            for _hop in range(self.settings.fetch_max_redirects + 1):
                self._check_url(current)
                host = self._host(current, ask.delay)
                rules = host.robots
                if host.robots_refusal:
                    raise _Refused("skipped", host.robots_refusal)
                if rules is not None and not rules.can_fetch(current, self.settings.fetch_robots_token):
                    raise _Refused("skipped", f"disallowed by robots.txt: {current}")
                response = self._with_retries(current, host, ask, result)
                if response.location is not None:
                    current = response.location
                    continue
                return response
            raise _Refused("failed", f"more than {self.settings.fetch_max_redirects} redirects")
        except _Refused as refusal:
            result.outcome, result.reason = refusal.outcome, refusal.reason
            result.status = refusal.status or result.status
        except Exception as err:  # one URL's failure (bad encoding, bad port, ...) is that URL's alone
            result.outcome, result.reason = "failed", f"{type(err).__name__}: {err}"
        result.final_url = current
        return result

    def _with_retries(self, url: str, host: _Host, ask: _Ask, result: FetchResult) -> FetchResult:
        settings = self.settings

        def wait(state: RetryCallState) -> float:
            outcome = state.outcome
            answer = outcome.result() if outcome is not None and not outcome.failed else None
            if isinstance(answer, FetchResult) and answer.retry_after_s is not None:
                return answer.retry_after_s
            backoff: float = settings.fetch_backoff_s * 2 ** (state.attempt_number - 1)
            return backoff * random.uniform(1.0, 1.25)

        retrying = Retrying(
            stop=stop_after_attempt(settings.fetch_max_attempts),
            wait=wait,
            retry=retry_if_exception_type(httpx.TransportError)
            | retry_if_result(lambda r: r.status in RETRYABLE),
            retry_error_callback=lambda state: _exhausted(state),
            reraise=False,
        )
        answer: FetchResult = retrying(self._once, url, host, ask, result)
        return answer

    def _once(self, url: str, host: _Host, ask: _Ask, result: FetchResult) -> FetchResult:
        """One request; returns ``result`` filled in (or a retryable status), raises _Refused."""
        result.attempts += 1
        headers = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"} if ask.html_only else {}
        if ask.etag:
            headers["If-None-Match"] = ask.etag
        if ask.last_modified:
            headers["If-Modified-Since"] = ask.last_modified
        with host.slots:
            self._wait_turn(host, ask.delay)
            with self.client.stream("GET", url, headers=headers) as response:
                self._check_peer(response, url)
                result.status = response.status_code
                result.final_url = url
                if response.status_code in REDIRECTS:
                    location = response.headers.get("location")
                    if not location:
                        raise _Refused("failed", f"HTTP {response.status_code} without Location")
                    return FetchResult(
                        url=result.url,
                        outcome="failed",
                        status=response.status_code,
                        location=urljoin(url, location),
                    )
                if response.status_code in RETRYABLE:
                    return self._retryable(response, result)
                if response.status_code == 304:
                    result.outcome, result.reason = (
                        "not_modified",
                        "unchanged since the last fetch (HTTP 304)",
                    )
                    result.etag, result.last_modified = ask.etag, ask.last_modified
                    return result
                if response.status_code >= 400:
                    raise _Refused("failed", f"HTTP {response.status_code}", response.status_code)
                content_type = response.headers.get("content-type", "")
                media = content_type.split(";", 1)[0].strip().lower()
                if ask.html_only and media and media not in HTML_TYPES:
                    raise _Refused("skipped", f"not HTML: {media}", response.status_code)
                result.content_type = content_type or None
                result.data = self._read_capped(response, url)
                result.etag = response.headers.get("etag")
                result.last_modified = response.headers.get("last-modified")
                result.outcome, result.reason = "ok", ""
                return result

    def _retryable(self, response: httpx.Response, result: FetchResult) -> FetchResult:
        answer = FetchResult(url=result.url, outcome="failed", status=response.status_code)
        answer.reason = f"HTTP {response.status_code}"
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if retry_after is not None:
            if retry_after > self.settings.fetch_max_retry_after_s:
                raise _Refused(
                    "failed",
                    f"HTTP {response.status_code} with Retry-After {retry_after:.0f} s "
                    f"(over the {self.settings.fetch_max_retry_after_s:.0f} s cap)",
                    response.status_code,
                )
            answer.retry_after_s = retry_after
        answer.attempts = result.attempts
        return answer

    def _read_capped(self, response: httpx.Response, url: str) -> bytes:
        cap = self.settings.fetch_max_bytes
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise _Refused("failed", f"response too large: Content-Length {declared} > {cap} bytes")
        deadline = time.monotonic() + self.settings.fetch_total_timeout_s
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():  # decompressed, so a gzip bomb hits the cap too
            size += len(chunk)
            if size > cap:
                raise _Refused("failed", f"response too large: over {cap} bytes")
            if time.monotonic() > deadline:
                raise _Refused("failed", f"response took over {self.settings.fetch_total_timeout_s:.0f} s")
            chunks.append(chunk)
        return b"".join(chunks)

    # -- politeness ---------------------------------------------------------------------------------

    def _host(self, url: str, delay: float | None) -> _Host:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc.lower()}"
        with self._hosts_lock:
            host = self._hosts.get(key)
            if host is None:
                host = _Host(slots=threading.Semaphore(max(1, self.settings.fetch_host_concurrency)))
                self._hosts[key] = host
        with host.lock:
            if not host.robots_loaded:
                self._load_robots(key, host, delay)
                host.robots_loaded = True
        return host

    def _load_robots(self, base: str, host: _Host, delay: float | None) -> None:
        """RFC 9309: follow up to 5 redirects; 4xx allows all; 429, 5xx or no answer disallows all."""
        url = f"{base}/robots.txt"
        try:
            for _hop in range(6):
                self._check_url(url)
                self._wait_turn_locked(host, delay)
                with self.client.stream("GET", url) as response:
                    self._check_peer(response, url)
                    status = response.status_code
                    if status in REDIRECTS and response.headers.get("location"):
                        url = urljoin(url, response.headers["location"])
                        continue
                    body = b""
                    if status < 300:
                        for chunk in response.iter_bytes():
                            body += chunk
                            if len(body) >= ROBOTS_MAX_BYTES:
                                break
                    break
            else:
                raise _Refused("failed", "too many redirects")
        except (httpx.HTTPError, _Refused) as err:
            host.robots_refusal = f"robots.txt unreachable ({err}); host treated as disallowed"
            return
        if status == 429 or status >= 500:
            host.robots_refusal = f"robots.txt answered HTTP {status}; host treated as disallowed"
        elif status < 300:
            host.robots = Protego.parse(body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace"))
            # The robots.txt request itself counts: the first page waits out the Crawl-delay too.
            host.next_start = max(host.next_start, time.monotonic() + self._delay(host, delay))

    def _delay(self, host: _Host, delay: float | None) -> float:
        wanted = self.host_delay_s if delay is None else delay
        crawl_delay = host.robots.crawl_delay(self.settings.fetch_robots_token) if host.robots else None
        return max(wanted, float(crawl_delay or 0.0))

    def _wait_turn(self, host: _Host, delay: float | None) -> None:
        with host.lock:
            self._wait_turn_locked(host, delay)

    def _wait_turn_locked(self, host: _Host, delay: float | None) -> None:
        """Sleep until this host's next slot and book the one after it (caller holds host.lock)."""
        now = time.monotonic()
        start = max(now, host.next_start)
        host.next_start = start + self._delay(host, delay)
        if start > now:
            time.sleep(start - now)

    # -- address checks -----------------------------------------------------------------------------

    def _check_url(self, url: str) -> None:
        """Scheme, host, port and addresses, before any request (for a clear refusal); the
        connection checks the addresses it connects to again (_CheckedBackend)."""
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"}:
            raise _Refused(
                "failed", f"only http(s) URLs are fetched, not {parts.scheme or 'a relative URL'!r}"
            )
        if not parts.hostname:
            raise _Refused("failed", "URL has no host")
        try:
            parts.port  # noqa: B018 -- raises for a port out of range
        except ValueError as err:
            raise _Refused("failed", f"bad port in URL: {err}") from err
        for address in resolve(parts.hostname, parts.port or 443):
            self._check_address(address, parts.hostname)

    def _check_peer(self, response: httpx.Response, url: str) -> None:
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if peer:
            self._check_address(str(peer[0]), urlsplit(url).hostname or "")

    def _check_address(self, address: str, hostname: str) -> None:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
        if ip.is_global or any(ip in network for network in self.allowed):
            return
        raise _Refused("failed", f"refused non-public address {ip} for host {hostname}")


def _exhausted(state: RetryCallState) -> FetchResult:
    """After the last attempt: the URL failed, with what the last attempt saw."""
    outcome = state.outcome
    assert outcome is not None
    if outcome.failed:
        err = outcome.exception()
        args = state.args
        result: FetchResult = args[-1]
        result.outcome = "failed"
        result.reason = f"{type(err).__name__}: {err} (after {state.attempt_number} attempts)"
        return result
    answer: FetchResult = outcome.result()
    status = answer.status
    answer.outcome = "failed"
    answer.reason = f"HTTP {status} (after {state.attempt_number} attempts)"
    answer.attempts = state.attempt_number
    return answer


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
