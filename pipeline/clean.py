"""Clean: main text and metadata from a RawArticle, plus language.

HTML goes through trafilatura (main text, title, author, date, site name, canonical URL).
trafilatura leaves language empty, so it is identified here with py3langid unless the input
gave a hint.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeGuard
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import py3langid
from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document
from trafilatura.utils import load_html

from pipeline.dates import date_from_text
from pipeline.dedup import article_id, canonical_url
from pipeline.records import Article, DateSource, RawArticle, Rejection

_BLANKS = re.compile(r"\n{3,}")
# C0 and C1 control characters except tab and newline: they break terminals, JSON consumers, Kibana.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MAX_BODY_CHARS = 300_000  # ~50,000 words: far beyond any article; longer is a dump, not news
MAX_HTML_CHARS = 10_000_000  # pages beyond this are not parsed at all
MAX_TITLE_CHARS = 500
MAX_AUTHORS, MAX_AUTHOR_CHARS = 20, 200
MAX_URL_CHARS = 2048
FALLBACK_TITLE_CHARS = 120
# htmldate (through trafilatura): the original publication date, with its time and UTC offset
# where the page gives them (article:published_time, JSON-LD datePublished, <time datetime>).
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
# The zone a page's zone-less time is read in, by language, when its source declares none:
# Indonesian news is written in Western Indonesia Time (WIB) by the national outlets.
LANGUAGE_ZONES = {"id": "Asia/Jakarta"}
# Share of the main text that is whole link texts, beyond which a page is a list of links (a
# section front, a tag page). On 1,046 dev article pages (Zyte, trafilatura-eval) the highest
# share is 0.24; generated section pages score 0.9 and more.
MAX_LINK_TEXT_SHARE = 0.5
# Extraction runs trafilatura's recall mode without its fallback extractors (readability,
# jusText): on the Zyte dev pages F1 0.955 against 0.952 for its defaults, at 2.5 times the speed
# (benchmarks/RESULTS.md, `warta eval extraction DIR --baseline`).
# Language ID reads the title and the start of the body: 1,000 characters is ~150 words, more
# than py3langid needs, and its cost grows with the length.
LANGUAGE_SAMPLE_CHARS = 1_000
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def clean(
    raw: RawArticle,
    min_body_chars: int = 200,
    now: datetime | None = None,
    reference: datetime | None = None,
) -> Article | Rejection:
    """One RawArticle -> Article, or a quarantine Rejection saying why not.

    Bounded: HTML over MAX_HTML_CHARS and main text over MAX_BODY_CHARS are quarantined; titles
    and author lists are cut to their caps; control characters are removed from every field.
    """
    ingested_at = now or datetime.now(UTC)
    if len(raw.content) > MAX_HTML_CHARS:
        return _quarantine(raw, f"input too large ({len(raw.content)} > {MAX_HTML_CHARS} characters)")
    if raw.format == "html":
        extracted = _from_html(raw)
        if isinstance(extracted, Rejection):
            return extracted
        title, body, authors, site_name, url, published, date_source, image = extracted
    else:
        title, body = raw.title or "", _normalise_paragraphs(raw.content)
        authors, site_name, url, published, image = [], None, raw.url, raw.published_at, None
        date_source = "input" if published else "first_seen"
        if not title:
            first, _, rest = body.partition("\n\n")
            title, body = first.strip(), rest.strip()
    body = _CONTROL.sub("", body)
    # A page with text but no title of any kind (no <title>, og:title or heading) still becomes
    # a document: its first sentence, cut at a word, stands in as the title.
    title = _CONTROL.sub("", title).strip()[:MAX_TITLE_CHARS] or fallback_title(body)
    authors = [_CONTROL.sub("", a)[:MAX_AUTHOR_CHARS] for a in authors[:MAX_AUTHORS]]
    if len(body) < min_body_chars:
        return _quarantine(raw, f"main text too short ({len(body)} < {min_body_chars} characters)")
    if len(body) > MAX_BODY_CHARS:
        return _quarantine(raw, f"main text too long ({len(body)} > {MAX_BODY_CHARS} characters)")
    if not title:
        return _quarantine(raw, "no title found")
    url = url.strip() if _web_url(url) else None
    image = image if _web_url(image) else None
    language = raw.language or detect_language(f"{title}\n{body}")
    if published is not None and published.tzinfo is None:
        # The page states a time without a zone: the source's zone, else its language's, else UTC.
        zone = raw.timezone or LANGUAGE_ZONES.get(language, "UTC")
        published, date_source = published.replace(tzinfo=ZoneInfo(zone)), "page_zone_guessed"
    published_on = None
    if published is None:  # nothing dates it: the dateline or first sentences may
        published_on = date_from_text(body, language, reference or raw.file_time or ingested_at)
        date_source = "text" if published_on else "first_seen"
    return Article(
        id=article_id(url, title, body),
        input_id=raw.input_id,
        source=raw.source,
        url=url,
        title=title,
        body=body,
        authors=authors,
        site_name=_CONTROL.sub("", site_name)[:MAX_AUTHOR_CHARS] if site_name else None,
        published_at=published,
        published_on=published_on,
        date_source=date_source,
        image=image,
        language=language,
        ingested_at=ingested_at,
    )


def _web_url(value: str | None) -> TypeGuard[str]:
    """An absolute http(s) URL with a host, of sane length (inputs carry all sorts of junk)."""
    if not value or len(value) > MAX_URL_CHARS:
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def fallback_title(body: str) -> str:
    """The first sentence of the first paragraph, at most FALLBACK_TITLE_CHARS (cut at a word)."""
    first = _SENTENCE_END.split(body.strip().split("\n", 1)[0], maxsplit=1)[0].strip()
    if len(first) <= FALLBACK_TITLE_CHARS:
        return first
    cut = first[:FALLBACK_TITLE_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language (py3langid, 97 languages)."""
    code, _score = py3langid.classify(text[:LANGUAGE_SAMPLE_CHARS])
    return str(code)


class Extracted(NamedTuple):
    title: str
    body: str
    authors: list[str]
    site_name: str | None
    url: str | None
    published_at: datetime | None
    date_source: DateSource
    image: str | None


def _from_html(raw: RawArticle) -> Extracted | Rejection:
    try:
        tree = load_html(raw.content)
        if tree is None:
            return _quarantine(raw, "not parseable as HTML")
        page_url = _identity_url(raw.url, _page_url(tree))
        anchors = _anchor_texts(tree)
        article_text = _article_paragraphs(tree)
        meta = page_metadata(tree, page_url)
        doc = bare_extraction(
            tree,
            url=page_url,
            with_metadata=False,
            include_comments=False,
            include_tables=True,
            favor_recall=True,  # recall mode without the fallback extractors: see the note above
            fast=True,
        )
    except Exception as err:  # trafilatura raises assorted parser errors on hostile HTML
        return _quarantine(raw, f"HTML extraction failed: {type(err).__name__}: {err}")
    if doc is None or isinstance(doc, dict) or not (doc.text or "").strip():
        return _quarantine(raw, "no main text found in HTML")
    title = (raw.title or meta.title or "").strip()
    body = _normalise_paragraphs(doc.text or "")
    if article_text and _fuller_version(body, article_text):
        body = article_text
    body = strip_residue(title, body)
    first, _, rest = body.partition("\n")
    if rest.strip() and is_standfirst(tree, " ".join(first.split()), meta.description):
        body = rest.strip()
    share = link_text_share(body, anchors)
    if share > MAX_LINK_TEXT_SHARE:
        return _quarantine(
            raw, f"a list of links, not an article ({share:.0%} of the main text is link text)"
        )
    body = _without_link_lines(body, anchors)
    url = page_url or meta.url or None
    title = without_site_name(title, meta.sitename, url)
    authors = clean_authors((meta.author or "").split(";"), meta.sitename, url)
    # The page's own date wins over a feed's or sitemap's (which may be a modification date).
    dated: list[tuple[datetime | None, DateSource]] = [
        (raw.published_at, "input"),
        (_parse_date(meta.date), "page"),
        (raw.date_hint, "feed"),
    ]
    undated: tuple[datetime | None, DateSource] = (None, "first_seen")
    published, date_source = next(((d, s) for d, s in dated if d is not None), undated)
    return Extracted(
        title, body, authors, meta.sitename or None, url, published, date_source, meta.image or None
    )


_MONTHS = (
    "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|januari|februari|maret|april|mei|juni|juli|"
    "agustus|september|oktober|november|desember|agu|okt|des"
)
_DATELINE = re.compile(
    rf"\b(\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}|\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|(?:{_MONTHS})[a-z]*\.? \d{{1,2}},? \d{{4}}|\d{{1,2}} (?:{_MONTHS})[a-z]*\.? \d{{4}})\b",
    re.IGNORECASE,
)
RESIDUE_LINES = 3  # headline and dateline residue is looked for in the first lines only


def strip_residue(title: str, body: str) -> str:
    """Drop the headline repeated as the body's first line, short date/byline lines before the
    text starts (``August 23, 2018``; ``05/10/2018 - Publicado por: ...``), and short labels in
    front of those (``Categorias``) — short labels alone stay (a lead can start with one)."""
    lines = body.split("\n")
    folded_title = " ".join(title.casefold().split())
    kept_from = 0
    for number, line in enumerate(lines[:RESIDUE_LINES]):
        folded = " ".join(line.casefold().split())
        headline = len(folded) >= 10 and (folded == folded_title or folded_title.endswith(folded))
        dateline = len(folded) <= 120 and len(folded.split()) <= 16 and bool(_DATELINE.search(folded))
        label = len(folded.split()) <= 3 and not folded.endswith((".", "!", "?", ":"))
        if headline or dateline or not folded:
            kept_from = number + 1
        elif not label:
            break
    return "\n".join(lines[kept_from:]).strip() if kept_from else body


_TITLE_SEPARATOR = re.compile(r"\s+[|\-\u2013\u2014\u203a\u00bb:]{1,2}\s+")


class _SiteName:
    """The site's name and its domain label (``aussengedanken`` of www.aussengedanken.de), folded,
    to recognise the site where titles and bylines mention it."""

    def __init__(self, site_name: str | None, url: str | None) -> None:
        self.name = _fold_name(site_name or "")
        host = (urlsplit(url).hostname or "") if _web_url(url) else ""
        label = host.removeprefix("www.").split(".")[0]
        self.label = label if len(label) >= 4 else ""  # shorter labels match too much

    def is_(self, text: str, label_inside: bool = False) -> bool:
        """``text`` is the site: its name, or its domain label (or contains it, ``label_inside``)."""
        folded = _fold_name(text)
        joined = folded.replace(" ", "")
        by_label = bool(self.label) and (self.label in joined if label_inside else self.label == joined)
        return bool(folded) and (folded == self.name or by_label)


def without_site_name(title: str, site_name: str | None, url: str | None) -> str:
    """``Streit ums Feuerholz - www.AussenGedanken.de`` -> ``Streit ums Feuerholz``: a leading or
    trailing part of the title that is the site's name or its domain goes."""
    parts = _TITLE_SEPARATOR.split(title)
    count = len(parts)
    if count < 2:
        return title
    site = _SiteName(site_name, url)
    while len(parts) > 1 and site.is_(parts[-1], label_inside=True):
        parts.pop()
    while len(parts) > 1 and site.is_(parts[0], label_inside=True):
        parts.pop(0)
    if len(parts) == count:
        return title
    # Rejoin what is left with its original separators.
    start = title.index(parts[0])
    end = title.rindex(parts[-1]) + len(parts[-1])
    return title[start:end].strip()


_BYLINE_PREFIX = re.compile(
    r"^(?:(?:\w+\s+){0,3}by\s+|"
    r"(?:by|von|vom|par|por|oleh|penulis|pewarta|reporter|editor|auteur|author|autor|artikel von)"
    r"(?:\s*[:\uff1a]\s*|\s+)|\u8d23\u4efb\u7f16\u8f91[:\uff1a]\s*)",
    re.IGNORECASE,
)


def clean_authors(names: list[str], site_name: str | None, url: str | None) -> list[str]:
    """Author names without byline words (``By``, ``Oleh``, ``Von``...), and without the site's own
    name next to people (``Rob Picheta; CNN`` -> ``Rob Picheta``): it has a field of its own."""
    stripped = [_BYLINE_PREFIX.sub("", name.strip()).strip() for name in names]
    authors = list(dict.fromkeys(name for name in stripped if _fold_name(name)))
    site = _SiteName(site_name, url)
    people = [name for name in authors if not site.is_(name)]
    return people or authors  # a site credited alone is the best author there is


def _fold_name(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


# Paragraphs of the page's single <article>, outside its asides, figures, navigation and footers.
_ARTICLE_PARAGRAPHS = (
    "//article//p[not(ancestor::aside or ancestor::figure or ancestor::nav or ancestor::footer"
    " or ancestor::form)]"
)
_WORD = re.compile(r"\w+")


def _article_paragraphs(tree: HtmlElement) -> str:
    """The text of the paragraphs in the page's <article>, when there is exactly one."""
    if len(tree.xpath("//article")) != 1:
        return ""
    paragraphs = (" ".join(p.text_content().split()) for p in tree.xpath(_ARTICLE_PARAGRAPHS))
    return "\n".join(p for p in paragraphs if p)


def _fuller_version(extracted: str, candidate: str) -> bool:
    """The fallback when trafilatura stops early (articles split over several containers, as on
    wired.com): the <article>'s paragraphs are at least 1.5 times as long and contain nearly all
    of what trafilatura found (90% of its 4-word shingles)."""
    if len(candidate) < 1.5 * len(extracted):
        return False
    words, more = _WORD.findall(extracted.casefold()), _WORD.findall(candidate.casefold())
    ours = {tuple(words[i : i + 4]) for i in range(len(words) - 3)}
    theirs = {tuple(more[i : i + 4]) for i in range(len(more) - 3)}
    return bool(ours) and len(ours & theirs) >= 0.9 * len(ours)


_STANDFIRST = (
    "//h2 | //*[contains(@class, 'dek') or contains(@class, 'sub-head') or contains(@class, 'subhead')"
    " or contains(@class, 'subline') or contains(@class, 'subtitle') or contains(@class, 'standfirst')"
    " or contains(@class, 'strapline')]"
)


def is_standfirst(tree: HtmlElement, line: str, description: str | None) -> bool:
    """Whether ``line`` is the page's standfirst (dek): its meta description, shown as a sub-heading
    or in a dek/standfirst element. It summarises the article and is not part of its text (Zyte
    dev precision +0.009); a description that is the lead paragraph itself stays."""
    if not description or line != " ".join(description.split()):
        return False
    return any(" ".join(element.text_content().split()) == line for element in tree.xpath(_STANDFIRST))


def _anchor_texts(tree: HtmlElement) -> set[str]:
    return {text for a in tree.iter("a") if len(text := " ".join(a.text_content().split())) >= 3}


def _without_link_lines(body: str, anchors: set[str]) -> str:
    """Without paragraphs that are, whole, the text of a link and do not end a sentence: related-
    article teasers, not the article (Zyte dev precision +0.005; trafilatura-eval must-not-contain
    +0.007, must-contain -0.003)."""
    kept = [
        line
        for line in body.split("\n")
        if " ".join(line.split()) not in anchors or line.rstrip().endswith((".", "!", "?", "\u201d", '"'))
    ]
    return _BLANKS.sub("\n\n", "\n".join(kept)).strip()


def link_text_share(body: str, anchors: set[str]) -> float:
    """Share of the body's characters in lines that are, whole, the text of a link on the page."""
    lines = [" ".join(line.split()) for line in body.split("\n") if line.strip()]
    total = sum(len(line) for line in lines)
    return sum(len(line) for line in lines if line in anchors) / total if total else 0.0


def page_metadata(tree: HtmlElement, url: str | None) -> Document:
    """trafilatura's metadata extraction (``trafilatura.metadata.extract_metadata``) without the
    parts Warta does not use (categories, tags, licence), which cost a fifth of its time: <meta>
    tags, then JSON-LD, then title/author/URL/site-name heuristics, and htmldate for the date.

    Where fields disagree, the more structured one is trusted: authors typed as persons in
    JSON-LD, then <meta>/JSON-LD author strings, then the page's byline text (which must read as
    names); the page's one headline over a <title> that adds a section to it, and the <title> over
    a heading it does not confirm (a logo in an <h1>); a site name that names a site.
    ``author`` comes back as names joined by ``"; "``."""
    metadata = examine_meta(tree)
    if metadata.author and " " not in metadata.author:
        metadata.author = None  # a single word from <meta> is usually a handle, not a name
    with suppress(Exception):  # trafilatura's JSON-LD reader has its own bugs; the rest still counts
        metadata = extract_meta_json(tree, metadata)
    metadata.title = headline(tree, metadata.title)
    site = _SiteName(metadata.sitename, url)
    persons = [name for name in json_ld_persons(tree) if not site.is_(name)]  # "AppleInsider"
    if persons:
        metadata.author = "; ".join(persons)
    elif metadata.author:
        metadata.author = "; ".join(byline_names(metadata.author.split(";")))
    else:
        metadata.author = "; ".join(byline_names((extract_author(tree) or "").split(";"), from_text=True))
    metadata.url = metadata.url or extract_url(tree, url)
    # The URL's date (a day, no time) is read only when the page itself states none: a page's
    # exact timestamp must not be cut to midnight by /2019/11/19/ in its address.
    metadata.date = find_date(
        tree,
        url=metadata.url,
        original_date=True,
        extensive_search=True,
        outputformat=DATE_FORMAT,
        deferred_url_extractor=True,
    )
    if metadata.sitename and not names_a_site(metadata.sitename):
        metadata.sitename = None
    if not metadata.sitename and names_a_site(found := extract_sitename(tree) or ""):
        metadata.sitename = found
    if metadata.sitename:
        metadata.sitename = metadata.sitename.lstrip("@")
        if "." not in metadata.sitename and not metadata.sitename[:1].isupper():
            metadata.sitename = metadata.sitename.title()
    elif metadata.url and (match := META_URL.match(metadata.url)):
        metadata.sitename = match[1]
    metadata.clean_and_trim()
    return metadata


def headline(tree: HtmlElement, declared: str | None) -> str | None:
    """The article's title. A declared title (<meta>, JSON-LD) that is the page's one <h1> plus a
    separator and more (``… - Auto News``) gives way to the <h1>; without a declared title, a
    heading is taken only when the <title> contains it, else the <title> is (a logo's <h1>,
    ``엔터 미디어``, is not the headline of ``엘제이-류화영 … - Entermedia``)."""
    headings = [" ".join(h.text_content().split()) for h in tree.iterfind(".//h1")]
    headings = [h for h in headings if h]
    only = headings[0] if len(headings) == 1 else None
    if declared:
        rest = declared.removeprefix(only) if only and len(only) >= 10 else declared
        return only if rest != declared and _TITLE_SEPARATOR.match(rest) else declared
    found = extract_title(tree)
    element = tree.find(".//title")
    page_title = " ".join(element.text_content().split()) if element is not None else ""
    if found and page_title and _fold_name(found) not in _fold_name(page_title):
        return page_title
    return found or page_title or None


def json_ld_objects(tree: HtmlElement) -> Iterator[dict[str, Any]]:
    """Every object of the page's JSON-LD blocks, nested ones (``@graph``, ``mainEntity``,
    ``itemListElement``) included; a block that is not JSON is passed over."""

    def walk(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, list):
            for item in node:
                yield from walk(item)
        elif isinstance(node, dict):
            yield node
            for key in ("@graph", "mainEntity", "itemListElement"):
                yield from walk(node.get(key))

    for script in tree.xpath("//script[@type='application/ld+json']"):
        with suppress(ValueError):
            yield from walk(json.loads(script.text_content()))


def json_ld_persons(tree: HtmlElement) -> list[str]:
    """Names of the authors JSON-LD types as ``Person`` (an ``Organization`` author is the
    publisher, not a writer), read as a byline (``Ilana Muhlstein, MS, RDN`` is one person with
    credentials), each kept if it reads as a name (not a handle such as ``kevin-r``)."""
    names: list[str] = []
    for node in json_ld_objects(tree):
        authors = node.get("author")
        for author in authors if isinstance(authors, list) else [authors]:
            if isinstance(author, dict) and author.get("@type") == "Person":
                names.extend(n for n in [author.get("name")] if isinstance(n, str))
    parts = (part for name in names for part in byline_names(name.split(",")))
    return list(dict.fromkeys(part for part in parts if _reads_as_name(part)))


def _calendar_words() -> frozenset[str]:
    """Month and weekday names (full forms) in the languages news pages here come in."""
    from dateparser.languages import default_loader

    months = ["january", "february", "march", "april", "may", "june", "july", "august"]
    months += ["september", "october", "november", "december"]
    days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    words: set[str] = set()
    for code in ("en", "id", "de", "fr", "es", "pt", "it", "nl"):
        info = default_loader.get_locale(code).info
        words.update(max(info.get(key, [""]), key=len).casefold() for key in months + days)
    return frozenset(w for w in words if len(w) >= 3)


_CALENDAR = _calendar_words()
# Words that name a job or a desk, not a person: "AP Auto Writer", "CNN Editor-at-large".
_ROLE = re.compile(
    r"\b(?:writer|editor|correspondent|reporter|staff|columnist|contributor|producer|photographer|"
    r"editorial|wire|redakteur|redaktion|korrespondent|wartawan|penulis|pewarta|redaksi)s?\b",
    re.IGNORECASE,
)
_NAME_PARTICLES = frozenset(
    {"de", "da", "di", "du", "del", "della", "dos", "das", "van", "von", "der", "den", "ter"}
    | {"bin", "binti", "al", "el", "la", "le", "y", "e"}
)
_ARTICLES = frozenset({"the", "a", "an"})


def _reads_as_name(text: str) -> bool:
    """Up to five words, each capitalised (or a particle: van, bin, de), no digits, and not opening
    with an article: ``The Russian`` and ``Syrian defense ministries`` are not bylines."""
    words = text.split()
    return (
        0 < len(words) <= 5
        and words[0].casefold() not in _ARTICLES
        and not any(ch.isdigit() for ch in text)
        and all(not w[:1].islower() or w in _NAME_PARTICLES for w in words)
    )


def byline_names(parts: list[str], from_text: bool = False) -> list[str]:
    """Author names from a byline split into parts: byline words (``Analysis by``) off, calendar
    words trailing a name off (``Malcolm Owen Monday``), parts naming a job dropped, and short
    all-capital credentials after a name (``MS``, ``RDN``) dropped. A byline read from the page's
    text (``from_text``) keeps only parts that read as names."""
    names: list[str] = []
    for part in parts:
        words = _BYLINE_PREFIX.sub("", part.strip()).split()
        while words and words[-1].casefold().strip(".,") in _CALENDAR:
            words.pop()
        name = " ".join(words)
        # After a person's name, a credential or a job title qualifies that person; alone, a
        # desk's credit ("Redaktion", "Staff Writer") is the author there is.
        qualifier = bool(names) and ((name.isupper() and len(name) <= 5) or bool(_ROLE.search(name)))
        if not name or qualifier or (from_text and not _reads_as_name(name)):
            continue
        names.append(name)
    return names


def names_a_site(text: str) -> bool:
    """A site name, not a copyright line (``Copyright 2014``) or a tagline (``потеря веса до 10
    кг. Отзывы``): no year or copyright sign, no sentence punctuation, at most six words."""
    folded = text.casefold()
    return (
        bool(text.strip())
        and "copyright" not in folded
        and "\u00a9" not in text
        and not re.search(r"\b(?:19|20)\d\d\b|[.!?]\s", text)
        and len(text.split()) <= 6
    )


def _page_url(tree: HtmlElement) -> str | None:
    """The page's own canonical URL. Unlike trafilatura, also outside <head>: broken markup
    often pushes <link rel=canonical> into the body when parsed."""
    for xpath, attr in (
        (".//link[@rel='canonical']", "href"),
        (".//meta[@property='og:url']", "content"),
    ):
        element = tree.find(xpath)
        value = (element.get(attr) or "").strip() if element is not None else ""
        if value.startswith(("http://", "https://")):
            return value
    return None


def _identity_url(fetched: str | None, declared: str | None) -> str | None:
    """The URL an article is known by: the page's own canonical link (the best witness of which
    URLs are one page: AMP, mobile and tracking variants all point to it) when it stays on the
    fetched page's site and is not the site's front page (a common misconfiguration that would
    merge every article into one); otherwise the URL the page was fetched or listed under."""
    if not _web_url(declared):
        return fetched
    if not _web_url(fetched):
        return declared
    try:
        own, fetched_key = canonical_url(declared), canonical_url(fetched)
    except ValueError:
        return fetched
    own_parts, fetched_parts = urlsplit(own), urlsplit(fetched_key)
    if own_parts.netloc != fetched_parts.netloc:
        return fetched
    if own_parts.path == "/" and not own_parts.query and fetched_parts.path != "/":
        return fetched
    return declared


def _parse_date(value: str | None) -> datetime | None:
    """The page's date; naive when the page states no zone (clean() supplies one)."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _normalise_paragraphs(text: str) -> str:
    """Paragraphs separated by one blank line, no trailing spaces."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def _quarantine(raw: RawArticle, reason: str) -> Rejection:
    return Rejection(input_id=raw.input_id, stage="clean", outcome="quarantined", reason=reason)
