"""CoNLL reading, IOB1-tolerant chunking, tag mapping and entity-level scoring."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.conll import Score, chunk, read_conll


def test_chunk_is_iob1_tolerant() -> None:
    tags = ["I-PER", "I-PER", "O", "B-LOC", "I-ORG", "B-ORG", "I-ORG", "I-ORG"]
    assert chunk(tags) == [(0, 2, "PER"), (3, 4, "LOC"), (4, 5, "ORG"), (5, 8, "ORG")]


def test_read_and_map_types(tmp_path: Path) -> None:
    path = tmp_path / "x.conll"
    path.write_text(
        "Joko\tB-PPL\nWidodo\tI-PPL\ndi\tO\nbakso\tB-FNB\nJakarta\tB-PLC\n\nKPK\tB-ORGANISATION\n"
    )
    sentences = read_conll(path)
    assert [s.spans() for s in sentences] == [[(0, 2, "PER"), (4, 5, "LOC")], [(0, 1, "ORG")]]


def test_malformed_line_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.conll"
    path.write_text("Joko\tB-PER\nno-tab-here\n")
    with pytest.raises(ValueError, match=r"bad.conll:2"):
        read_conll(path)


def test_score_counts_exact_matches_only() -> None:
    score = Score()
    score.add(gold=[(0, 2, "PER"), (3, 4, "LOC")], predicted=[(0, 2, "PER"), (3, 5, "LOC")])
    report = score.report()
    assert report["precision"] == 0.5 and report["recall"] == 0.5 and report["f1"] == 0.5
    assert report["per_type_f1"] == {"PER": 1.0, "LOC": 0.0}
