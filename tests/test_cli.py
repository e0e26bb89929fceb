"""The `warta` command, run as a user runs it (a subprocess of the installed console script)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from elasticsearch import Elasticsearch

# The console script installed next to this interpreter (uv sync installs it into .venv/bin).
WARTA = [str(Path(sys.executable).parent / "warta")]


def _warta(*args: str, index: str | None = None) -> subprocess.CompletedProcess[str]:
    env = os.environ.copy()
    if index:
        env["WARTA_INDEX"] = index
    return subprocess.run([*WARTA, *args], capture_output=True, text=True, env=env, check=False, timeout=600)


def test_ingest_then_search_json(
    seeds_dir: Path, index_name: str, es_client: Elasticsearch, tmp_path: Path
) -> None:
    done = _warta("ingest", str(seeds_dir), "--run-id", "cli-test", index=index_name)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["reconciled"] is True and report["indexed"] == es_client.count(index=index_name)["count"]

    done = _warta("search", "Rusia", "--location", "Istanbul", "--language", "id", "--json", index=index_name)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["total"] >= 1
    top = result["hits"][0]
    assert "Istanbul" in top["locations"] and top["language"] == "id"
    assert any("«Rusia»" in s for s in top["highlights"])

    done = _warta("search", "Rusia", "--since", "2030-01-01", "--json", index=index_name)
    assert json.loads(done.stdout)["total"] == 0

    # A day given alone is the whole day, in the zone given (UTC by default): the seed is dated
    # 2025-02-27 by its text; the Reuters page 2019-11-19T21:57Z, which is the 20th in Jakarta.
    def titles(*window: str) -> list[str]:
        done = _warta("search", "", *window, "--json", index=index_name)
        assert done.returncode == 0, done.stderr
        return [h["title"] for h in json.loads(done.stdout)["hits"]]

    assert any(
        t.startswith("Diplomat Rusia") for t in titles("--since", "2025-02-27", "--until", "2025-02-27")
    )
    utc = titles("--since", "2019-11-19", "--until", "2019-11-19")
    jakarta = titles("--since", "2019-11-19", "--until", "2019-11-19", "--tz", "Asia/Jakarta")
    assert any(t.startswith("Oversupply") for t in utc) and not any(
        t.startswith("Oversupply") for t in jakarta
    )
    # Errors are one line naming what to do, never a traceback.
    missing = _warta("search", "x", index=f"{index_name}-missing")
    assert missing.returncode == 1 and "no index" in missing.stderr and "Traceback" not in missing.stderr
    env = {**os.environ, "WARTA_ES_URL": "http://127.0.0.1:9"}
    down = subprocess.run([*WARTA, "search", "x"], capture_output=True, text=True, env=env, check=False)
    assert down.returncode == 1 and "cannot reach Elasticsearch at http://127.0.0.1:9" in down.stderr
    assert "Traceback" not in down.stderr and len(down.stderr.strip().splitlines()) <= 2

    done = _warta("search", "", "--facets", "5", "--one-per-story", "--json", index=index_name)
    result = json.loads(done.stdout)
    assert result["stories"] == len(result["hits"]) == result["total"] == report["indexed"]
    languages = {f["value"]: f["count"] for f in result["facets"]["languages"]}
    assert sum(languages.values()) == result["total"] and languages["id"] >= 7
    top = result["facets"]["persons"][0]
    done = _warta("search", "", "--person", top["value"], "--json", index=index_name)
    assert json.loads(done.stdout)["total"] == top["count"] >= 1

    done = _warta("index", "status", index=index_name)
    status = json.loads(done.stdout)
    assert status["current"] == f"{index_name}-v1" and status["reindex_needed"] is False
    done = _warta("reindex", index=index_name)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["new"] == f"{index_name}-v2"
    assert json.loads(_warta("search", "Rusia", "--json", index=index_name).stdout)["total"] >= 1

    done = _warta("search", "pembicaraan", index=index_name)
    assert done.returncode == 0 and "Diplomat Rusia" in done.stdout and "people:" in done.stdout


def test_es_status_reports_health(es_node: str) -> None:
    done = _warta("es", "status")
    assert done.returncode == 0
    assert json.loads(done.stdout)["health"] in ("green", "yellow")


def test_eval_ner_prints_one_json_line(tmp_path: Path) -> None:
    gold = tmp_path / "gold.conll"
    gold.write_text("Presiden\tO\nJoko\tB-PER\nWidodo\tI-PER\nberkunjung\tO\nke\tO\nJakarta\tB-LOC\n.\tO\n")
    done = _warta("eval", "ner", str(gold))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["gold_entities"] == 2 and result["tokens"] == 7
    assert 0.0 <= result["f1"] <= 1.0
    # A malformed or empty file is a one-line error and exit code 2, not a score of zero.
    for text, message in (("Joko Widodo\n", "expected 'token<TAB>tag'"), ("\n\n", "no sentences")):
        gold.write_text(text)
        done = _warta("eval", "ner", str(gold))
        assert done.returncode == 2 and message in done.stderr and not done.stdout


def test_ingest_with_a_sources_file_over_a_real_site(
    site,
    web_env: str,
    index_name: str,
    es_client: Elasticsearch,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[sources]]\nname = "site"\nkind = "feed"\nurl = "{site.base}/feed.xml"\n')
    window = ["--since", "2026-11-26T02:00:00Z", "--until", "2026-11-27T02:00:00Z"]
    done = _warta("ingest", "--sources", str(sources), *window, index=index_name)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["indexed"], report["sources"]) == (2, {"site": "ok"})
    again = json.loads(_warta("ingest", "--sources", str(sources), *window, index=index_name).stdout)
    assert (again["indexed"], again["skipped"]) == (0, 2)  # both answered 304


def test_ingest_rejects_a_bad_sources_file_clearly(tmp_path: Path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text('[[sources]]\nname = "x"\nkind = "sitemap"\n')
    done = _warta("ingest", "--sources", str(sources))
    assert done.returncode == 2
    assert "sources[0] (x): Value error, kind 'sitemap' needs 'url'" in " ".join(done.stderr.split())
