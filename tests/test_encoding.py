"""Wrong, missing and mixed encodings: each file ends up as readable text."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.clean import clean
from pipeline.encoding import decode
from pipeline.records import Article, RawArticle
from pipeline.sources import read_file

BODY = (
    "Menteri mengatakan kafe \u201cCaf\u00e9 Na\u00efve\u201d di Jakarta \u2013 yang terkenal \u2013 "
    "akan dibuka kembali minggu depan setelah renovasi selama enam bulan. "
) * 3


def _page(charset: str | None, body: str = BODY) -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    return (
        f"<html><head>{meta}<title>Kafe dibuka lagi</title></head>"
        f"<body><article><p>{body}</p><p>{body}</p></article></body></html>"
    )


CASES = {
    "declared utf-8, really windows-1252": _page("utf-8").encode("cp1252"),
    "undeclared windows-1252": _page(None).encode("cp1252"),
    "declared iso-8859-1 (read as windows-1252)": _page("iso-8859-1").encode("cp1252"),
    "utf-16 with BOM": _page(None).encode("utf-16"),
    "utf-8 with BOM": b"\xef\xbb\xbf" + _page(None).encode("utf-8"),
    "utf-8 with stray windows-1252 bytes": _page("utf-8")
    .encode("utf-8")
    .replace("Na\u00efve".encode(), "Na\u00efve".encode("cp1252")),
    "mojibake saved as utf-8": _page("utf-8", BODY.encode("utf-8").decode("latin-1")).encode("utf-8"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_html_in_any_encoding_reads_right(case: str, tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(CASES[case])
    (raw,) = list(read_file(path, "enc"))
    assert isinstance(raw, RawArticle), raw
    article = clean(raw)
    assert isinstance(article, Article), article
    assert "\u201cCaf\u00e9 Na\u00efve\u201d di Jakarta \u2013 yang" in article.body
    assert "\ufffd" not in article.body


def test_text_files_outside_utf8_are_read_not_rejected(tmp_path: Path) -> None:
    path = tmp_path / "berita.txt"
    path.write_bytes(("Kafe dibuka lagi\n\n" + BODY).encode("cp1252"))
    (raw,) = list(read_file(path, "enc"))
    assert isinstance(raw, RawArticle) and raw.title == "Kafe dibuka lagi"
    assert raw.content.startswith("Menteri mengatakan kafe \u201cCaf\u00e9")


def test_http_charset_beats_meta_and_valid_utf8_beats_both() -> None:
    latin = _page("utf-8").encode("cp1252")
    assert "Caf\u00e9" in decode(latin, "text/html; charset=windows-1252")
    utf8 = _page("windows-1252").encode("utf-8")  # a page that lies the other way
    assert "Caf\u00e9 Na\u00efve" in decode(utf8, "text/html; charset=iso-8859-1")
