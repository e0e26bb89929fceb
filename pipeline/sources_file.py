"""The sources file: what a run ingests, validated before anything is fetched.

TOML (``.toml``) or YAML (``.yaml``/``.yml``), a list under ``sources``; each entry has a unique
``name`` and a ``kind``:

- ``files``: local ``paths`` (folders walked; .txt, .html, .jsonl) — what the seeds use;
- ``warc``: local WARC / WARC.gz ``paths``; HTML responses inside become articles;
- ``urls``: page URLs, inline (``urls``) and/or one per line in a text file (``urls_file``);
- ``feed``: an RSS or Atom feed ``url``;
- ``sitemap``: a sitemap ``url`` (sitemap indexes, news sitemaps and gzipped sitemaps followed).

Web kinds also take ``include`` / ``exclude`` (regular expressions searched in the URL; a URL must
match some include, when any are given, and no exclude), ``host_delay_s`` (minimum seconds between
requests to one host; robots.txt Crawl-delay wins when longer) and ``revalidate`` (re-check pages
already fetched with a conditional GET every run). Every kind takes ``language`` (an ISO 639-1 hint
that skips detection). Relative paths are relative to the sources file.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

_NAME = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


class SourcesFileError(ValueError):
    """The sources file cannot be used; the message says where and why."""


class _Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    # The zone of times its pages state without one (an IANA name, "Asia/Jakarta").
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str | None) -> str | None:
        if zone is not None:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError) as err:
                raise ValueError(f"unknown time zone {zone!r} (an IANA name such as Asia/Jakarta)") from err
        return zone


class LocalSource(_Source):
    kind: Literal["files", "warc"]
    paths: list[Path] = Field(min_length=1)


class WebSource(_Source):
    kind: Literal["urls", "feed", "sitemap"]
    url: str | None = None  # feed / sitemap
    urls: list[str] = Field(default_factory=list)  # urls
    urls_file: Path | None = None  # urls
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    host_delay_s: float | None = Field(default=None, ge=0, le=3600)
    revalidate: bool = False

    @field_validator("include", "exclude")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as err:
                raise ValueError(f"bad regular expression {pattern!r}: {err}") from err
        return patterns

    @model_validator(mode="after")
    def _has_target(self) -> WebSource:
        if self.kind == "urls":
            if self.url is not None:
                raise ValueError("kind 'urls' takes 'urls' and/or 'urls_file', not 'url'")
            if not self.urls and self.urls_file is None:
                raise ValueError("kind 'urls' needs 'urls' or 'urls_file'")
        else:
            if not self.url:
                raise ValueError(f"kind {self.kind!r} needs 'url'")
            if self.urls or self.urls_file:
                raise ValueError(f"kind {self.kind!r} takes 'url', not 'urls'/'urls_file'")
        for url in [self.url, *self.urls]:
            if url is not None and not re.match(r"^https?://[^/\s]+", url):
                raise ValueError(f"not an http(s) URL: {url!r}")
        return self

    def wants(self, url: str) -> str | None:
        """None when the URL passes the include/exclude patterns, else the reason it does not."""
        if self.include and not any(re.search(p, url) for p in self.include):
            return "matches no include pattern of the source"
        for pattern in self.exclude:
            if re.search(pattern, url):
                return f"matches exclude pattern {pattern!r}"
        return None


Source = Annotated[LocalSource | WebSource, Field(discriminator="kind")]


class SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[Source] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> SourcesFile:
        names = [s.name for s in self.sources]
        doubles = sorted({n for n in names if names.count(n) > 1})
        if doubles:
            raise ValueError(f"source names must be unique; repeated: {', '.join(doubles)}")
        return self


def load_sources(path: Path) -> list[LocalSource | WebSource]:
    """Parse and validate a sources file; relative paths become absolute (beside the file)."""
    if not path.is_file():
        raise SourcesFileError(f"{path}: no such sources file")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif path.suffix in {".yaml", ".yml"}:
            data = yaml.safe_load(text)
        else:
            raise SourcesFileError(f"{path}: sources file must be .toml, .yaml or .yml")
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as err:
        raise SourcesFileError(f"{path}: not valid {path.suffix[1:].upper()}: {err}") from err
    try:
        parsed = SourcesFile.model_validate(data)
    except ValidationError as err:
        raise SourcesFileError(f"{path}: {_explain(err, data)}") from err
    return [_resolve(source, path.parent) for source in parsed.sources]


def local_sources(paths: list[Path]) -> list[LocalSource | WebSource]:
    """The sources a plain list of local paths stands for (``warta ingest PATH...``, DAG ``paths``):
    one ``files`` source per path, named after it (``seeds/`` -> ``seeds``). A path inside another
    one given (``in/sub`` beside ``in``), or given twice, adds nothing: each file is one input."""
    specs: list[LocalSource | WebSource] = []
    names: set[str] = set()
    real = [p.resolve() for p in paths]
    for position, path in enumerate(paths):
        if any(
            (other == real[position] and earlier < position) or other in real[position].parents
            for earlier, other in enumerate(real)
        ):
            continue
        base = re.sub(r"[^a-z0-9_.-]+", "-", (path.resolve().name or "files").lower()).strip("-.") or "files"
        name, number = base[:56], 1
        while name in names:
            number += 1
            name = f"{base[:56]}-{number}"
        names.add(name)
        specs.append(LocalSource(name=name, kind="files", paths=[path]))
    return specs


def _resolve(source: LocalSource | WebSource, base: Path) -> LocalSource | WebSource:
    if isinstance(source, LocalSource):
        return source.model_copy(
            update={"paths": [base / p if not p.is_absolute() else p for p in source.paths]}
        )
    if source.urls_file is not None and not source.urls_file.is_absolute():
        return source.model_copy(update={"urls_file": base / source.urls_file})
    return source


def _explain(err: ValidationError, data: Any) -> str:
    """One line per problem, naming the source by position and name: 'sources[2] (kompas): url: ...'."""
    lines = []
    for problem in err.errors(include_url=False):
        loc = list(problem["loc"])
        where = ""
        if len(loc) >= 2 and loc[0] == "sources" and isinstance(loc[1], int):
            entry = data["sources"][loc[1]] if isinstance(data, dict) else {}
            name = entry.get("name") if isinstance(entry, dict) else None
            where = f"sources[{loc[1]}]" + (f" ({name})" if name else "")
            loc = [part for part in loc[2:] if part not in {"files", "warc", "urls", "feed", "sitemap"}]
        field = ".".join(str(part) for part in loc)
        lines.append(": ".join(part for part in (where, field, problem["msg"]) if part))
    return "; ".join(lines)
