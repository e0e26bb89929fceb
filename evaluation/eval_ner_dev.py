"""Score the NER model on every dev part (run from the project root, needs ../shared):

    uv run python evaluation/eval_ner_dev.py [MODEL_DIR]

Writes the dev parts that `pipeline.train_ner` held out of training to .warta/ner-dev/ and prints
one JSON line per corpus. NER-P has no organisations, so it is scored on PER/LOC.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pipeline.evaluation import evaluate_ner
from pipeline.settings import NER_CORPORA, PROJECT_ROOT, get_settings
from pipeline.train_ner import split_corpora, write_dev_files


def main() -> None:
    model = Path(sys.argv[1]) if len(sys.argv) > 1 else get_settings().ner_model
    out = PROJECT_ROOT / ".warta" / "ner-dev"
    files = write_dev_files(split_corpora(NER_CORPORA), out)
    for path in files:
        types = {"PER", "LOC"} if path.name.startswith("indonlu-nerp") else {"PER", "ORG", "LOC"}
        result = evaluate_ner(path, model, frozenset(types))
        result["file"] = path.name
        print(json.dumps(result))


if __name__ == "__main__":
    main()
