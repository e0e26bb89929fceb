"""Dead letters: quarantined inputs are kept in Elasticsearch, listed, and replayed once fixed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from pipeline import deadletter
from pipeline.run import replay, run_all
from pipeline.settings import Settings

WARTA = [str(Path(sys.executable).parent / "warta")]
BODY = (
    "Pemerintah kota mengumumkan rencana pembangunan jembatan baru di atas sungai yang membelah "
    "kota itu. Wali kota mengatakan proyek tersebut akan selesai dalam dua tahun dan dibiayai "
    "bersama oleh pemerintah pusat serta swasta. Warga menyambut baik rencana tersebut."
)


def _inputs(folder: Path) -> None:
    folder.mkdir()
    (folder / "good.txt").write_text(f"Jembatan baru untuk kota\n\n{BODY}\n")
    (folder / "short.html").write_text(
        "<html><head><title>Pendek</title></head><body><article><p>Terlalu pendek untuk berita.</p>"
        "</article></body></html>"
    )
    (folder / "empty.txt").write_text("")
    good_line = json.dumps({"title": "Baris yang baik", "text": BODY, "url": "https://example.org/baik"})
    (folder / "lines.jsonl").write_text(good_line + "\n" + '{"title": "rusak", "text": \n')


def _open(client: Elasticsearch, settings: Settings) -> dict[str, deadletter.DeadLetter]:
    return {
        Path(letter.input_id).name: letter
        for letter in deadletter.search(client, settings.dead_letter_index, status="open")
    }


@pytest.mark.es_api
def test_quarantined_inputs_are_replayed_after_the_fix(
    es_client: Elasticsearch, index_name: str, settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    _inputs(folder)
    first = run_all([folder], tmp_path / "run1", settings, index_name=index_name, workers=1)
    assert (first["indexed"], first["quarantined"]) == (2, 3)

    letters = _open(es_client, settings)
    assert set(letters) == {"short.html", "empty.txt", "lines.jsonl:2"}
    short, empty, line = letters["short.html"], letters["empty.txt"], letters["lines.jsonl:2"]
    # Quarantined after reading: the raw input is kept; before reading: only its reference.
    assert short.stage == "clean" and short.raw_kept and short.raw is not None
    assert short.raw.content == (folder / "short.html").read_text()
    assert "too short" in short.reason
    assert not empty.raw_kept and empty.reason == "empty file"
    assert not line.raw_kept and "invalid JSON" in line.reason
    assert all(letter.attempts == 1 and letter.run_id == "run1" for letter in letters.values())

    # Replayed unchanged: quarantined again for the same reasons, one more attempt, still open.
    again = replay(list(letters.values()), tmp_path / "replay1", settings, index_name=index_name, workers=1)
    assert (again["inputs"], again["indexed"], again["quarantined"], again["resolved"]) == (3, 0, 3, 0)
    letters = _open(es_client, settings)
    assert {name: letter.attempts for name, letter in letters.items()} == {
        "short.html": 2,
        "empty.txt": 2,
        "lines.jsonl:2": 2,
    }
    assert letters["short.html"].raw_kept  # still replayable from the kept copy

    # Fixed: a setting for the short page, the files on disk for the others.
    (folder / "empty.txt").write_text(f"Berita yang dulu kosong\n\n{BODY}\n")
    good_line = json.dumps({"title": "Baris yang baik", "text": BODY, "url": "https://example.org/baik"})
    fixed_line = json.dumps({"title": "Baris yang diperbaiki", "text": BODY + " Diperbaiki."})
    (folder / "lines.jsonl").write_text(good_line + "\n" + fixed_line + "\n")
    lenient = settings.model_copy(update={"min_body_chars": 10})
    fixed = replay(list(letters.values()), tmp_path / "replay2", lenient, index_name=index_name, workers=1)
    # Only the dead-lettered line of lines.jsonl is replayed, not its good first line.
    assert (fixed["inputs"], fixed["indexed"], fixed["quarantined"], fixed["resolved"]) == (3, 3, 0, 3)
    assert fixed["reconciled"] is True
    assert _open(es_client, settings) == {}
    resolved = deadletter.search(es_client, settings.dead_letter_index, status="resolved")
    assert {letter.resolution for letter in resolved} == {"indexed"} and len(resolved) == 3
    es_client.indices.refresh(index=index_name)
    assert es_client.count(index=index_name)["count"] == 5


def test_letters_without_a_way_back_are_reported_not_dropped(
    es_client: Elasticsearch, index_name: str, settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    _inputs(folder)
    run_all([folder], tmp_path / "run1", settings, index_name=index_name, workers=1)
    letters = _open(es_client, settings)
    (folder / "empty.txt").unlink()  # the input is gone and no copy was kept
    result = replay([letters["empty.txt"]], tmp_path / "replay", settings, index_name=index_name, workers=1)
    assert result["not_replayable"] == {
        str(folder / "empty.txt"): "raw input not kept, and no such file or URL"
    }
    assert "empty.txt" in _open(es_client, settings)  # left open for the operator


def test_cli_lists_shows_and_replays(
    es_client: Elasticsearch, index_name: str, settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    _inputs(folder)
    env = {
        **os.environ,
        "WARTA_INDEX": index_name,
        "WARTA_DEAD_LETTER_INDEX": settings.dead_letter_index,
        "WARTA_WORKERS": "1",
    }

    def warta(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*WARTA, *args], capture_output=True, text=True, env=env, timeout=600)

    assert warta("ingest", str(folder)).returncode == 0
    listed = [
        json.loads(line) for line in warta("deadletter", "list", "--stage", "clean").stdout.splitlines()
    ]
    assert [Path(item["input_id"]).name for item in listed] == ["short.html"]
    assert "raw" not in listed[0]
    shown = json.loads(warta("deadletter", "show", listed[0]["id"]).stdout)
    assert shown["raw"]["format"] == "html" and shown["reason"].startswith("main text too short")

    env["WARTA_MIN_BODY_CHARS"] = "10"
    done = warta("deadletter", "replay", "--all", "--reason", "too short")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["resolved"] == 1
    remaining = [json.loads(line)["reason"] for line in warta("deadletter", "list").stdout.splitlines()]
    assert sorted(remaining)[0] == "empty file" and sorted(remaining)[1].startswith("invalid JSON")
    assert len(remaining) == 2
    assert warta("deadletter", "replay").returncode == 2  # neither ids nor --all
