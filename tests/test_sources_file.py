"""The sources file: valid files load with paths resolved; invalid ones fail with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.settings import PROJECT_ROOT
from pipeline.sources_file import LocalSource, SourcesFileError, WebSource, load_sources, local_sources


def test_the_projects_sources_file_loads() -> None:
    sources = load_sources(PROJECT_ROOT / "sources.toml")
    assert [s.name for s in sources] == ["seeds"]
    assert isinstance(sources[0], LocalSource) and sources[0].paths == [PROJECT_ROOT / "seeds"]


def test_toml_and_yaml_give_the_same_sources(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(
        '[[sources]]\nname = "kompas"\nkind = "feed"\nurl = "https://example.com/rss"\nlanguage = "id"\n'
        "include = ['/read/']\nhost_delay_s = 2\n"
        '[[sources]]\nname = "archive"\nkind = "warc"\npaths = ["cc/news.warc.gz"]\n'
    )
    (tmp_path / "a.yaml").write_text(
        "sources:\n"
        "  - {name: kompas, kind: feed, url: 'https://example.com/rss', language: id,"
        " include: ['/read/'], host_delay_s: 2}\n"
        "  - {name: archive, kind: warc, paths: [cc/news.warc.gz]}\n"
    )
    toml, yaml = load_sources(tmp_path / "a.toml"), load_sources(tmp_path / "a.yaml")
    assert toml == yaml
    feed, archive = toml
    assert isinstance(feed, WebSource) and feed.host_delay_s == 2.0 and feed.language == "id"
    assert isinstance(archive, LocalSource) and archive.paths == [tmp_path / "cc" / "news.warc.gz"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[[sources]]\nname = "x"\nkind = "feed"\n',
            r"sources\[0\] \(x\): Value error, kind 'feed' needs 'url'",
        ),
        ('[[sources]]\nname = "x"\nkind = "rss"\nurl = "https://e.com"\n', r"sources\[0\] \(x\).*'files'"),
        (
            '[[sources]]\nname = "x"\nkind = "feed"\nurl = "ftp://e.com/f"\n',
            "not an http\\(s\\) URL: 'ftp://e.com/f'",
        ),
        (
            '[[sources]]\nname = "x"\nkind = "urls"\nurls = ["https://e.com"]\ninclude = ["("]\n',
            "bad regular expression",
        ),
        (
            '[[sources]]\nname = "Bad Name"\nkind = "files"\npaths = ["a"]\n',
            r"sources\[0\] \(Bad Name\): name",
        ),
        (
            '[[sources]]\nname = "x"\nkind = "files"\npaths = ["a"]\nlimit = 3\n',
            "limit: Extra inputs are not permitted",
        ),
        (
            '[[sources]]\nname = "x"\nkind = "files"\npaths = ["a"]\n'
            '[[sources]]\nname = "x"\nkind = "files"\npaths = ["b"]\n',
            "source names must be unique; repeated: x",
        ),
        ("sources = []\n", "sources: List should have at least 1 item"),
        ("[[sources]\n", "not valid TOML"),
    ],
)
def test_invalid_sources_files_say_where_and_why(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(body)
    with pytest.raises(SourcesFileError, match=message):
        load_sources(path)


def test_missing_file_and_wrong_suffix(tmp_path: Path) -> None:
    with pytest.raises(SourcesFileError, match="no such sources file"):
        load_sources(tmp_path / "nope.toml")
    (tmp_path / "sources.json").write_text("{}")
    with pytest.raises(SourcesFileError, match=r"must be \.toml, \.yaml or \.yml"):
        load_sources(tmp_path / "sources.json")


def test_include_and_exclude_patterns() -> None:
    source = WebSource(
        name="s", kind="urls", urls=["https://e.com/a"], include=[r"/news/"], exclude=[r"/news/video/"]
    )
    assert source.wants("https://e.com/news/2026/one") is None
    assert source.wants("https://e.com/about") == "matches no include pattern of the source"
    assert source.wants("https://e.com/news/video/clip") == "matches exclude pattern '/news/video/'"


def test_local_paths_become_one_named_source_each(tmp_path: Path) -> None:
    (tmp_path / "My Inbox").mkdir()
    (tmp_path / "other" / "seeds").mkdir(parents=True)
    paths = [PROJECT_ROOT / "seeds", tmp_path / "My Inbox", tmp_path / "other" / "seeds"]
    specs = local_sources([*paths, PROJECT_ROOT / "seeds", PROJECT_ROOT / "seeds" / "SOURCES.md"])
    assert [s.name for s in specs] == ["seeds", "my-inbox", "seeds-2"]  # given again or inside: nothing new
