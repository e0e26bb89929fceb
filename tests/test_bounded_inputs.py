"""Hostile input files stay bounded in memory and each costs only itself: a gzip bomb in a WARC,
an endless JSON line, a million bad lines. Each case runs in a fresh process whose peak memory
(ru_maxrss) is read before and after."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from webserver import write_warc

from pipeline.records import RawArticle, Rejection
from pipeline.sources import read_inputs

_MEASURE = textwrap.dedent(
    """
    import json, resource, sys
    from pathlib import Path
    from pipeline.records import Rejection
    from pipeline.run import ReconciliationError, report, step_sources
    from pipeline.settings import Settings
    run_dir, inputs = Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    step_sources(run_dir, inputs, Settings())
    # Nothing is processed or indexed here: the index step's file says so.
    (run_dir / "index.json").write_text(json.dumps({"index": "-", "created": 0, "updated": 0, "passed": 0}))
    try:
        summary = report(run_dir)
    except ReconciliationError:  # articles read but not processed here: only the counts matter
        summary = json.loads((run_dir / "report.json").read_text())
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(json.dumps({"grown_mib": grown / 1024, **{k: summary[k] for k in ("inputs", "quarantined",
          "reconciled", "rejection_reasons", "rejections_listed")}}))
    """
)


def _measure(tmp_path: Path, *inputs: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(tmp_path / "run"), *map(str, inputs)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _bomb_member(inflated: int) -> bytes:
    """One gzip member of ``inflated`` bytes of zeros: no record header, no line break, so a reader
    looking for the next record's first line would take it all in."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as member:
        zeros = b"\0" * (1 << 20)
        for _ in range(inflated // len(zeros)):
            member.write(zeros)
    return out.getvalue()


def test_a_gzip_bomb_in_a_warc_is_quarantined_in_bounded_memory(tmp_path: Path) -> None:
    body = b"<html><body><p>" + b"Isi berita. " * 50 + b"</p></body></html>"
    write_warc(tmp_path / "good.warc.gz", [(f"https://e.id/{n}", "text/html", body) for n in range(2)])
    bomb = _bomb_member(256 << 20)
    assert len(bomb) < 400_000  # a few hundred KB on disk
    archive = tmp_path / "in" / "mixed.warc.gz"
    archive.parent.mkdir()
    archive.write_bytes(
        (tmp_path / "good.warc.gz").read_bytes() + bomb + (tmp_path / "good.warc.gz").read_bytes()
    )
    items = list(read_inputs([archive], source="cc"))
    assert [i.input_id.rsplit("#", 1)[1] for i in items if isinstance(i, RawArticle)] == [
        "1:https://e.id/0",
        "2:https://e.id/1",
        "3:https://e.id/0",
        "4:https://e.id/1",
    ]
    (rejected,) = [i for i in items if isinstance(i, Rejection)]
    assert rejected.outcome == "quarantined" and "inflates to over" in rejected.reason
    measured = _measure(tmp_path, archive.parent)
    assert (measured["inputs"], measured["quarantined"]) == (5, 1)
    assert float(measured["grown_mib"]) < 120, measured  # 3.5 GB before the bound


def test_an_endless_json_line_and_a_million_bad_lines_stay_bounded(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    with (folder / "long.jsonl").open("wb") as handle:
        handle.write(
            b'{"text": "' + b"a" * (100 << 20) + b'"}\n{"text": ""}\n'
        )  # the next line is read on its own
    (folder / "empty.jsonl").write_bytes(b"{}\n" * 300_000)
    measured = _measure(tmp_path, folder)
    assert measured["inputs"] == measured["quarantined"] == 300_002
    assert measured["reconciled"] is True
    assert float(measured["grown_mib"]) < 80, measured  # 470 MB for the line, 700 MB + 2.6 GB for the lines
    assert measured["rejections_listed"] == 1000
    reasons = {r["reason"]: r["count"] for r in measured["rejection_reasons"]}  # type: ignore[attr-defined]
    assert reasons["JSON record has neither 'text' nor 'html'"] == 300_001
    assert reasons["JSON line too large (N bytes > N)"] == 1
    assert (tmp_path / "run" / "report.json").stat().st_size < 1_000_000


def test_one_bad_json_line_is_its_own_quarantine_record(tmp_path: Path) -> None:
    lines = [
        {"text": "first"},
        {"text": "b", "url": 5},
        {"text": "b", "language": ["id"]},
        {"text": "b", "published_at": 1e20},
        {"text": "b", "title": {"x": 1}},
        {"text": "last"},
    ]
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    items = list(read_inputs([tmp_path / "a.jsonl"]))
    assert [type(i).__name__ for i in items] == ["RawArticle", *["Rejection"] * 4, "RawArticle"]
    reasons = [i.reason for i in items if isinstance(i, Rejection)]
    assert reasons[0] == "'url' must be text, not int"
    assert reasons[1] == "'language' must be text, not list"
    assert reasons[2].startswith("bad published_at:")
    assert reasons[3] == "'title' must be text, not dict"
