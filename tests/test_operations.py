"""Retries, clears and replays keep every count true; local tools never hurt the machine.

Each case reproduces an operator's move on the real node, the real loopback site and real
processes: Airflow's retry or clear of a task re-runs the same step function over the same run
folder, which is what these tests do, step by step."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from pydantic import SecretStr
from webserver import NewsSite, write_warc

from pipeline import deadletter, es_local, kibana
from pipeline.dedup import canonical_url
from pipeline.fetch_state import FetchStateStore
from pipeline.records import Rejection
from pipeline.run import (
    raw_batches,
    replay,
    report,
    run_all,
    run_sources,
    step_discover,
    step_fetch,
    step_index,
    step_plan_fetch,
    step_plan_sources,
    step_process_all,
)
from pipeline.settings import Settings
from pipeline.sources_file import WebSource, local_sources

WARTA = [str(Path(sys.executable).parent / "warta")]
BODY = (
    "Pemerintah kota mengumumkan rencana pembangunan jembatan baru di atas sungai yang membelah "
    "kota itu. Wali kota mengatakan proyek tersebut akan selesai dalam dua tahun dan dibiayai "
    "bersama oleh pemerintah pusat serta swasta. Warga menyambut baik rencana tersebut."
)


def _letters(client: Elasticsearch, settings: Settings) -> list[deadletter.DeadLetter]:
    return deadletter.search(client, settings.dead_letter_index, status=None)


# -- the local node's commands ---------------------------------------------------------------------


def _process(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", *args])


def test_es_stop_never_signals_a_process_that_is_not_this_folders_node(tmp_path: Path) -> None:
    settings = Settings(es_url="http://127.0.0.1:9", es_home=tmp_path / "es")
    paths = es_local.node_paths(settings)
    paths.base.mkdir(parents=True)
    stranger = _process()  # a stale pid file names an unrelated process
    copied = _process(es_local.MAIN_CLASS, str(tmp_path / "original" / "9"), "9")  # another folder's node
    try:
        for victim in (stranger, copied):
            paths.pid_file.write_text(f"{victim.pid}\n")
            assert es_local.stop(settings) is False
            time.sleep(0.2)
            assert victim.poll() is None, "an unrelated process was signalled"
            assert not paths.pid_file.exists()  # the stale file is gone
        paths.pid_file.write_text("1\n")  # pid 1, not ours either (and not ours to signal)
        assert es_local.stop(settings) is False
    finally:
        for victim in (stranger, copied):
            victim.kill()
            victim.wait()


class _Guarded(BaseHTTPRequestHandler):
    """A node that wants basic auth warta:pw, and says so with 401."""

    def log_message(self, *_: Any) -> None:
        pass

    def do_GET(self) -> None:
        expected = "Basic " + base64.b64encode(b"warta:pw").decode()
        if self.headers.get("Authorization") != expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="security"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b'{"cluster_name":"x","status":"green"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_node_that_wants_credentials_is_a_node_not_a_free_port(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Guarded)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        bare = Settings(es_url=url, es_home=tmp_path / "es")
        assert es_local.health(bare) == "unauthorized"
        with pytest.raises(es_local.LocalNodeError, match="refuses the credentials"):
            es_local.start(bare)
        assert not es_local.node_paths(bare).pid_file.exists()  # no JVM was launched
        with_password = bare.model_copy(update={"es_username": "warta", "es_password": SecretStr("pw")})
        assert es_local.health(with_password) == "green"
        assert es_local.start(with_password) is False  # one answers: nothing to start
    finally:
        server.shutdown()
        server.server_close()


def test_kibana_credentials_never_go_over_plain_http_to_another_host() -> None:
    settings = Settings(
        kibana_url="http://kibana.example.org:5601", kibana_password="pw", kibana_username="u"
    )
    with pytest.raises(kibana.KibanaError, match="refusing to send Kibana credentials over plain http"):
        kibana.import_saved_objects(settings, [], wait_s=0)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("WARTA_BATCH_SIZE", "0"),
        ("WARTA_BATCH_SIZE", "-1"),
        ("WARTA_BULK_CHUNK_SIZE", "0"),
        ("WARTA_WORKERS", "-3"),
    ],
)
def test_numeric_settings_out_of_bounds_stop_at_start_up(variable: str, value: str, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(f"Judul\n\n{BODY}\n")
    done = subprocess.run(
        [*WARTA, "ingest", str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, variable: value},
        check=False,
    )
    assert done.returncode == 2
    assert variable in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / ".warta").exists()


# -- retries and clears ----------------------------------------------------------------------------


def test_a_cleared_discover_with_fewer_batches_leaves_no_stale_counts(
    es_client: Elasticsearch,
    index_name: str,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Three one-article batches (one quarantined while cleaning), then `discover` cleared and run
    with a larger batch size: one batch. The earlier batches' outputs go with it; the run still
    reconciles, and its dead letter keeps one attempt."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(f"Jembatan baru\n\n{BODY}\n")
    (folder / "b.html").write_text(
        "<html><head><title>Pendek</title></head><body><p>Pendek.</p></body></html>"
    )
    (folder / "c.txt").write_text(f"Jembatan lain\n\n{BODY} Lagi.\n")
    run = tmp_path / "run"
    first = run_all(
        [folder], run, settings.model_copy(update={"batch_size": 1}), index_name=index_name, workers=1
    )
    assert (first["inputs"], first["indexed"], first["quarantined"]) == (3, 2, 1)
    # The clear: discover and everything downstream again, over the same folder.
    wider = settings.model_copy(update={"batch_size": 10})
    (name,) = [s.name for s in local_sources([folder])]
    step_discover(run, name, wider)
    step_process_all(run, raw_batches(run), wider, 1)
    step_index(run, wider, index_name)
    again = report(run, wider)
    assert (again["inputs"], again["indexed"], again["quarantined"], again["reconciled"]) == (3, 2, 1, True)
    assert [(letter.attempts, Path(letter.input_id).name) for letter in _letters(es_client, settings)] == [
        (1, "b.html")
    ]


def test_a_retried_or_cleared_load_keeps_created_true(
    es_client: Elasticsearch, index_name: str, settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(4):
        (folder / f"{n}.txt").write_text(f"Berita nomor {n}\n\n{BODY} Nomor {n}.\n")
    run = tmp_path / "run"
    chunked = settings.model_copy(update={"bulk_chunk_size": 1})
    step_plan_sources(run, local_sources([folder]), None)
    step_discover(run, "in", chunked)
    step_process_all(run, raw_batches(run), chunked, 1)
    # A load that dies after two of its four chunks: what it leaves is two documents in the
    # index and their ids in the run's folder (played by loading the first two articles only).
    tagged = run / "tagged" / f"{raw_batches(run)[0]}.jsonl"
    lines = tagged.read_text().splitlines(keepends=True)
    tagged.write_text("".join(lines[:2]))
    step_index(run, chunked, index_name)
    tagged.write_text("".join(lines))
    retried = step_index(run, chunked, index_name)  # the retry
    assert (retried["created"], retried["updated"]) == (4, 0)
    cleared = step_index(run, chunked, index_name)  # `load` cleared and run again
    assert (cleared["created"], cleared["updated"]) == (4, 0)
    step_plan_sources(tmp_path / "next-run", local_sources([folder]), None)  # another run: updates
    step_discover(tmp_path / "next-run", "in", chunked)
    step_process_all(tmp_path / "next-run", raw_batches(tmp_path / "next-run"), chunked, 1)
    later = step_index(tmp_path / "next-run", chunked, index_name)
    assert (later["created"], later["updated"]) == (0, 4)


def test_a_retried_report_records_a_dead_letter_once(
    es_client: Elasticsearch, index_name: str, settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "empty.txt").write_text("")
    run = tmp_path / "run"
    run_all([folder], run, settings, index_name=index_name, workers=1)
    report(run, settings)  # Airflow retrying `report`
    report(run, settings)
    assert [letter.attempts for letter in _letters(es_client, settings)] == [1]


def test_a_cleared_plan_fetch_leaves_no_stale_rejections(
    site: NewsSite,
    web_env: str,
    es_client: Elasticsearch,
    index_name: str,
    settings: Settings,
    tmp_path: Path,
) -> None:
    """A page quarantined while cleaning, then plan_fetch cleared with its downstream after a good
    run: the run reconciles, and the page was never recorded as fetched (it did not reach the index)."""
    short = settings.model_copy(update={"min_body_chars": 1200})  # /latin is shorter than that
    source = WebSource(
        name="site", kind="urls", urls=[f"{site.base}/latin", f"{site.base}/news/kabarislamia-kaum"]
    )
    run = tmp_path / "run"
    first = run_sources([source], run, short, index_name=index_name, workers=1)
    assert (first["indexed"], first["quarantined"]) == (1, 1)
    site.hits.clear()
    for batch in step_plan_fetch(run, short):  # the clear: plan_fetch and downstream again
        step_fetch(run, batch, short)
    step_process_all(run, raw_batches(run), short, 1)
    step_index(run, short, index_name)
    again = report(run, short)
    # The same counts as the first attempt: what this run recorded itself is not "fetched before".
    assert (again["inputs"], again["indexed"], again["quarantined"], again["skipped"]) == (2, 1, 1, 0)
    assert again["reconciled"]
    fetched = {h.path for h in site.hits if h.status == 200 and h.path != "/robots.txt"}
    assert fetched == {"/latin", "/news/kabarislamia-kaum"}
    state = dict(FetchStateStore(es_client, web_env).pages([canonical_url(f"{site.base}/latin")]))
    assert not state  # quarantined on the way: never recorded
    assert [letter.attempts for letter in _letters(es_client, settings)] == [1]


# -- replay ----------------------------------------------------------------------------------------


def test_replay_resolves_only_what_reached_the_index_and_keeps_the_source(
    site: NewsSite,
    web_env: str,
    es_client: Elasticsearch,
    index_name: str,
    settings: Settings,
    tmp_path: Path,
) -> None:
    once = settings.model_copy(update={"fetch_max_attempts": 1})
    source = WebSource(name="kabar", kind="urls", urls=[f"{site.base}/flaky", f"{site.base}/broken"])
    first = run_sources([source], tmp_path / "run1", once, index_name=index_name, workers=1)
    assert first["quarantined"] == 2
    letters = {letter.input_id: letter for letter in _letters(es_client, settings)}
    assert {letter.source for letter in letters.values()} == {"kabar"}  # fetch failures keep it
    # /flaky answers now; /broken still 500s.
    result = replay(list(letters.values()), tmp_path / "replay", once, index_name=index_name, workers=1)
    assert result["resolved"] == 1
    after = {letter.input_id: letter for letter in _letters(es_client, settings)}
    assert after[f"{site.base}/flaky"].status == "resolved"
    assert (after[f"{site.base}/broken"].status, after[f"{site.base}/broken"].attempts) == ("open", 2)
    es_client.indices.refresh(index=index_name)
    (hit,) = es_client.search(index=index_name, query={"term": {"url": f"{site.base}/flaky"}})["hits"]["hits"]
    assert hit["_source"]["source"] == "kabar"
    state = es_client.search(index=web_env, query={"term": {"url": f"{site.base}/flaky"}})["hits"]["hits"]
    assert [s["_source"]["source"] for s in state] == ["kabar"]
    # Robots.txt unreachable now: the replay skips the URL, and skipped is no resolution.
    site.robots_status = 503
    again = replay(
        [after[f"{site.base}/broken"]], tmp_path / "replay2", once, index_name=index_name, workers=1
    )
    assert again["resolved"] == 0
    assert {
        letter.status for letter in _letters(es_client, settings) if letter.input_id.endswith("/broken")
    } == {"open"}


def test_one_file_one_letter_however_it_was_named_and_warc_records_replay(
    es_client: Elasticsearch,
    index_name: str,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "empty.txt").write_text("")
    page = b"<html><body><p>   </p></body></html>"
    write_warc(folder / "crawl.warc.gz", [("https://berita.example.id/kosong", "text/html", page)])
    monkeypatch.chdir(folder)
    for n, spelling in enumerate([Path("empty.txt"), folder / "empty.txt", Path(".")]):
        run_all([spelling], tmp_path / f"run{n}", settings, index_name=index_name, workers=1)
    letters = {letter.input_id: letter for letter in _letters(es_client, settings)}
    empty = str((folder / "empty.txt").resolve())
    assert letters[empty].attempts == 3
    (record,) = [i for i in letters if "#" in i]
    assert record.startswith(str((folder / "crawl.warc.gz").resolve()) + "#1:")
    monkeypatch.chdir(tmp_path)  # a replay from another folder finds both
    result = replay(list(letters.values()), tmp_path / "replay", settings, index_name=index_name, workers=1)
    assert result["not_replayable"] == {}
    assert {letter.input_id: letter.attempts for letter in _letters(es_client, settings)} == {
        empty: 4,
        record: 2,
    }


def test_racing_writers_lose_no_dead_letter_update(es_client: Elasticsearch, settings: Settings) -> None:
    """Eight runs record the same input at once, five times each: every attempt is counted."""
    rejection = Rejection(
        input_id="/data/racy.txt", stage="sources", outcome="quarantined", reason="empty file"
    )
    errors: list[BaseException] = []

    def run(worker: int) -> None:
        client = es_client.options()
        try:
            for n in range(5):
                deadletter.record(client, settings.dead_letter_index, [rejection], {}, f"run-{worker}-{n}")
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    (letter,) = _letters(es_client, settings)
    assert letter.attempts == 40


def test_a_whole_run_cleared_and_run_again_under_airflow_keeps_its_counts(
    airflow_db: Path,
    es_client: Elasticsearch,
    index_name: str,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`dag.test` for a logical date that already ran clears that run's task instances and runs
    them again in the same run (same run id, same staging folder): the counts stay those of the
    first attempt, created included, and the dead letter keeps one attempt."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk import DagRunState

    from pipeline.settings import PROJECT_ROOT
    from pipeline.staging import run_dir

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text(f"Jembatan baru\n\n{BODY}\n")
    (folder / "empty.txt").write_text("")
    monkeypatch.setenv("WARTA_INPUT_ROOTS", json.dumps([str(folder)]))
    monkeypatch.setenv("WARTA_DEAD_LETTER_INDEX", settings.dead_letter_index)
    dag = DagBag(dag_folder=str(PROJECT_ROOT / "dags")).dags["news_ingest"]
    when = datetime(2025, 3, 1, tzinfo=UTC)
    summaries = []
    for _attempt in range(2):
        run = dag.test(
            run_after=when, logical_date=when, run_conf={"paths": [str(folder)], "index": index_name}
        )
        assert run.state == DagRunState.SUCCESS
        folder_of_run = run_dir(Path(os.environ["WARTA_STAGING_DIR"]) / "news_ingest", run.run_id)
        summaries.append(json.loads((folder_of_run / "report.json").read_text()))
    keys = ("inputs", "indexed", "created", "updated", "quarantined", "reconciled")
    assert [{k: s[k] for k in keys} for s in summaries] == [
        {"inputs": 2, "indexed": 1, "created": 1, "updated": 0, "quarantined": 1, "reconciled": True}
    ] * 2
    assert [letter.attempts for letter in _letters(es_client, settings)] == [1]
