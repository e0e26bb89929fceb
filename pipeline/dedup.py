"""Article identity, exact duplicates, and stories (near-duplicates).

An article's id is derived, never random, so re-running an input overwrites the same
Elasticsearch document instead of adding a copy: from the canonical URL when there is one,
otherwise from the normalised title and text.

A *story* groups near-duplicates: the same wire report republished by several outlets with small
edits. Each article gets a MinHash sketch (datasketch, 128 permutations) of its body's 5-word
shingles; LSH bands of the sketch are stored with the document, so finding earlier members of a
story is a ``terms`` query on the index. An article joins the story of the most similar earlier
article whose estimated Jaccard similarity is at least ``STORY_THRESHOLD``; otherwise it starts
its own story (story id = its id). The threshold comes from a measurement
(``benchmarks/near_duplicates.py``, results in benchmarks/RESULTS.md).
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
from w3lib.url import canonicalize_url

from pipeline.records import Article, Rejection, TaggedArticle

_SPACE = re.compile(r"\s+")
A = TypeVar("A", bound=Article)


# Query parameters that only say how a reader arrived (campaigns, click ids, referrers): noise,
# dropped. Every other parameter may identify the page (read.php?newsid=101) and is kept.
_TRACKING_PARAM = re.compile(
    r"(?:utm_\w+|(?:fb|g|dc|ms|tw|y|ys|ig)clid|igshid|gclsrc|_ga|_gl|mc_(?:cid|eid)|mkt_tok|"
    r"oly_(?:anon|enc)_id|_hs(?:enc|mi)|vero_(?:conv|id)|wt\.mc_id|xtor|ref_?src|cmpid|__twitter_impression)",
    re.IGNORECASE,
)
# Host prefixes that serve the same article as the bare host (desktop, mobile and AMP editions).
_EDITION_PREFIXES = ("www.", "m.", "mobile.", "amp.")


def canonical_url(url: str) -> str:
    """The identity of the page a URL names: one article, one key.

    Same page: ``http`` and ``https``; the ``www.``, ``m.``, ``mobile.`` and ``amp.`` editions of
    a host; a trailing dot on the host; the default port; percent-escapes of unreserved
    characters (``%2D`` is ``-``); ``.`` and ``..`` path segments; a trailing slash; the order of
    query parameters; tracking parameters (``utm_*``, click ids, ...); the fragment. Everything
    else, every other query parameter above all, is kept: it may be what tells two articles apart.
    Raises ValueError for a URL that is not http(s) with a host.
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"not an http(s) URL with a host: {url[:200]!r}")
    port = parts.port  # ValueError for an out-of-range port
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING_PARAM.fullmatch(k)
    ]
    normalised = canonicalize_url(urlunsplit(("https", parts.netloc, parts.path, urlencode(query), "")))
    parts = urlsplit(normalised)
    host = (parts.hostname or "").rstrip(".")
    for prefix in _EDITION_PREFIXES:
        if host.startswith(prefix) and host.count(".") > 1:
            host = host.removeprefix(prefix)
            break
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(("https", netloc, path, parts.query, ""))


def normalise_text(text: str) -> str:
    """Case-, width- and whitespace-insensitive form of a text, for content hashing."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def article_id(url: str | None, title: str, body: str) -> str:
    key = f"url:{canonical_url(url)}" if url else f"text:{normalise_text(title)}\n{normalise_text(body)}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def drop_duplicates(articles: Iterable[A]) -> Iterator[A | Rejection]:
    """Pass each id once; later copies in the same run become ``duplicate`` rejections."""
    first_input: dict[str, str] = {}
    for article in articles:
        seen = first_input.setdefault(article.id, article.input_id)
        if seen == article.input_id:
            yield article
        else:
            yield Rejection(
                input_id=article.input_id,
                stage="dedup",
                outcome="duplicate",
                reason=f"same article as {seen}",
                article_id=article.id,
            )


# -- stories ---------------------------------------------------------------------------------------

# Estimated Jaccard of 5-word shingles. Measured (benchmarks/near_duplicates.py): different IndoSum
# articles never exceed 0.39, copies with one typical edit score 0.58-0.99; 0.45 merges no different
# articles and catches >= 99% of singly-edited copies (heavily rewritten copies: about 30%).
STORY_THRESHOLD = 0.45
NUM_PERM = 128
# 42 bands of 3 rows: a pair at the threshold shares a band with probability 0.98.
BANDS, ROWS = 42, 3
SHINGLE_WORDS = 5
_WORD = re.compile(r"\w+")


def shingles(text: str, k: int = SHINGLE_WORDS) -> set[str]:
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    return {" ".join(words[i : i + k]) for i in range(max(1, len(words) - k + 1))} if words else set()


def jaccard(a: str, b: str) -> float:
    left, right = shingles(a), shingles(b)
    return len(left & right) / len(left | right) if left | right else 1.0


@dataclass(frozen=True, slots=True)
class Sketch:
    hashvalues: np.ndarray

    @classmethod
    def of(cls, text: str) -> Sketch:
        # Imported here: datasketch brings scipy and redis (2 s), which the Airflow tasks that
        # never sketch (planning, discovery, the report) should not pay for.
        from datasketch import MinHash

        sketch = MinHash(num_perm=NUM_PERM, seed=1)
        sketch.update_batch([s.encode("utf-8") for s in shingles(text)])
        return cls(sketch.hashvalues.astype(np.uint32))

    @classmethod
    def decode(cls, value: str) -> Sketch:
        return cls(np.frombuffer(base64.b64decode(value), dtype=np.uint32))

    def encode(self) -> str:
        return base64.b64encode(self.hashvalues.astype(np.uint32).tobytes()).decode("ascii")

    def bands(self) -> list[str]:
        """One key per LSH band: two sketches sharing a key are candidates."""
        return [
            f"{b}:"
            + hashlib.blake2b(self.hashvalues[b * ROWS : (b + 1) * ROWS].tobytes(), digest_size=8).hexdigest()
            for b in range(BANDS)
        ]

    def similarity(self, other: Sketch) -> float:
        return float(np.mean(self.hashvalues == other.hashvalues))


@dataclass(frozen=True, slots=True)
class StoryMember:
    article_id: str
    story_id: str
    sketch: Sketch


# Finds earlier members sharing any band key (in the index); excludes nothing, the caller filters.
Lookup = Callable[[list[list[str]]], list[list[StoryMember]]]


class _RecentMembers:
    """Story members of the last ``window`` articles of this run, by band key. Bounded, so a run's
    memory does not grow with its size; earlier runs' articles are found in the index instead
    (this run's own are not searchable until the load's final refresh)."""

    def __init__(self, window: int) -> None:
        self.window = window
        self.members: OrderedDict[str, tuple[StoryMember, list[str], int]] = OrderedDict()
        self.by_band: dict[str, set[str]] = {}
        self.added = 0

    def add(self, member: StoryMember, bands: list[str]) -> None:
        self.added += 1
        self.members.pop(member.article_id, None)
        self.members[member.article_id] = (member, bands, self.added)
        for band in bands:
            self.by_band.setdefault(band, set()).add(member.article_id)
        while len(self.members) > self.window:
            old, (_member, old_bands, _seq) = self.members.popitem(last=False)
            for band in old_bands:
                ids = self.by_band.get(band)
                if ids is not None:
                    ids.discard(old)
                    if not ids:
                        del self.by_band[band]

    def candidates(self, bands: list[str], limit: int = 50) -> list[StoryMember]:
        """Members sharing a band, the most recent ``limit`` (a story republished a thousand times
        needs no thousand comparisons: its recent members carry the same story id)."""
        ids = {i for band in bands for i in self.by_band.get(band, ())}
        if len(ids) > limit:
            ids = set(sorted(ids, key=lambda i: self.members[i][2])[-limit:])
        return [self.members[i][0] for i in sorted(ids)]


def assign_stories(
    articles: Iterable[TaggedArticle], lookup: Lookup | None = None, chunk: int = 100, window: int = 5000
) -> Iterator[TaggedArticle]:
    """Set story_id, story_bands and minhash on each article, in order.

    Candidates come from the last ``window`` articles of this run and, through ``lookup``, from
    the index.
    """
    recent = _RecentMembers(window)
    buffer: list[tuple[TaggedArticle, Sketch]] = []

    def flush() -> Iterator[TaggedArticle]:
        found = lookup([sk.bands() for _a, sk in buffer]) if lookup else [[] for _ in buffer]
        for (article, sketch), indexed in zip(buffer, found, strict=True):
            bands = sketch.bands()
            best: tuple[float, str] | None = None
            for member in [*recent.candidates(bands), *indexed]:
                if member.article_id == article.id:
                    if member.story_id != article.id:  # re-ingested: keep its story
                        best = (2.0, member.story_id)
                    continue
                score = sketch.similarity(member.sketch)
                if score >= STORY_THRESHOLD and (best is None or score > best[0]):
                    best = (score, member.story_id)
            story = best[1] if best else article.id
            recent.add(StoryMember(article.id, story, sketch), bands)
            yield article.model_copy(
                update={"story_id": story, "story_bands": bands, "minhash": sketch.encode()}
            )
        buffer.clear()

    for article in articles:
        buffer.append((article, Sketch.of(article.body)))
        if len(buffer) >= chunk:
            yield from flush()
    if buffer:
        yield from flush()
