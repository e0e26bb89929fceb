"""Crafted inputs through the real `process` step, in a subprocess so its time and memory are
its own: each input ends as a good document or a quarantine record with a clear reason."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pipeline.records import RawArticle
from pipeline.run import step_process
from pipeline.settings import get_settings
from pipeline.staging import read_jsonl, write_jsonl

ARTICLE = (
    "Pemerintah daerah mengumumkan rencana pembangunan jembatan baru di tepi sungai. "
    "Pembangunan akan dimulai bulan depan dan ditargetkan selesai dalam dua tahun. "
) * 4

HEADLINES = [f"Harga cabai naik lagi di pasar induk kota nomor {i}" for i in range(60)]

CRAFTED = {
    # A section front: headlines that link to articles, no article of its own.
    "section": "<html><head><title>Ekonomi</title></head><body><nav><a href='/'>Beranda</a></nav><main><ul>"
    + "".join(f"<li><a href='/berita/{i}'>{h}</a></li>" for i, h in enumerate(HEADLINES))
    + "</ul></main></body></html>",
    "cards": "<html><head><title>Ekonomi</title></head><body><main>"
    + "".join(
        f"<div class='card'><h2><a href='/b/{i}'>{h}</a></h2>"
        f"<p><a href='/b/{i}'>Baca selengkapnya: {h}</a></p></div>"
        for i, h in enumerate(HEADLINES)
    )
    + "</main></body></html>",
    "deep": "<html><body>" + "<div>" * 100_000 + f"<p>{ARTICLE}</p>" + "</div>" * 100_000 + "</body></html>",
    "links": "<html><body><ul>"
    + "".join(f"<li><a href='/a/{i}'>Tautan {i}</a></li>" for i in range(50_000))
    + "</ul></body></html>",
    "giant": "<html><body>" + "x" * 11_000_000 + "</body></html>",
    "controls": (
        "<html><head><title>Judul\x00 berita\x07 hari\x1b ini</title></head>"
        f"<body><article><p>{ARTICLE}\x00\x0c</p></article></body></html>"
    ),
    "scripts": (
        f"<html><body><script>{'var a=1;' * 50_000}</script><style>{'p{}' * 50_000}</style>"
        f"<article><h1>Jembatan baru</h1><p>{ARTICLE}</p></article></body></html>"
    ),
}


def test_crafted_inputs_end_well_in_bounded_time_and_memory(tmp_path: Path) -> None:
    (tmp_path / "raw").mkdir()
    endless = RawArticle(
        input_id="endless", source="crafted", format="text", title="Panjang", content=ARTICLE * 2_000
    )
    write_jsonl(
        tmp_path / "raw" / "crafted.jsonl",
        [
            *(RawArticle(input_id=k, source="crafted", format="html", content=v) for k, v in CRAFTED.items()),
            endless,
        ],
    )
    code = (
        "import json, resource, sys, time; from pathlib import Path;"
        "from pipeline.run import step_process; from pipeline.settings import get_settings;"
        "t = time.monotonic(); step_process(Path(sys.argv[1]), 'crafted', get_settings());"
        "print(json.dumps({'seconds': time.monotonic() - t,"
        " 'maxrss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    assert measured["seconds"] < 120 and measured["maxrss_mb"] < 2500, measured

    tagged = {
        a["input_id"]: a
        for a in map(json.loads, (tmp_path / "tagged" / "crafted.jsonl").read_text().splitlines())
    }
    rejected = {
        r["input_id"]: r
        for r in map(json.loads, (tmp_path / "rejected" / "process.crafted.jsonl").read_text().splitlines())
    }
    assert set(tagged) | set(rejected) == {*CRAFTED, "endless"} and not set(tagged) & set(rejected)
    assert rejected["giant"]["reason"] == "input too large (11000026 > 10000000 characters)"
    assert rejected["endless"]["reason"].startswith("main text too long")
    assert rejected["links"]["reason"].startswith("a list of links, not an article")  # 50,000 links
    controls = tagged["controls"]
    assert controls["title"] == "Judul berita hari ini" and "\x00" not in controls["body"]
    assert "var a=1" not in tagged["scripts"]["body"] and "Pembangunan" in tagged["scripts"]["body"]
    assert rejected["deep"]["reason"] == "no main text found in HTML"  # 100,000 nested <div>s
    for page in ("section", "cards"):
        assert rejected[page]["reason"].startswith("a list of links, not an article ("), rejected[page]


def test_a_50_mb_page_is_quarantined_without_being_read(tmp_path: Path) -> None:
    from pipeline.sources import MAX_FILE_BYTES, read_inputs

    page = tmp_path / "huge.html"
    with page.open("wb") as handle:
        handle.write(b"<html><body><p>")
        for _ in range(50):
            handle.write(b"kata " * 209_715 + b"\n")  # ~1 MiB each
        handle.write(b"</p></body></html>")
    size = page.stat().st_size
    assert size > 50 * 1_000_000
    (rejection,) = list(read_inputs([page]))
    assert rejection.reason == f"file too large ({size} bytes > {MAX_FILE_BYTES})"


def test_the_per_document_time_budget_quarantines_an_overrun(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WARTA_DOC_TIME_BUDGET_S", "0.0005")
    (tmp_path / "raw").mkdir()
    page = (
        "<html><head><title>Lambat</title></head><body>"
        + f"<article><p>{ARTICLE}</p></article>" * 200
        + "</body></html>"
    )
    write_jsonl(
        tmp_path / "raw" / "b.jsonl", [RawArticle(input_id="slow", source="s", format="html", content=page)]
    )
    counts = step_process(tmp_path, "b", get_settings())
    assert counts == {"passed": 0, "quarantined": 1}
    (rejection,) = [
        json.loads(line) for line in (tmp_path / "rejected" / "process.b.jsonl").read_text().splitlines()
    ]
    assert rejection["reason"] == "cleaning took over 0.0005 s (the per-document budget)"
    assert not list(read_jsonl(tmp_path / "tagged" / "b.jsonl", RawArticle))
