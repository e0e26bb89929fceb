"""Bytes to text for every input (files, WARC records, fetched pages), whatever the encoding says.

Order, like a browser but suspicious of declarations that the bytes contradict:
1. a byte-order mark (UTF-8, UTF-16, UTF-32) decides;
2. bytes that are valid UTF-8 are UTF-8, whatever the page declares;
3. bytes that are *mostly* UTF-8 (valid multi-byte sequences, a few stray bytes) are mixed: the
   UTF-8 parts stay UTF-8 and each stray byte is read as windows-1252 (the usual culprit: a
   pasted quote or dash from an old CMS);
4. otherwise a declared non-UTF-8 charset (HTTP header, then ``<meta>``) that the codec knows,
   else windows-1252 (the web's fallback for undeclared Latin pages), else charset-normalizer's
   guess, else UTF-8 with replacement characters;
5. ftfy repairs mojibake that was already in the bytes (UTF-8 read as latin-1 and saved again:
   ``CafÃ©`` -> ``Café``); it changes nothing in text without that signature.
"""

from __future__ import annotations

import codecs
from functools import lru_cache

import ftfy
from charset_normalizer import from_bytes
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

_UTF8 = {"utf-8", "utf8", "utf_8"}
_FTFY = ftfy.TextFixerConfig(
    unescape_html=False,  # the HTML parser unescapes entities itself
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    normalization=None,
    explain=False,
)


def _cp1252_fallback(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeDecodeError):
        raise err
    bad = err.object[err.start : err.end]
    return bad.decode("cp1252", errors="replace"), err.end


codecs.register_error("warta-cp1252", _cp1252_fallback)


def decode(data: bytes, content_type: str | None = None, html: bool = True) -> str:
    """Text of ``data``; ``content_type`` is the HTTP header, if any; ``html`` enables <meta> lookup."""
    return _repair(_decode(data, content_type, html))


def _decode(data: bytes, content_type: str | None, html: bool) -> str:
    bom, _ = read_bom(data)
    if bom:
        return data.decode(_python_name(bom) or "utf-8", errors="replace").lstrip("\ufeff")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _mostly_utf8(data):
        return data.decode("utf-8", errors="warta-cp1252")
    declared = http_content_type_encoding(content_type) if content_type else None
    if not declared and html:
        declared = html_body_declared_encoding(data[:8192])
    name = _python_name(declared) if declared else None
    if name and name not in _UTF8:
        return data.decode(name, errors="replace")
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data[:65536]).best()
    if best is not None and best.encoding:
        return data.decode(best.encoding, errors="replace")
    return data.decode("utf-8", errors="replace")


def _mostly_utf8(data: bytes) -> bool:
    """At least as many valid UTF-8 multi-byte characters as invalid bytes (and a few). Text in a
    single-byte encoding almost never forms valid multi-byte UTF-8 by accident."""
    text = data.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd") - data.count("\xef\xbf\xbd".encode("latin-1"))
    valid_multibyte = sum(1 for ch in text if ord(ch) > 0x7F and ch != "\ufffd")
    return valid_multibyte >= max(invalid, 3)


@lru_cache(maxsize=64)
def _python_name(label: str) -> str | None:
    """Python's codec name for a charset label, or None if Python does not know it."""
    try:
        name = codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None
    # WHATWG: pages labelled latin-1 / ascii are decoded as windows-1252.
    return "cp1252" if name in ("latin-1", "iso8859-1", "ascii") else name


def _repair(text: str) -> str:
    return ftfy.fix_text(text, _FTFY) if ftfy.badness.is_bad(text) else text
