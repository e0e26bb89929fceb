"""What each span rule is worth: dev F1 and IndoSum mentions without it.

    uv run python evaluation/rule_ablation.py [--articles N]

The model runs once over every IndoSum article (title and body); then, for each rule of
``pipeline.enrich.spans._ENTITY_RULES`` and ``_WHOLE_TEXT_RULES`` in turn, the spans are computed
again without it and
the mentions that differ are counted, and every dev part is scored without it
(``pipeline.evaluation.evaluate_ner``). One JSON line per rule. A rule that moves no dev score and
fewer than 10 IndoSum mentions has to show another reason to stay (an error a reader would see
in a facet).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pipeline.enrich import load_model, one_blas_thread, spans
from pipeline.evaluation import evaluate_ner
from pipeline.settings import NER_CORPORA, PROJECT_ROOT, get_settings
from pipeline.train_ner import split_corpora, write_dev_files

sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))
from ner_throughput import load_articles  # benchmarks/ is not a package


def dev_scores(model: Path, files: list[Path]) -> dict[str, float]:
    scores = {}
    for path in files:
        types = {"PER", "LOC"} if path.name.startswith("indonlu-nerp") else {"PER", "ORG", "LOC"}
        scores[path.name.split(".")[0]] = evaluate_ner(path, model, frozenset(types))["f1"]
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10**6)
    args = parser.parse_args()
    model = get_settings().ner_model
    nlp = load_model(model)
    articles = load_articles(args.articles)
    texts = [(text, a.language) for a in articles for text in (a.title, a.body)]
    with one_blas_thread():
        docs = [
            (doc, language) for doc, (_, language) in zip(nlp.pipe(t for t, _ in texts), texts, strict=True)
        ]
    files = write_dev_files(split_corpora(NER_CORPORA), PROJECT_ROOT / ".warta" / "ner-dev")

    def mentions() -> list[set[tuple[int, int, str]]]:
        return [set(spans.entity_spans(doc, language)) for doc, language in docs]

    baseline, baseline_dev = mentions(), dev_scores(model, files)
    print(json.dumps({"rule": None, "dev_f1": baseline_dev, "articles": len(articles)}))
    rule_list: list[Any]
    for rule_list in (spans._ENTITY_RULES, spans._WHOLE_TEXT_RULES):
        all_rules = list(rule_list)
        for index, (_applies, rule) in enumerate(all_rules):
            rule_list[:] = all_rules[:index] + all_rules[index + 1 :]
            try:
                without, dev = mentions(), dev_scores(model, files)
            finally:
                rule_list[:] = all_rules
            changed = sum(len(a ^ b) for a, b in zip(baseline, without, strict=True))
            texts_changed = sum(a != b for a, b in zip(baseline, without, strict=True))
            delta = {name: round(dev[name] - baseline_dev[name], 4) for name in dev}
            print(
                json.dumps(
                    {
                        "rule": rule.__name__,
                        "dev_f1_change_without": delta,
                        "indosum_mentions_changed": changed,
                        "indosum_texts_changed": texts_changed,
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
