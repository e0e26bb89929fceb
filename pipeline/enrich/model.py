"""Loading the NER model fast: the saved tokenizer built once, anchored prefix rules, numpy's
OpenBLAS held to one thread while tagging. Every entity is the same as a plain ``spacy.load``'s
(MODEL_CARD.md, "Model details").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from threadpoolctl import threadpool_limits

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokenizer import Tokenizer
    from spacy.vocab import Vocab


@lru_cache(maxsize=2)
def load_model(path: Path) -> Language:
    """The spaCy pipeline at ``path``, loaded once per process and path."""
    import spacy
    from spacy.util import load_config, registry
    from thinc.api import NumpyOps

    if not (path / "meta.json").exists():
        raise FileNotFoundError(f"no NER model at {path}; rebuild it with `warta train ner`")
    # spaCy builds the language's default tokenizer, replaces it with the saved one, and every
    # later change to a rule reloads all 16k special cases (about 2 s each time): three loads,
    # most of a 6-8 s model load, paid by every per-batch task. Build the saved one once, here.
    registry.tokenizers.register(_NO_TOKENIZER, func=_no_tokenizer)
    nlp = spacy.load(
        path, exclude=["tokenizer"], config={"nlp": {"tokenizer": {"@tokenizers": _NO_TOKENIZER}}}
    )
    nlp.tokenizer = _saved_tokenizer(nlp.vocab, path / "tokenizer")
    nlp.config["nlp"]["tokenizer"] = load_config(path / "config.cfg")["nlp"]["tokenizer"]  # as saved
    # Thinc multiplies matrices with its bundled BLIS by default; numpy's OpenBLAS does the
    # tagger's shapes about 3x faster here (same entities; benchmarks/ner_throughput.py).
    ops = NumpyOps(use_blis=False)
    for _, component in nlp.pipeline:
        model = getattr(component, "model", None)  # rule-based components have none
        for layer in model.walk() if model is not None else ():
            layer.ops = ops
    return nlp


_NO_TOKENIZER = "warta.no_tokenizer.v1"


def _no_tokenizer() -> Callable[[Language], Tokenizer]:
    """A tokenizer without rules, which ``load_model`` replaces at once (spaCy's ``@tokenizers``)."""
    from spacy.tokenizer import Tokenizer

    return lambda nlp: Tokenizer(nlp.vocab)


def _saved_tokenizer(vocab: Vocab, path: Path) -> Tokenizer:
    """The tokenizer spaCy saved at ``path``, its special cases loaded once, with anchored prefixes."""
    import srsly
    from spacy.tokenizer import Tokenizer

    saved = srsly.msgpack_loads(path.read_bytes())

    def regex(key: str) -> re.Pattern[str] | None:  # compiled as spaCy's ``Tokenizer.from_bytes`` does
        pattern = saved.get(key)
        return re.compile(pattern) if isinstance(pattern, str) else None

    def compiled(key: str, method: str) -> Callable[..., Any] | None:
        found = regex(key)
        return getattr(found, method) if found is not None else None

    prefixes = regex("prefix_search")
    anchored = _AnchoredPrefix.of(prefixes) if prefixes is not None else None
    # Every rule goes in before the special cases, which are tokenised by them as they load.
    return Tokenizer(
        vocab,
        rules=saved.get("exceptions"),
        prefix_search=anchored.search if anchored is not None else compiled("prefix_search", "search"),
        suffix_search=compiled("suffix_search", "search"),
        infix_finditer=compiled("infix_finditer", "finditer"),
        token_match=compiled("token_match", "match"),
        url_match=compiled("url_match", "match"),
        faster_heuristics=saved.get("faster_heuristics", True),
    )


class _AnchoredPrefix:
    """spaCy's prefix rules as ``match`` instead of ``search``, with the same results.

    spaCy joins its prefix rules as ``^a|^b|...`` and calls ``search``, which retries every rule
    at every position of every word (about 40% of the tokenizer's time here); all but rules
    that start with a literal are anchored, so ``match`` finds the same match unless the word
    contains one of those literals (Indonesian's ``<a([^>]+)>``), when ``search`` still runs.
    ``pattern`` keeps the rules' text, which spaCy reads when it serialises the tokenizer.
    """

    def __init__(self, regex: re.Pattern[str], unanchored_literals: tuple[str, ...]) -> None:
        self.regex = regex
        self.pattern = regex.pattern
        self.unanchored_literals = unanchored_literals

    @classmethod
    def of(cls, regex: re.Pattern[str]) -> _AnchoredPrefix | None:
        """None when the rules are not of that shape (then spaCy's ``search`` stays)."""
        try:  # the regex's own parse says exactly what is anchored; private, so optional
            import re._parser as sre_parse
        except ImportError:
            return None
        if regex.flags & (re.MULTILINE | re.IGNORECASE):
            return None
        tree = sre_parse.parse(regex.pattern, regex.flags)
        if len(tree) and tree[0] == (sre_parse.AT, sre_parse.AT_BEGINNING):
            return cls(regex, ())  # every branch anchored (the parser factored the ``^`` out)
        if len(tree) != 1 or tree[0][0] is not sre_parse.BRANCH:
            return None
        literals = []
        for branch in tree[0][1][1]:
            if len(branch) and branch[0] == (sre_parse.AT, sre_parse.AT_BEGINNING):
                continue
            literal = ""
            for op, value in branch:
                if op is not sre_parse.LITERAL:
                    break
                literal += chr(value)
            if not literal:
                return None
            literals.append(literal)
        return cls(regex, tuple(literals))

    def search(self, text: str) -> re.Match[str] | None:
        found = self.regex.match(text)
        if found is None and any(literal in text for literal in self.unanchored_literals):
            found = self.regex.search(text)
        return found


def one_blas_thread() -> threadpool_limits:
    """Matrix products on one thread while tagging: Warta runs one worker process per core, and
    OpenBLAS's own threads would compete with the other workers (BLIS was single-threaded)."""
    return threadpool_limits(limits=1, user_api="blas")
