"""`warta eval extraction`: the Zyte shingle metric, and both gold layouts on real pages."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.evaluation import page_precision_recall, shingles
from pipeline.settings import SHARED_DATA

SHARED = SHARED_DATA / "extraction"
WARTA = [str(Path(sys.executable).parent / "warta")]


def test_shingle_precision_and_recall() -> None:
    gold = "one two three four five six"
    assert shingles(gold) == shingles("one, two; three four five six")  # punctuation is not a token
    assert page_precision_recall(gold, gold) == (1.0, 1.0)
    assert page_precision_recall("", gold) == (0.0, 0.0)
    precision, recall = page_precision_recall(gold + " seven eight", gold)  # 3 of 5 predicted are right
    assert (precision, recall) == (3 / 5, 1.0)
    assert page_precision_recall("one two three four", gold) == (1.0, 1 / 3)


def _subset(layout: str, tmp: Path, count: int = 3) -> Path:
    source = SHARED / layout
    truth = json.loads((source / "ground_truth.json").read_text())
    keep = dict(sorted(truth.items())[:count])
    (tmp / "html").mkdir(parents=True)
    for key, gold in keep.items():
        name = f"{key}.html.gz" if layout == "zyte-dev" else Path(gold["html_gz"]).name
        shutil.copy(source / "html" / name, tmp / "html" / name)
    (tmp / "ground_truth.json").write_text(json.dumps(keep))
    return tmp


@pytest.mark.parametrize("layout", ["zyte-dev", "trafilatura-eval"])
def test_eval_extraction_prints_one_json_line(layout: str, tmp_path: Path) -> None:
    folder = _subset(layout, tmp_path)
    done = subprocess.run(
        [*WARTA, "eval", "extraction", str(folder), "--baseline"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.strip().splitlines()
    result = json.loads(line)
    assert result["pages"] == 3 and result["pages_per_s"] > 0 and result["speed_ratio_vs_trafilatura"] > 0
    if layout == "zyte-dev":
        assert result["layout"] == "zyte" and 0.5 < result["f1"] <= 1.0
        assert 0.0 <= result["trafilatura_default"]["f1"] <= 1.0
    else:
        assert result["layout"] == "trafilatura" and 0.0 <= result["with_share"] <= 1.0
        assert {"title_accuracy", "author_accuracy", "date_accuracy"} <= set(result)
