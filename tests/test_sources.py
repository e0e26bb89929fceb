"""Reading local inputs: every file yields an article or a rejection with a reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.records import RawArticle, Rejection
from pipeline.sources import read_inputs


def _write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def test_seeds_yield_one_item_per_input(seeds_dir: Path) -> None:
    files = [p for p in seeds_dir.iterdir() if p.is_file()]
    jsonl_lines = sum(
        1 for p in files if p.suffix == ".jsonl" for line in p.read_text().splitlines() if line.strip()
    )
    expected = len([p for p in files if p.suffix != ".jsonl"]) + jsonl_lines
    items = list(read_inputs([seeds_dir]))
    assert len(items) == expected
    articles = [i for i in items if isinstance(i, RawArticle)]
    assert {a.format for a in articles} == {"text", "html"}
    seed = next(a for a in articles if a.input_id.endswith("000_42c65bd1df09fd07.txt"))
    assert seed.title == "Diplomat Rusia dan AS Bertemu di Turki untuk Bahas Perbaikan Hubungan"
    assert seed.content.startswith("Diplomat Rusia dan Amerika Serikat (AS) bertemu")


def test_bad_inputs_are_rejected_with_reasons(tmp_path: Path) -> None:
    _write(tmp_path, "empty.txt", b"")
    _write(tmp_path, "binary.html", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR")
    _write(tmp_path, "latin1.txt", "Judul\nCaf\xe9 au lait".encode("latin-1"))
    _write(tmp_path, "headline-only.txt", "Hanya judul\n")
    _write(tmp_path, "notes.md", "# not an article")
    _write(
        tmp_path,
        "feed.jsonl",
        "\n".join(
            [
                json.dumps({"title": "Ok", "text": "Isi berita."}),
                "{broken json",
                json.dumps(["a", "list"]),
                json.dumps({"title": "No body"}),
                json.dumps({"text": "x", "published_at": "yesterday"}),
            ]
        ),
    )
    items = {i.input_id.removeprefix(str(tmp_path) + "/"): i for i in read_inputs([tmp_path])}
    reasons = {k: (v.outcome, v.reason) for k, v in items.items() if isinstance(v, Rejection)}
    assert reasons["empty.txt"] == ("quarantined", "empty file")
    assert reasons["binary.html"][1].startswith("binary data")
    latin1 = items["latin1.txt"]  # not UTF-8: read as windows-1252, not rejected
    assert isinstance(latin1, RawArticle) and latin1.content == "Caf\u00e9 au lait"
    assert reasons["headline-only.txt"][1] == "text file needs a headline line and a body"
    assert reasons["notes.md"] == ("skipped", "unsupported file type '.md'")
    assert reasons["feed.jsonl:2"][1].startswith("invalid JSON")
    assert reasons["feed.jsonl:3"][1] == "JSON line is not an object"
    assert reasons["feed.jsonl:4"][1] == "JSON record has neither 'text' nor 'html'"
    assert reasons["feed.jsonl:5"][1].startswith("bad published_at")
    assert isinstance(items["feed.jsonl:1"], RawArticle)
    assert len(items) == 10


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does-not-exist"):
        list(read_inputs([tmp_path / "does-not-exist"]))


def test_a_jsonl_file_of_blank_lines_is_accounted_for(tmp_path: Path) -> None:
    _write(tmp_path, "blank.jsonl", b"\n \t\n\n")
    (item,) = list(read_inputs([tmp_path / "blank.jsonl"]))
    assert isinstance(item, Rejection) and item.reason == "JSON lines file has only blank lines"


ARTICLE = "Judul berita\n\n" + "Isi berita yang cukup panjang untuk menjadi artikel. " * 8


def test_one_file_reached_through_two_named_paths_is_one_input(tmp_path: Path) -> None:
    from pipeline.run import step_sources
    from pipeline.settings import Settings

    (tmp_path / "in" / "sub").mkdir(parents=True)
    _write(tmp_path / "in" / "sub", "a.txt", ARTICLE)
    step_sources(tmp_path / "run", [tmp_path / "in", tmp_path / "in" / "sub"], Settings())
    counts = [json.loads(p.read_text())["articles"] for p in (tmp_path / "run" / "counts").glob("*.json")]
    assert sum(counts) == 1
    assert len(list(read_inputs([tmp_path / "in", tmp_path / "in" / "sub", tmp_path / "in/sub/a.txt"]))) == 1


def test_a_source_never_removes_the_batches_of_a_source_whose_name_it_starts(tmp_path: Path) -> None:
    """`news` and `news-id`: discovering `news` (again, as a retry would) leaves `news-id`'s batches."""
    from pipeline.run import raw_batches, step_discover, step_plan_sources
    from pipeline.settings import Settings
    from pipeline.sources_file import LocalSource

    for name in ("news-id", "news"):
        (tmp_path / name).mkdir()
        _write(tmp_path / name, "a.txt", ARTICLE.replace("Judul", f"Judul {name}"))
    specs: list = [LocalSource(name=n, kind="files", paths=[tmp_path / n]) for n in ("news-id", "news")]
    run = tmp_path / "run"
    step_plan_sources(run, specs, None)
    for name in ("news-id", "news", "news"):
        step_discover(run, name, Settings())
    assert raw_batches(run) == ["files-news-00000", "files-news-id-00000"]
