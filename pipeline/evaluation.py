"""Measurements of the pipeline's own stages on gold data (``warta eval ...``)."""

from __future__ import annotations

import gzip
import json
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

from trafilatura.utils import decode_file

from pipeline.clean import detect_language
from pipeline.conll import Score, read_conll
from pipeline.enrich import LABELS, entity_spans, load_model, one_blas_thread


def evaluate_ner(conll_path: Path, model_path: Path, types: frozenset[str] = LABELS) -> dict[str, Any]:
    """Entity-level exact-match P/R/F1 on gold tokens (not re-tokenised), over ``types``
    (default PER/ORG/LOC; NER-P has no organisations, so it is scored on PER/LOC)."""
    from spacy.tokens import Doc

    sentences = read_conll(conll_path)  # before the model load: a bad file fails at once
    if not sentences:
        raise ValueError(f"{conll_path}: no sentences to score (an empty file?)")
    nlp = load_model(model_path)
    score = Score()
    tokens = 0
    started = time.perf_counter()
    # The pipeline knows each article's language; here the file's language stands in for it.
    language = detect_language(" ".join(t for s in sentences[:500] for t in s.tokens))
    docs = (Doc(nlp.vocab, words=s.tokens) for s in sentences)
    with one_blas_thread():
        for sentence, doc in zip(sentences, nlp.pipe(docs, batch_size=256), strict=True):
            predicted = [span for span in entity_spans(doc, language) if span[2] in types]
            score.add([span for span in sentence.spans() if span[2] in types], predicted)
            tokens += len(sentence.tokens)
    elapsed = time.perf_counter() - started
    return {
        "file": str(conll_path),
        "types": sorted(types),
        **score.report(),
        "sentences": len(sentences),
        "tokens": tokens,
        "tokens_per_second": round(tokens / elapsed) if elapsed else None,
    }


# -- extraction ------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\w+")


def shingles(text: str, size: int = 4) -> Counter[tuple[str, ...]]:
    """The Zyte benchmark's unit: every run of ``size`` consecutive ``\\w+`` tokens, with counts."""
    tokens = _TOKEN.findall(text)
    return Counter(tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1))


def page_precision_recall(predicted: str, gold: str) -> tuple[float, float]:
    """Per page: tp/fp/fn are multiset overlaps of shingles; an empty prediction scores P = 0."""
    got, want = shingles(predicted), shingles(gold)
    tp = sum((got & want).values())
    fp, fn = sum(got.values()) - tp, sum(want.values()) - tp
    precision = tp / (tp + fp) if tp + fp else (1.0 if not want else 0.0)
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall


def _pages(folder: Path) -> tuple[str, list[tuple[str, str, dict[str, Any]]]]:
    """(layout, [(url, html, gold)]) for a Zyte-layout or trafilatura-eval-layout folder."""
    truth: dict[str, dict[str, Any]] = json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))
    pages = []
    layout = "zyte" if all("articleBody" in g for g in truth.values()) else "trafilatura"
    for key, gold in sorted(truth.items()):
        if layout == "zyte":
            url, path = gold.get("url") or "", folder / "html" / f"{key}.html.gz"
        else:
            url, path = key, folder / gold["html_gz"]
        data = path.read_bytes()
        html = decode_file(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
        pages.append((url, html, gold))
    return layout, pages


def evaluate_extraction(folder: Path, baseline: bool = False) -> dict[str, Any]:
    """The cleaning stage on every page of ``folder`` (Zyte or trafilatura-eval layout), as one dict.

    Zyte layout: macro precision and recall of 4-token shingles over pages and their F1, as the
    benchmark defines them. trafilatura-eval layout: share of must-contain snippets found and of
    must-not-contain snippets absent, and title / author / date accuracy where gold exists.
    Pages per second count the cleaning stage only. ``baseline`` runs trafilatura's own defaults
    (``trafilatura.extract``) on the same pages in the same run, page by page alternating with
    ours, for the side-by-side speed ratio.
    """
    import trafilatura

    from pipeline.clean import clean
    from pipeline.records import RawArticle, Rejection

    layout, pages = _pages(folder)
    outputs: list[tuple[str, str, list[str], str | None, str]] = []  # title, body, authors, date, site
    texts: list[str] = []
    seconds = base_seconds = 0.0
    # Page by page, ours then trafilatura's: a background load slows both alike.
    for number, (url, html, _gold) in enumerate(pages):
        raw = RawArticle(input_id=str(number), source="eval", format="html", content=html, url=url or None)
        started = time.perf_counter()
        article = clean(raw, min_body_chars=0)
        seconds += time.perf_counter() - started
        if isinstance(article, Rejection):
            outputs.append(("", "", [], None, ""))
        else:
            date = article.published_at.date().isoformat() if article.published_at else None
            outputs.append((article.title, article.body, article.authors, date, article.site_name or ""))
        if baseline:
            started = time.perf_counter()
            texts.append(trafilatura.extract(html, url=url or None) or "")
            base_seconds += time.perf_counter() - started
    result: dict[str, Any] = {
        "layout": layout,
        "pages": len(pages),
        "pages_per_s": round(len(pages) / seconds, 1),
    }
    result.update(_score(layout, [o[1] for o in outputs], outputs, pages))
    if baseline:
        base = _score(layout, texts, None, pages)
        result["trafilatura_default"] = {**base, "pages_per_s": round(len(pages) / base_seconds, 1)}
        result["speed_ratio_vs_trafilatura"] = round(base_seconds / seconds, 3)
    return result


def _score(
    layout: str,
    bodies: list[str],
    outputs: list[tuple[str, str, list[str], str | None, str]] | None,
    pages: list[tuple[str, str, dict[str, Any]]],
) -> dict[str, Any]:
    if layout == "zyte":
        per_page = [
            page_precision_recall(body, gold["articleBody"])
            for body, (_u, _h, gold) in zip(bodies, pages, strict=True)
        ]
        precision = sum(p for p, _r in per_page) / len(per_page)
        recall = sum(r for _p, r in per_page) / len(per_page)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}
    found = absent = wanted = unwanted = 0
    for index_, (_u, _h, gold) in enumerate(pages):
        text = (f"{outputs[index_][0]}\n" if outputs else "") + bodies[index_]
        found += sum(snippet in text for snippet in gold["with"])
        wanted += len(gold["with"])
        absent += sum(snippet not in text for snippet in gold["without"])
        unwanted += len(gold["without"])
    scores: dict[str, Any] = {
        "with_share": round(found / wanted, 4) if wanted else None,
        "without_share": round(absent / unwanted, 4) if unwanted else None,
    }
    if outputs is not None:
        for field, position in (("title", 0), ("author", 2), ("date", 3), ("sitename", 4)):
            hits = total = 0
            for output, (_u, _h, gold) in zip(outputs, pages, strict=True):
                expected = gold.get(field)
                if not expected:
                    continue
                total += 1
                got = output[position]
                got_text = "; ".join(got) if isinstance(got, list) else (got or "")
                hits += _same(got_text, str(expected), field)
            scores[f"{field}_accuracy"] = round(hits / total, 4) if total else None
        # Gold that says a page names no author ("") against the pages given one anyway.
        no_author = [
            output[2]
            for output, (_u, _h, gold) in zip(outputs, pages, strict=True)
            if gold.get("author") == ""
        ]
        scores["author_where_none"] = (
            round(sum(bool(a) for a in no_author) / len(no_author), 4) if no_author else None
        )
    return scores


def _same(got: str, expected: str, field: str) -> bool:
    if field == "date":
        return got[:10] == expected[:10]
    return bool(got) and _norm(got) == _norm(expected)


def _norm(text: str) -> str:
    return " ".join(_TOKEN.findall(text.casefold()))
