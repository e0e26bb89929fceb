"""Sources: turn local files into RawArticles.

Accepted inputs (folders are walked recursively, in sorted order):
- ``.txt``: a plain-text article, first non-empty line the headline, then paragraphs;
- ``.html`` / ``.htm``: a saved web page (cleaned later by trafilatura);
- ``.jsonl``: one JSON object per line with ``text`` or ``html`` and optional ``url``, ``title``,
  ``published_at``, ``language``, ``source``;
- ``.warc`` / ``.warc.gz``: web archives (e.g. Common Crawl news extracts, read with warcio);
  every ``response`` record is an input: HTML responses become articles, others are skipped with
  their type. Request, metadata and warcinfo records are not inputs.
Every input yields exactly one RawArticle or one Rejection, so runs can account for all of them.
"""

from __future__ import annotations

import io
import json
import os
import zlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import ValidationError
from w3lib.encoding import read_bom
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from pipeline import encoding, trust
from pipeline.fetch import HTML_TYPES
from pipeline.records import RawArticle, Rejection

TEXT_SUFFIXES = {".txt"}
HTML_SUFFIXES = {".html", ".htm"}
JSONL_SUFFIXES = {".jsonl"}
WARC_SUFFIXES = {".warc", ".warc.gz"}
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES | WARC_SUFFIXES
MAX_FILE_BYTES = 20 * 1024 * 1024  # one article file, or one JSON line; a .jsonl file may be any size

Item = RawArticle | Rejection


def iter_files(paths: Iterable[Path], exact: bool = False) -> Iterator[tuple[Path, str, Path, str | None]]:
    """(file, source label, root, None) for every file under the given paths that may be read, and
    (entry, label, root, reason) for every entry that may not (``pipeline.trust.walk``); each real
    file once however many of the paths reach it (``in`` and ``in/sub``). Each path is the root of
    its own walk; ``exact`` takes it as given rather than resolved (a replay re-reads a file only
    at the real path it was read from, never through a link put there since)."""
    seen: set[Path] = set()
    for top in paths:
        label = trust.real(top).name or str(top)
        root = top.absolute() if exact else trust.real(top)
        for path, reason in trust.walk(top, root):
            if reason is None:
                real = trust.real(path)
                if real in seen:
                    continue
                seen.add(real)
            yield path, label, root, reason


def read_inputs(
    paths: Iterable[Path],
    source: str | None = None,
    language: str | None = None,
    warc_only: bool = False,
    exact: bool = False,
    timezone: str | None = None,
) -> Iterator[Item]:
    """Every input found under ``paths``, as a RawArticle or a Rejection with its reason.

    ``source`` names the source (default: each top path's name); ``language`` is a hint stamped on
    articles that carry none; ``warc_only`` skips anything that is not a WARC file. Only files
    inside the named paths are read (``pipeline.trust``); ``exact`` as in ``iter_files``.
    """
    paths = list(paths)
    for path in paths:
        if not os.path.lexists(path):
            raise FileNotFoundError(f"input path does not exist: {path}")
    for path, label, root, refusal in iter_files(paths, exact):
        name = source or label
        if refusal is not None:
            yield _reject(str(path.absolute()), "skipped", refusal, name)
            continue
        if warc_only and _suffix(path) not in WARC_SUFFIXES:
            yield _reject(str(trust.real(path)), "skipped", "not a WARC file (.warc, .warc.gz)", name)
            continue
        for item in read_file(path, name, root):
            if isinstance(item, Rejection):
                item.source = name
            else:
                item.language = item.language or language
                item.timezone = timezone
            yield item


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".warc.gz" if name.endswith(".warc.gz") else path.suffix.lower()


def read_file(path: Path, source: str, root: Path | None = None) -> Iterator[Item]:
    """One file's inputs. The file is opened through ``trust.open_input`` (it must lie inside
    ``root``, default: itself, and be a regular file); its id is its real path."""
    input_id = str(trust.real(path))
    suffix = _suffix(path)
    if suffix not in SUPPORTED:
        yield _reject(input_id, "skipped", f"unsupported file type {suffix or '(none)'!r}")
        return
    try:
        handle = trust.open_input(path, root if root is not None else trust.real(path))
    except trust.Refused as refused:
        yield _reject(input_id, "skipped", refused.reason)
        return
    with handle:
        status = os.fstat(handle.fileno())
        size = status.st_size
        file_time = datetime.fromtimestamp(status.st_mtime, tz=UTC)
        if size == 0:
            yield _reject(input_id, "quarantined", "empty file")
            return
        if suffix in JSONL_SUFFIXES:
            yield from _read_jsonl(handle, input_id, source)
            return
        if suffix in WARC_SUFFIXES:
            yield from read_warc(handle, input_id, source)
            return
        if size > MAX_FILE_BYTES:
            yield _reject(input_id, "quarantined", f"file too large ({size} bytes > {MAX_FILE_BYTES})")
            return
        data = handle.read(MAX_FILE_BYTES + 1)
    if b"\x00" in data[:8192] and not read_bom(data)[0]:  # UTF-16/32 text has NULs, and a BOM
        yield _reject(input_id, "quarantined", "binary data (NUL bytes), not a text or HTML file")
        return
    if suffix in HTML_SUFFIXES:
        content = encoding.decode(data)
        yield RawArticle(
            input_id=input_id, source=source, format="html", content=content, file_time=file_time
        )
        return
    item = _text_article(input_id, source, encoding.decode(data, html=False))
    if isinstance(item, RawArticle):
        item.file_time = file_time
    yield item


def _text_article(input_id: str, source: str, text: str) -> Item:
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) < 2:
        return _reject(input_id, "quarantined", "text file needs a headline line and a body")
    return RawArticle(
        input_id=input_id,
        source=source,
        format="text",
        title=lines[0],
        content="\n\n".join(lines[1:]),
    )


def _read_jsonl(handle: BinaryIO, file_id: str, source: str) -> Iterator[Item]:
    """Line by line, each line read with a bound, so a file of any size (or one endless line) is
    read in constant memory."""
    found = False
    for line_no, raw_line, length in _bounded_lines(handle, MAX_FILE_BYTES):
        input_id = f"{file_id}:{line_no}"
        if length > MAX_FILE_BYTES:
            found = True
            yield _reject(input_id, "quarantined", f"JSON line too large ({length} bytes > {MAX_FILE_BYTES})")
            continue
        for item in _jsonl_line(input_id, raw_line, source, first=line_no == 1):
            found = True
            yield item
    if not found:  # the file is an input too: it is accounted for even when it holds no record
        yield _reject(file_id, "quarantined", "JSON lines file has only blank lines")


def _bounded_lines(handle: BinaryIO, limit: int) -> Iterator[tuple[int, bytes, int]]:
    """(line number, line, its length) for each line; a line over ``limit`` bytes comes back empty
    with its full length, having been skipped in chunks rather than held."""
    line_no = 0
    while raw_line := handle.readline(limit + 1):
        line_no += 1
        length = len(raw_line)
        if length > limit and not raw_line.endswith(b"\n"):
            while (rest := handle.readline(1 << 20)) and not rest.endswith(b"\n"):
                length += len(rest)
            length += len(rest)
            raw_line = b""
        yield line_no, raw_line, length


def _jsonl_line(input_id: str, raw_line: bytes, source: str, first: bool) -> Iterator[Item]:
    if not raw_line.strip():
        return
    try:
        line = raw_line.decode("utf-8-sig" if first else "utf-8")
    except UnicodeDecodeError as err:
        yield _reject(input_id, "quarantined", f"not UTF-8 text: {err.reason} at byte {err.start}")
        return
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        yield _reject(input_id, "quarantined", f"invalid JSON: {err.msg} (column {err.colno})")
        return
    if not isinstance(record, dict):
        yield _reject(input_id, "quarantined", "JSON line is not an object")
        return
    yield _jsonl_article(input_id, source, record)


_JSONL_TEXT_FIELDS = ("url", "title", "language", "source")


def _jsonl_article(input_id: str, source: str, record: dict[str, Any]) -> Item:
    html, text = record.get("html"), record.get("text")
    if not (isinstance(html, str) and html.strip()) and not (isinstance(text, str) and text.strip()):
        return _reject(input_id, "quarantined", "JSON record has neither 'text' nor 'html'")
    for name in _JSONL_TEXT_FIELDS:
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            return _reject(input_id, "quarantined", f"'{name}' must be text, not {type(value).__name__}")
    try:
        published = _parse_datetime(record.get("published_at"))
    except (ValueError, OverflowError, OSError) as err:
        return _reject(input_id, "quarantined", f"bad published_at: {err}")
    title = record.get("title")
    try:
        return RawArticle(
            input_id=input_id,
            source=str(record.get("source") or source),
            format="html" if isinstance(html, str) and html.strip() else "text",
            content=html if isinstance(html, str) and html.strip() else str(text),
            url=record.get("url") or None,
            title=title.strip() if isinstance(title, str) and title.strip() else None,
            published_at=published,
            language=record.get("language") or None,
        )
    except ValidationError as err:  # whatever the checks above did not foresee stays this line's
        return _reject(input_id, "quarantined", f"bad record: {err.errors()[0]['msg']}")


GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


class _WarcTooLarge(Exception):
    """A line of the inflated archive runs beyond the cap without a line break."""


class _InflatedWarc(io.RawIOBase):
    """A WARC file's bytes as warcio should read them, with bounds warcio lacks (its ``readline``
    has none: a small gzip member of zeros would be inflated whole into memory).

    A ``.warc.gz`` is inflated here, one gzip member at a time (the standard compresses each record
    on its own), and a member is handed on only once it is whole and at most ``cap`` bytes: a larger
    one is inflated to its end in bounded chunks, thrown away, and counted in ``oversized``. In the
    bytes handed on, a run of over ``cap`` bytes without a line break raises ``_WarcTooLarge``.
    """

    def __init__(self, handle: BinaryIO, cap: int) -> None:
        super().__init__()
        self._handle, self._cap = handle, cap
        self._gzip = handle.peek(2)[:2] == GZIP_MAGIC if hasattr(handle, "peek") else False
        self._buffer, self._pos = b"", 0
        self._pending = b""  # compressed bytes after the last whole member
        self._since_newline = 0
        self.members = 0
        self.oversized: list[tuple[int, int]] = []  # (member number, inflated bytes at least)
        self.damaged: str | None = None  # why the compressed stream ended early, if it did
        self.emitted = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while self._pos >= len(self._buffer):
            if not self._refill():
                return 0
        size = min(len(target), len(self._buffer) - self._pos)
        piece = self._buffer[self._pos : self._pos + size]
        target[:size] = piece
        self._pos += size
        self.emitted += size
        last_break = piece.rfind(b"\n")
        self._since_newline = size - last_break - 1 if last_break >= 0 else self._since_newline + size
        if self._since_newline > self._cap:
            raise _WarcTooLarge(f"a line of over {self._cap} bytes")
        return size

    def _refill(self) -> bool:
        self._buffer, self._pos = b"", 0
        if not self._gzip:
            self._buffer = self._handle.read(_CHUNK)
            return bool(self._buffer)
        while not self._buffer:
            data = self._pending or self._handle.read(_CHUNK)
            self._pending = b""
            if not data or self.damaged:
                return False
            if not data.startswith(GZIP_MAGIC[: len(data)]):
                self.damaged = f"{len(data)}+ bytes that are not a gzip member"
                return False
            self._buffer = self._inflate_member(data)
        return True

    def _inflate_member(self, data: bytes) -> bytes:
        self.members += 1
        inflater = zlib.decompressobj(wbits=31)
        pieces: list[bytes] = []
        size = 0
        try:
            while True:
                piece = inflater.decompress(data, _CHUNK)
                size += len(piece)
                if size <= self._cap:
                    pieces.append(piece)
                elif pieces:
                    pieces = []  # too large: inflate on to the member's end, keeping nothing
                if inflater.eof:
                    self._pending = inflater.unused_data
                    break
                data = inflater.unconsumed_tail or self._handle.read(_CHUNK)
                if not data:
                    self.damaged = f"gzip member {self.members} cut short"
                    return b""
        except zlib.error as err:
            self.damaged = f"gzip member {self.members} unreadable ({err})"
            return b""
        if size > self._cap:
            self.oversized.append((self.members, size))
            return b""
        return b"".join(pieces)


def read_warc(
    handle: BinaryIO, path: str, source: str, max_record_bytes: int = MAX_FILE_BYTES
) -> Iterator[Item]:
    """Each response record of a WARC file: HTML -> RawArticle (URL from WARC-Target-URI).

    Bounded (see ``_InflatedWarc``): a gzip member inflating beyond the record cap (plus 1 MiB of
    headers) is quarantined on its own; a line without end quarantines the rest of the file."""
    cap = max_record_bytes + (1 << 20)
    with io.BufferedReader(_InflatedWarc(handle, cap)) as inflated:
        stream = inflated.raw
        number = 0
        archive = ArchiveIterator(inflated)
        try:
            for record in archive:
                if record.rec_type != "response":
                    continue
                number += 1
                uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                input_id = f"{path}#{number}:{uri}"
                yield _warc_response(record, input_id, uri, source, max_record_bytes)
        except ArchiveLoadFailed as err:
            yield _reject(f"{path}#{number + 1}", "quarantined", f"unreadable WARC record: {err}")
            return
        except _WarcTooLarge as err:
            yield _reject(
                f"{path}#{number + 1}",
                "quarantined",
                f"WARC data after response record {number} not read: {err} "
                "(a compression bomb or a corrupt file)",
            )
            return
        for member, size in stream.oversized:
            yield _reject(
                f"{path}#gzip-member-{member}",
                "quarantined",
                f"gzip member {member} inflates to over {size} bytes (cap {cap}): skipped, not read "
                "(a compression bomb, or a whole-file gzip instead of one member per record)",
            )
        # warcio stops quietly at a damaged stream: what was left unread means lost records. (Its
        # last record's length leaves out the record's closing CRLF CRLF.)
        end = (archive.get_record_offset() or 0) + (archive.get_record_length() or 0) + len(b"\r\n\r\n")
        if stream.damaged or end < stream.emitted:
            why = stream.damaged or f"{stream.emitted - end} bytes unreadable"
            yield _reject(
                f"{path}#{number + 1}",
                "quarantined",
                f"truncated or corrupt WARC: {why} after response record {number}",
            )


def _warc_response(record: Any, input_id: str, uri: str, source: str, max_bytes: int) -> Item:
    http = record.http_headers
    if http is None:
        return _reject(input_id, "skipped", "WARC response without HTTP headers (not an HTTP capture)")
    status = http.get_statuscode()
    if status != "200":
        return _reject(input_id, "skipped", f"archived HTTP status {status}, not 200")
    content_type = http.get_header("Content-Type") or ""
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in HTML_TYPES:
        return _reject(input_id, "skipped", f"not HTML: {media or 'no Content-Type'}")
    if not uri.startswith(("http://", "https://")):
        return _reject(input_id, "quarantined", f"WARC-Target-URI is not an http(s) URL: {uri!r}")
    body = record.content_stream().read(max_bytes + 1)
    if len(body) > max_bytes:
        return _reject(input_id, "quarantined", f"archived body too large (> {max_bytes} bytes)")
    if not body.strip():
        return _reject(input_id, "quarantined", "archived body is empty")
    return RawArticle(
        input_id=input_id, source=source, format="html", content=encoding.decode(body, content_type), url=uri
    )


def _parse_datetime(value: object) -> datetime | None:
    """ISO 8601 strings or Unix seconds; naive times are taken as UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    if not isinstance(value, str):
        raise ValueError(f"expected ISO 8601 text or Unix seconds, got {type(value).__name__}")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _reject(input_id: str, outcome: str, reason: str, source: str | None = None) -> Rejection:
    return Rejection(
        input_id=input_id,
        stage="sources",
        outcome=outcome,  # type: ignore[arg-type]
        reason=reason,
        source=source,
    )
