"""The typed records the stages speak, in the order an article meets them.

Candidate (discover: a URL to fetch) -> RawArticle (sources / fetch) -> Article (clean)
-> TaggedArticle (enrich) -> indexed document.
Anything that leaves the path early becomes a Rejection with a reason.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

Outcome = Literal["skipped", "quarantined", "duplicate"]
# Where an article's date comes from: the input record, the page's metadata, the feed or sitemap
# that listed it, its own text (a day, no time), or none: the time Warta first saw it.
# "page_zone_guessed": the page states a time but no zone; the source's or the language's was used.
DateSource = Literal["input", "page", "page_zone_guessed", "feed", "text", "first_seen"]
EntityLabel = Literal["PER", "ORG", "LOC"]


class Candidate(BaseModel):
    """A page URL a web source listed, not fetched yet."""

    url: str  # as listed
    key: str  # canonical URL: one article, one key
    source: str
    language: str | None = None
    timezone: str | None = None  # the source's zone for times stated without one
    date: datetime | None = None  # published / updated / lastmod, as the feed or sitemap says
    via: str  # the feed, sitemap or list that named it
    host_delay_s: float | None = None
    revalidate: bool = False
    etag: str | None = None  # validators of the last fetch, filled in when planning
    last_modified: str | None = None
    content_sha: str | None = None


class Interval(BaseModel):
    """A run's data interval, [start, end)."""

    start: datetime
    end: datetime

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


class RawArticle(BaseModel):
    """One input as read from a source, before cleaning."""

    input_id: str  # where it came from: a file path, or "path:line" for JSON lines
    source: str
    format: Literal["text", "html"]
    content: str
    url: str | None = None
    title: str | None = None
    published_at: datetime | None = None
    language: str | None = None  # a hint from the input; detection runs when it is absent
    date_hint: datetime | None = None  # a feed's or sitemap's date, used when the page has none
    file_time: datetime | None = None  # a local file's modification time (completes partial dates)
    timezone: str | None = None  # the source's zone for times the page states without one


class Article(BaseModel):
    """A cleaned article: main text and metadata, with a deterministic id."""

    id: str
    input_id: str
    source: str
    url: str | None = None
    title: str
    body: str
    authors: list[str] = Field(default_factory=list)
    site_name: str | None = None
    published_at: datetime | None = None  # with time and UTC offset where the page gives them
    published_on: date | None = None  # the day the text's opening states, when nothing else dates it
    date_source: DateSource = "first_seen"
    first_seen_at: datetime | None = None  # when first indexed; set at load, kept by later loads
    image: str | None = None  # the lead image (og:image and the like)
    language: str
    ingested_at: datetime


class Entity(BaseModel):
    """One mention: character offsets into ``field`` of the article."""

    text: str
    label: EntityLabel
    field: Literal["title", "body"]
    start: int
    end: int
    canonical: str


class TaggedArticle(Article):
    entities: list[Entity] = Field(default_factory=list)
    # Set when indexed (pipeline.dedup.assign_stories): near-duplicates share a story id.
    story_id: str | None = None
    story_bands: list[str] = Field(default_factory=list)
    minhash: str | None = None

    def canonical_names(self, label: EntityLabel) -> list[str]:
        """Distinct canonical names of one type, in first-mention order."""
        return list(dict.fromkeys(e.canonical for e in self.entities if e.label == label))


class Rejection(BaseModel):
    """An input that did not become an indexed document, and why."""

    input_id: str
    stage: str
    outcome: Outcome
    reason: str
    article_id: str | None = None
    source: str | None = None  # the source it came from, where known (a replay uses it)
