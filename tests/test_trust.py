"""Inputs stay inside what the operator allowed: symbolic links, special files, the DAG's params
(pipeline/trust.py), with real files, links, a FIFO and a socket."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest

from pipeline import trust
from pipeline.records import RawArticle, Rejection
from pipeline.sources import read_file, read_inputs

ARTICLE = "Judul berita\n\n" + "Isi berita yang cukup panjang untuk menjadi artikel. " * 8
SECRET = "root:x:0:0:the secret outside the input folder"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """in/ with one article; outside/ beside it holds a secret file and a folder of them."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "note.txt").write_text(ARTICLE)
    (tmp_path / "outside" / "system").mkdir(parents=True)
    (tmp_path / "outside" / "passwd").write_text(f"{SECRET}\n{SECRET}\n")
    (tmp_path / "outside" / "system" / "shadow.txt").write_text(f"{SECRET}\n{SECRET}\n")
    return tmp_path / "in"


def _by_name(items: list[RawArticle | Rejection]) -> dict[str, RawArticle | Rejection]:
    return {Path(i.input_id).name: i for i in items}


def test_links_leading_outside_loops_and_special_files_are_reported_never_read(folder: Path) -> None:
    outside = folder.parent / "outside"
    (folder / "passwd.txt").symlink_to(outside / "passwd")
    (folder / "system").symlink_to(outside / "system")
    (folder / "loop.txt").symlink_to(folder / "loop.txt")
    (folder / "dangling.txt").symlink_to(folder / "gone.txt")
    os.mkfifo(folder / "pipe.txt")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder / "sock.txt"))
    (folder / ".hidden.txt").write_text(ARTICLE)
    started = time.monotonic()
    try:
        items = list(read_inputs([folder]))
    finally:
        server.close()
    assert time.monotonic() - started < 10  # the FIFO was never opened for reading
    found = _by_name(items)
    assert isinstance(found["note.txt"], RawArticle)
    reasons = {name: i.reason for name, i in found.items() if isinstance(i, Rejection)}
    assert reasons == {
        "passwd.txt": f"symbolic link leads outside {trust.real(folder)}",
        "system": f"symbolic link leads outside {trust.real(folder)}",
        "loop.txt": "symbolic link loop",
        "dangling.txt": "broken symbolic link",
        "pipe.txt": "a named pipe (FIFO), not a regular file",
        "sock.txt": "a socket, not a regular file",
        ".hidden.txt": "hidden (its name starts with '.')",
    }
    assert all(i.outcome == "skipped" for i in found.values() if isinstance(i, Rejection))
    assert not any(SECRET in i.content for i in items if isinstance(i, RawArticle))


def test_a_link_inside_the_folder_is_followed_and_its_file_read_once(folder: Path) -> None:
    (folder / "sub").mkdir()
    (folder / "sub" / "again.txt").symlink_to(folder / "note.txt")
    (folder / "alias").symlink_to(folder / "sub")
    (item,) = read_inputs([folder])  # three names, one file: one input
    assert isinstance(item, RawArticle) and item.input_id == str(trust.real(folder / "note.txt"))


def test_a_link_swapped_in_after_the_check_is_not_followed(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check is on the file actually opened. A file replaced by a link before it is read is
    refused; and where the swap lands between resolving the name and opening it (played here by a
    resolver that answers what it found a moment earlier), the open itself refuses a final link,
    and the descriptor's own path refuses a folder swapped for a link."""
    root = trust.real(folder)
    path = folder / "note.txt"
    path.unlink()
    path.symlink_to(folder.parent / "outside" / "passwd")
    (item,) = read_file(path, "s", root)
    assert isinstance(item, Rejection) and item.reason == f"symbolic link leads outside {root}"

    monkeypatch.setattr(trust, "real", lambda p: Path(os.path.abspath(p)))  # the stale answer
    with pytest.raises(trust.Refused, match="symbolic link swapped in"):
        trust.open_input(path, root)
    (folder / "sub").symlink_to(folder.parent / "outside" / "system")
    with pytest.raises(trust.Refused, match="the file opened lies outside"):
        trust.open_input(folder / "sub" / "shadow.txt", root)


def test_a_replay_rereads_a_file_only_where_it_was_read(folder: Path) -> None:
    """Dead-letter replay reads at the recorded real path (``exact``): a link put there since,
    leading elsewhere, is refused."""
    recorded = trust.real(folder / "note.txt")
    assert [type(i).__name__ for i in read_inputs([recorded], exact=True)] == ["RawArticle"]
    recorded.unlink()
    recorded.symlink_to(folder.parent / "outside" / "passwd")
    (item,) = read_inputs([recorded], exact=True)
    assert isinstance(item, Rejection) and "leads outside" in item.reason


def test_the_report_accounts_for_every_entry(folder: Path, tmp_path: Path) -> None:
    from pipeline.run import step_sources
    from pipeline.settings import Settings

    os.mkfifo(folder / "pipe")
    (folder / "loop").symlink_to(folder / "loop")
    (folder / "etc").symlink_to("/etc")
    step_sources(tmp_path / "run", [folder], Settings())
    rejected = [json.loads(line) for line in (tmp_path / "run" / "rejected" / "discover.in.jsonl").open()]
    counts = json.loads((tmp_path / "run" / "counts" / "files-in.json").read_text())
    assert counts["articles"] == 1 and len(rejected) == 3  # inputs 4: one article, three reasons
    assert sorted(Path(r["input_id"]).name for r in rejected) == ["etc", "loop", "pipe"]


def test_dag_inputs_must_lie_inside_the_allow_list(folder: Path, tmp_path: Path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[sources]]\nname = "x"\nkind = "files"\npaths = ["{folder.parent / "outside"}"]\n')
    roots = [folder, tmp_path / "conf"]
    (tmp_path / "conf").mkdir()
    assert [s.name for s in trust.dag_sources(None, [folder], sources, roots)] == ["in"]
    with pytest.raises(trust.OutsideRoots, match=r"path .*outside.* WARTA_INPUT_ROOTS"):
        trust.dag_sources(None, [folder.parent / "outside"], sources, roots)
    with pytest.raises(trust.OutsideRoots, match=r"sources_file .*sources\.toml is outside"):
        trust.dag_sources(sources, [], sources, roots)
    (tmp_path / "conf" / "s.toml").write_text(sources.read_text())
    with pytest.raises(trust.OutsideRoots, match="source 'x': path"):
        trust.dag_sources(tmp_path / "conf" / "s.toml", [], sources, roots)
    (folder / "up").symlink_to(folder.parent / "outside")  # inside by name, outside for real
    with pytest.raises(trust.OutsideRoots):
        trust.dag_sources(None, [folder / "up"], sources, roots)


def test_a_dag_run_with_a_path_outside_the_allow_list_fails_first(
    airflow_db: Path, folder: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk import DagRunState

    from pipeline.settings import PROJECT_ROOT

    monkeypatch.setenv("WARTA_INPUT_ROOTS", json.dumps([str(folder)]))
    dag = DagBag(dag_folder=str(PROJECT_ROOT / "dags")).dags["news_ingest"]
    outside = str(folder.parent / "outside")
    run = dag.test(run_conf={"paths": [outside]})
    assert run.state == DagRunState.FAILED
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["plan_sources"] == "failed"
    assert states.get("discover") in (None, "upstream_failed")
    output = capfd.readouterr()
    assert f"path {outside} is outside the allowed input folders" in output.out + output.err
    assert SECRET not in output.out + output.err
