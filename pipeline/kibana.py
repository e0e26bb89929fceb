"""Kibana: the saved objects Warta ships (data view, saved search, Lens charts, a dashboard) and
their import through Kibana's saved-objects API.

The objects are generated here, not hand-edited, so they always name fields the index mapping
has (a test checks every field they use against ``index.MAPPINGS``); ``kibana/warta.ndjson`` is
the generated file for the default index name, ready for Kibana's import screen. ``warta kibana
import`` generates them for the configured index (``WARTA_INDEX``) and posts them with
``overwrite=true`` (re-importing replaces older versions), retrying until Kibana is up.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from pipeline.settings import Settings

CORE_MIGRATION = "8.8.0"
# The migration version each object's format corresponds to: Kibana migrates from there on import.
TYPE_MIGRATION = {"index-pattern": "8.0.0", "search": "8.0.0", "lens": "8.6.0", "dashboard": "8.7.0"}
TIME_FIELD = "timestamp"  # on every document (published, else the text's day, else first seen)
DASHBOARD_ID = "warta-overview"
ENTITY_EXAMPLE = ("locations", "Russia")  # the saved search of one entity in any language
_KQL_FIELD = re.compile(r"([A-Za-z_][\w.]*)\s*:")

_DV_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"
_LAYER = "layer1"


def data_view_id(index_name: str) -> str:
    return f"{index_name}-data-view"


def _obj(
    kind: str, obj_id: str, attributes: dict[str, Any], references: list[dict[str, str]]
) -> dict[str, Any]:
    return {
        "id": obj_id,
        "type": kind,
        "attributes": attributes,
        "references": references,
        "coreMigrationVersion": CORE_MIGRATION,
        "typeMigrationVersion": TYPE_MIGRATION[kind],
        "managed": False,
    }


def _metric(operation: str, field: str, label: str) -> dict[str, Any]:
    """A number column: ``count`` of records (field ``___records___``) or ``sum`` of a field."""
    return {
        "label": label,
        "customLabel": True,
        "dataType": "number",
        "operationType": operation,
        "isBucketed": False,
        "scale": "ratio",
        "sourceField": field,
        "params": {"emptyAsNull": True},
    }


def _count() -> dict[str, Any]:
    return _metric("count", "___records___", "Articles")


def _bucket(
    operation: str, data_type: str, scale: str, field: str, label: str, params: dict[str, Any]
) -> dict[str, Any]:
    """A Lens bucket column (x axis, split) over one field."""
    return {
        "label": label,
        "customLabel": True,
        "dataType": data_type,
        "operationType": operation,
        "isBucketed": True,
        "scale": scale,
        "sourceField": field,
        "params": params,
    }


def _date_histogram(field: str, label: str, empty_rows: bool) -> dict[str, Any]:
    params = {"interval": "auto", "includeEmptyRows": empty_rows, "dropPartials": False}
    return _bucket("date_histogram", "date", "interval", field, label, params)


def _terms(field: str, label: str, size: int) -> dict[str, Any]:
    params = {
        "size": size,
        "orderBy": {"type": "column", "columnId": "count"},
        "orderDirection": "desc",
        "otherBucket": False,
        "missingBucket": False,
    }
    return _bucket("terms", "string", "ordinal", field, label, params)


def _lens(
    obj_id: str, title: str, kind: str, columns: dict[str, Any], visualization: dict[str, Any], dv: str
) -> dict[str, Any]:
    state = {
        "visualization": visualization,
        "query": {"query": "", "language": "kuery"},
        "filters": [],
        "datasourceStates": {
            "formBased": {
                "layers": {
                    _LAYER: {"columns": columns, "columnOrder": list(columns), "incompleteColumns": {}}
                }
            }
        },
        "internalReferences": [],
        "adHocDataViews": {},
    }
    attributes = {"title": title, "description": "", "visualizationType": kind, "state": state}
    references = [{"type": "index-pattern", "id": dv, "name": f"indexpattern-datasource-layer-{_LAYER}"}]
    return _obj("lens", obj_id, attributes, references)


def _xy(series: str, x: str, accessors: list[str], legend: bool, **extra: Any) -> dict[str, Any]:
    """An XY (bar) chart of one layer: ``x`` column on the category axis, ``accessors`` as series."""
    return {
        "preferredSeriesType": series,
        "legend": {"isVisible": legend, "position": "right"},
        **extra,
        "layers": [
            {
                "layerId": _LAYER,
                "layerType": "data",
                "seriesType": series,
                "xAccessor": x,
                "accessors": accessors,
            }
        ],
    }


def _top_bar(obj_id: str, title: str, field: str, dv: str, size: int = 15) -> dict[str, Any]:
    visualization = _xy("bar_horizontal", "terms", ["count"], legend=False, valueLabels="show")
    columns = {"terms": _terms(field, title, size), "count": _count()}
    return _lens(obj_id, title, "lnsXY", columns, visualization, dv)


def _donut(obj_id: str, title: str, field: str, dv: str) -> dict[str, Any]:
    visualization = {
        "shape": "donut",
        "layers": [
            {
                "layerId": _LAYER,
                "layerType": "data",
                "primaryGroups": ["terms"],
                "metrics": ["count"],
                "numberDisplay": "percent",
                "categoryDisplay": "default",
                "legendDisplay": "default",
            }
        ],
    }
    columns = {"terms": _terms(field, title, 10), "count": _count()}
    return _lens(obj_id, title, "lnsPie", columns, visualization, dv)


def _over_time(obj_id: str, dv: str) -> dict[str, Any]:
    visualization = _xy("bar_stacked", "date", ["count"], legend=False)
    columns = {
        "date": _date_histogram(TIME_FIELD, "Published", empty_rows=True),
        "count": _count(),
    }
    return _lens(obj_id, "Articles over time", "lnsXY", columns, visualization, dv)


LATEST_COLUMNS = ["title", "source", "language", "persons", "organisations", "locations", "url"]


def _sum(field: str, label: str) -> dict[str, Any]:
    return _metric("sum", field, label)


def run_objects(runs_index: str) -> list[dict[str, Any]]:
    """The run ledger in Kibana: a data view and a chart of run outcomes over time."""
    dv = data_view_id(runs_index)
    data_view = _obj(
        "index-pattern",
        dv,
        {"title": runs_index, "name": f"Warta runs ({runs_index})", "timeFieldName": "finished_at"},
        [],
    )
    columns = {
        "date": _date_histogram("finished_at", "Run finished", empty_rows=False),
        "indexed": _sum("indexed", "Indexed"),
        "duplicates": _sum("duplicates", "Duplicates"),
        "quarantined": _sum("quarantined", "Quarantined"),
        "skipped": _sum("skipped", "Skipped"),
    }
    visualization = _xy(
        "bar_stacked", "date", ["indexed", "duplicates", "quarantined", "skipped"], legend=True
    )
    chart = _lens(f"{runs_index}-outcomes", "Run outcomes over time", "lnsXY", columns, visualization, dv)
    return [data_view, chart]


DEAD_LETTER_COLUMNS = ["input_id", "stage", "reason", "attempts", "source", "run_id"]


def dead_letter_objects(dead_letter_index: str) -> list[dict[str, Any]]:
    """Quarantined inputs in Kibana: a data view and a saved search of the open ones."""
    dv = data_view_id(dead_letter_index)
    data_view = _obj(
        "index-pattern",
        dv,
        {
            "title": dead_letter_index,
            "name": f"Warta dead letters ({dead_letter_index})",
            "timeFieldName": "quarantined_at",
        },
        [],
    )
    search_source = {
        "query": {"query": "status : open", "language": "kuery"},
        "filter": [],
        "indexRefName": _DV_REF,
    }
    open_letters = _obj(
        "search",
        f"{dead_letter_index}-open",
        {
            "title": "Warta: open dead letters",
            "description": "Quarantined inputs not yet replayed successfully (`warta deadletter replay`).",
            "columns": DEAD_LETTER_COLUMNS,
            "sort": [["quarantined_at", "desc"]],
            "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(search_source)},
        },
        [{"id": dv, "name": _DV_REF, "type": "index-pattern"}],
    )
    return [data_view, open_letters]


def saved_objects(
    index_name: str, runs_index: str = "warta-runs", dead_letter_index: str = "warta-dead-letter"
) -> list[dict[str, Any]]:
    """Everything Warta ships for Kibana, for an index (alias) name; dependencies first."""
    dv = data_view_id(index_name)
    data_view = _obj(
        "index-pattern",
        dv,
        {"title": index_name, "name": f"Warta articles ({index_name})", "timeFieldName": TIME_FIELD},
        [],
    )
    search_source = {"query": {"query": "", "language": "kuery"}, "filter": [], "indexRefName": _DV_REF}
    latest = _obj(
        "search",
        f"{index_name}-latest",
        {
            "title": "Warta: latest articles",
            "description": "Newest articles first, with their people, organisations and places.",
            "columns": LATEST_COLUMNS,
            "sort": [[TIME_FIELD, "desc"]],
            "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(search_source)},
        },
        [{"id": dv, "name": _DV_REF, "type": "index-pattern"}],
    )
    # Canonical names are the same in every language (places: CLDR's English name), so one term on
    # the entity field finds an entity's articles in Indonesian and English alike.
    entity_query = f'{ENTITY_EXAMPLE[0]} : "{ENTITY_EXAMPLE[1]}"'
    entity = _obj(
        "search",
        f"{index_name}-entity-any-language",
        {
            "title": f"Warta: one entity in any language ({ENTITY_EXAMPLE[1]})",
            "description": (
                f"Every article tagged {ENTITY_EXAMPLE[1]}, whatever its language (Rusia, Russia, "
                'Rusland). Put another canonical name in the query: persons : "Joko Widodo", '
                'locations : "United States" (AS, Amerika Serikat, U.S.), organisations : "KPK".'
            ),
            "columns": LATEST_COLUMNS,
            "sort": [[TIME_FIELD, "desc"]],
            "kibanaSavedObjectMeta": {
                "searchSourceJSON": json.dumps(
                    {**search_source, "query": {"query": entity_query, "language": "kuery"}}
                )
            },
        },
        [{"id": dv, "name": _DV_REF, "type": "index-pattern"}],
    )
    charts = [
        _over_time(f"{index_name}-over-time", dv),
        _top_bar(f"{index_name}-top-people", "Top people", "persons", dv),
        _top_bar(f"{index_name}-top-organisations", "Top organisations", "organisations", dv),
        _top_bar(f"{index_name}-top-places", "Top places", "locations", dv),
        _donut(f"{index_name}-sources", "Sources", "source", dv),
        _donut(f"{index_name}-languages", "Languages", "language", dv),
    ]
    runs = run_objects(runs_index)
    # (x, y, w, h) on Kibana's 48-column grid; the latest articles, then the run outcomes, last.
    placed = [
        *zip(
            charts,
            [
                (0, 0, 48, 12),
                (0, 12, 16, 15),
                (16, 12, 16, 15),
                (32, 12, 16, 15),
                (0, 27, 24, 12),
                (24, 27, 24, 12),
            ],
            strict=True,
        ),
        (latest, (0, 39, 48, 18)),
        (runs[1], (0, 57, 48, 12)),
    ]
    panels: list[dict[str, Any]] = []
    references: list[dict[str, str]] = []
    for number, (chart, (x, y, w, h)) in enumerate(placed, 1):
        panel = str(number)
        panels.append(
            {
                "version": "8.7.0",
                "type": chart["type"],
                "gridData": {"x": x, "y": y, "w": w, "h": h, "i": panel},
                "panelIndex": panel,
                "embeddableConfig": {"enhancements": {}},
                "panelRefName": f"panel_{panel}",
            }
        )
        references.append({"name": f"{panel}:panel_{panel}", "type": chart["type"], "id": chart["id"]})
    dashboard = _obj(
        "dashboard",
        f"{index_name}-{DASHBOARD_ID}",
        {
            "title": f"Warta overview ({index_name})",
            "description": "Articles over time, top people, organisations and places, sources, languages.",
            "panelsJSON": json.dumps(panels),
            "optionsJSON": json.dumps({"useMargins": True, "syncColors": False, "hidePanelTitles": False}),
            "timeRestore": True,
            "timeFrom": "now-30d",
            "timeTo": "now",
            "refreshInterval": {"pause": True, "value": 60000},
            "kibanaSavedObjectMeta": {
                "searchSourceJSON": json.dumps({"query": {"query": "", "language": "kuery"}, "filter": []})
            },
        },
        references,
    )
    return [
        data_view,
        runs[0],
        latest,
        entity,
        *charts,
        runs[1],
        dashboard,
        *dead_letter_objects(dead_letter_index),
    ]


def to_ndjson(objects: list[dict[str, Any]]) -> str:
    # Key order kept: Lens reads columns in columnOrder, and a stable order keeps the file diffable.
    return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects)


def fields_used(objects: list[dict[str, Any]], data_view: str) -> set[str]:
    """Every index field the saved objects of one data view refer to (to check against its mapping)."""
    used: set[str] = set()
    for obj in objects:
        if obj["id"] != data_view and data_view not in {r["id"] for r in obj["references"]}:
            continue
        attributes = obj["attributes"]
        if obj["type"] == "index-pattern":
            used.add(attributes["timeFieldName"])
        elif obj["type"] == "search":
            source = json.loads(attributes["kibanaSavedObjectMeta"]["searchSourceJSON"])
            used.update(_KQL_FIELD.findall(source["query"]["query"]))
            used.update(attributes["columns"])
            used.update(field for field, _order in attributes["sort"])
        elif obj["type"] == "lens":
            for layer in attributes["state"]["datasourceStates"]["formBased"]["layers"].values():
                used.update(
                    c["sourceField"]
                    for c in layer["columns"].values()
                    if c.get("sourceField") != "___records___"
                )
    return used


_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class KibanaError(RuntimeError):
    """Kibana did not come up in time, or refused the import."""


def import_saved_objects(
    settings: Settings,
    objects: list[dict[str, Any]],
    wait_s: float = 300.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """POST the objects to ``/api/saved_objects/_import?overwrite=true``, waiting for Kibana to
    answer (it takes a minute or two after its container starts); returns Kibana's answer."""
    url = settings.kibana_url.rstrip("/")
    credentials = settings.kibana_api_key is not None or settings.kibana_password is not None
    parts = urlsplit(url)
    if credentials and parts.scheme != "https" and parts.hostname not in _LOOPBACK:
        raise KibanaError(
            f"refusing to send Kibana credentials over plain http to {parts.hostname}: anyone on the "
            "way could read them. Use an https:// WARTA_KIBANA_URL (or a loopback address)"
        )
    auth: Any = None
    headers = {"kbn-xsrf": "warta"}
    if settings.kibana_api_key is not None:
        headers["Authorization"] = f"ApiKey {settings.kibana_api_key.get_secret_value()}"
    elif settings.kibana_username and settings.kibana_password is not None:
        auth = (settings.kibana_username, settings.kibana_password.get_secret_value())
    deadline = time.monotonic() + wait_s
    last = "no answer yet"
    with httpx.Client(timeout=30.0, auth=auth, headers=headers, trust_env=False) as client:
        while True:
            try:
                status = client.get(f"{url}/api/status")
                level = (
                    (status.json().get("status", {}).get("overall", {}) or {}).get("level")
                    if status.is_success
                    else None
                )
                if level == "available":
                    break
                last = f"HTTP {status.status_code}, status {level or 'unknown'}"
            except (httpx.HTTPError, ValueError) as err:
                last = f"{type(err).__name__}: {err}"
            if time.monotonic() > deadline:
                raise KibanaError(f"Kibana at {url} not available after {wait_s:.0f} s ({last})")
            sleep(5.0)
        answer = client.post(
            f"{url}/api/saved_objects/_import",
            params={"overwrite": "true"},
            files={"file": ("warta.ndjson", to_ndjson(objects).encode("utf-8"), "application/ndjson")},
        )
    try:
        body: dict[str, Any] = answer.json()
    except ValueError:
        body = {"raw": answer.text[:500]}
    if not answer.is_success or not body.get("success"):
        raise KibanaError(f"Kibana refused the import (HTTP {answer.status_code}): {json.dumps(body)[:1000]}")
    return body
