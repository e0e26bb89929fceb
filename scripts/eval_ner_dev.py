"""Score the NER model on every dev part (run from the project root, needs ../shared):

    uv run python scripts/eval_ner_dev.py [MODEL_DIR]

Writes the dev parts that `pipeline.train_ner` held out of training to .warta/ner-dev/, plus
NER-P (not used in training at all, scored on PER/LOC), and prints one JSON line per corpus.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pipeline.evaluation import evaluate_ner
from pipeline.settings import PROJECT_ROOT, get_settings
from pipeline.train_ner import split_corpora, write_dev_files

DATA = PROJECT_ROOT.parent / "shared" / "data" / "ner"


def main() -> None:
    model = Path(sys.argv[1]) if len(sys.argv) > 1 else get_settings().ner_model
    out = PROJECT_ROOT / ".warta" / "ner-dev"
    files = write_dev_files(split_corpora(DATA), out)
    runs = [(f, frozenset({"PER", "ORG", "LOC"})) for f in files]
    runs.append((DATA / "indonlu-nerp" / "train.conll", frozenset({"PER", "LOC"})))
    for path, types in runs:
        result = evaluate_ner(path, model, types)
        result["file"] = path.name if path.parent == out else f"indonlu-nerp/{path.name} (held out)"
        print(json.dumps(result))


if __name__ == "__main__":
    main()
