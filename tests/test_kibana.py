"""Kibana saved objects: the shipped NDJSON is what the code generates, is shaped the way Kibana's
import expects, and names only fields the real index mapping has. The import client is exercised
against a loopback HTTP server standing in for Kibana, which cannot run on this machine."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from elasticsearch import Elasticsearch

from pipeline import index
from pipeline.kibana import KibanaError, fields_used, import_saved_objects, saved_objects, to_ndjson
from pipeline.settings import PROJECT_ROOT, Settings

SHIPPED = PROJECT_ROOT / "kibana" / "warta.ndjson"
KINDS = {"index-pattern", "search", "lens", "dashboard"}


def _objects() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SHIPPED.read_text(encoding="utf-8").splitlines()]


def test_shipped_ndjson_is_the_generated_one() -> None:
    assert SHIPPED.read_text(encoding="utf-8") == to_ndjson(saved_objects("warta-articles")), (
        "kibana/warta.ndjson is stale: run `uv run warta kibana export`"
    )


def test_no_object_is_newer_than_the_kibana_compose_runs() -> None:
    """Kibana imports an object whose migration versions are not newer than its own, migrating it
    forward; a newer one it refuses ("belongs to a more recent version of Kibana")."""
    import yaml

    image = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())["services"]["kibana"]["image"]
    kibana = tuple(int(part) for part in image.rsplit(":", 1)[1].split("."))
    for obj in _objects():
        for field in ("coreMigrationVersion", "typeMigrationVersion"):
            assert tuple(int(part) for part in obj[field].split(".")) <= kibana, (obj["id"], field)


def test_ndjson_has_the_shape_kibana_imports() -> None:
    objects = _objects()
    ids = {(o["type"], o["id"]) for o in objects}
    assert len(ids) == len(objects)
    assert {o["type"] for o in objects} == KINDS
    for obj in objects:
        assert set(obj) >= {
            "id",
            "type",
            "attributes",
            "references",
            "coreMigrationVersion",
            "typeMigrationVersion",
        }
        assert obj["type"] in KINDS and obj["attributes"]["title"]
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in ids, f"{obj['id']} refers to a missing {ref}"
        meta = obj["attributes"].get("kibanaSavedObjectMeta", {})
        if "searchSourceJSON" in meta:
            source = json.loads(meta["searchSourceJSON"])
            if "indexRefName" in source:
                assert source["indexRefName"] in {r["name"] for r in obj["references"]}
        if obj["type"] == "lens":
            layers = obj["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]
            names = {r["name"] for r in obj["references"]}
            assert {f"indexpattern-datasource-layer-{layer}" for layer in layers} <= names
            for layer in layers.values():
                assert layer["columnOrder"] == list(layer["columns"])
    dashboard = next(o for o in objects if o["type"] == "dashboard")
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    refs = {r["name"]: r for r in dashboard["references"]}
    assert len(panels) == 8
    for panel in panels:
        ref = refs[f"{panel['panelIndex']}:{panel['panelRefName']}"]
        assert ref["type"] == panel["type"]
    titles = {o["attributes"]["title"] for o in objects}
    assert {
        "Articles over time",
        "Top people",
        "Top organisations",
        "Top places",
        "Sources",
        "Languages",
    } <= titles


def _mapped_fields(properties: dict[str, Any], prefix: str = "") -> Iterator[str]:
    for name, spec in properties.items():
        yield prefix + name
        yield from _mapped_fields(spec.get("properties", {}), f"{prefix}{name}.")
        yield from (f"{prefix}{name}.{sub}" for sub in spec.get("fields", {}))


def test_every_field_used_exists_in_the_real_index_mapping(
    es_client: Elasticsearch,
    index_name: str,
    seeds_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipeline import deadletter
    from pipeline.kibana import data_view_id
    from pipeline.run import run_all
    from pipeline.settings import get_settings

    runs = f"{index_name}-runs"
    monkeypatch.setenv("WARTA_RUNS_INDEX", runs)
    run_all(
        [seeds_dir], tmp_path / "run", get_settings(), index_name=index_name, workers=1
    )  # both indices real
    objects = saved_objects(index_name, runs)
    concrete = index.current_index(es_client, index_name)
    assert concrete is not None
    mapping = es_client.indices.get_mapping(index=index_name)[concrete]["mappings"]
    fields = set(_mapped_fields(mapping["properties"]))
    used = fields_used(objects, data_view_id(index_name))
    assert used and used <= fields, f"not in the mapping: {used - fields}"
    run_fields = set(
        _mapped_fields(es_client.indices.get_mapping(index=runs)[runs]["mappings"]["properties"])
    )
    used_by_runs = fields_used(objects, data_view_id(runs))
    es_client.indices.delete(index=runs)
    assert {"finished_at", "indexed", "quarantined"} <= used_by_runs <= run_fields
    letters = f"{index_name}-dead-letter"
    deadletter.ensure(es_client, letters)
    letter_fields = set(
        _mapped_fields(es_client.indices.get_mapping(index=letters)[letters]["mappings"]["properties"])
    )
    es_client.indices.delete(index=letters)
    used_by_letters = fields_used(saved_objects(index_name, runs, letters), data_view_id(letters))
    assert {"quarantined_at", "reason", "input_id"} <= used_by_letters <= letter_fields
    assert mapping["properties"]["published_at"]["type"] == "date"
    for facet in ("persons", "organisations", "locations", "source", "language", "domain", "story_id"):
        assert mapping["properties"][facet]["type"] == "keyword"


class _FakeKibana(BaseHTTPRequestHandler):
    """Answers 503 to the first status checks (Kibana still starting), then imports."""

    protocol_version = "HTTP/1.1"
    state: ClassVar[dict[str, Any]] = {}

    def log_message(self, *_: Any) -> None:
        pass

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.state["status_checks"] = self.state.get("status_checks", 0) + 1
        if self.state["status_checks"] < 3:
            self._reply(503, {"status": {"overall": {"level": "unavailable"}}})
        else:
            self._reply(200, {"status": {"overall": {"level": "available"}}})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.state.update(path=self.path, xsrf=self.headers.get("kbn-xsrf"), body=body)
        lines = [line for line in body.split(b"\n") if line.startswith(b"{")]
        self._reply(200, {"success": True, "successCount": len(lines)})


@pytest.fixture
def fake_kibana() -> Iterator[str]:
    _FakeKibana.state = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeKibana)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_import_waits_for_kibana_then_overwrites(fake_kibana: str) -> None:
    naps: list[float] = []
    answer = import_saved_objects(Settings(kibana_url=fake_kibana), saved_objects("news"), sleep=naps.append)
    assert answer["successCount"] == len(saved_objects("news")) == 14 and len(naps) == 2
    state = _FakeKibana.state
    assert state["path"] == "/api/saved_objects/_import?overwrite=true" and state["xsrf"] == "warta"
    assert b'filename="warta.ndjson"' in state["body"] and b'"title": "news"' in state["body"]


def test_import_gives_up_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KibanaError, match=r"not available after 0 s \(ConnectError"):
        import_saved_objects(Settings(kibana_url="http://127.0.0.1:9"), saved_objects("news"), wait_s=0)
