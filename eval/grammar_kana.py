"""What the rule "grammar is never converted" changes, on each corpus's own FAQ questions.

Usage::

    .venv/bin/python eval/grammar_kana.py eval/datasets/demo ../shared/eval/municipal-faq-dev

Every FAQ question (the ``title`` of the dataset's ``corpus.jsonl``) is taken as written and as
``eval/variants.py`` makes the kana and mixed variants of a query, and its kana is converted by
the query rewriter of that corpus's index (``kb eval``'s cache; :mod:`kb.search.rewrite`) with
and without ``keep_grammar``. A conversion is *right* when the kanji it writes is in the question
as written. Printed per variant: the conversions made without the rule, and those the rule
takes away, right and wrong, with the most frequent. No query and no judgment is read.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # variants: eval/ is not a package
from variants import Analyzer, kana_variant, mixed_variant

from kb.embed.embedder import embedder_from_settings
from kb.evaluation.beir import load_dataset
from kb.evaluation.runner import prepare_index
from kb.index.folder import IndexRoot
from kb.search.rewrite import QueryRewriter
from kb.settings import Settings
from kb.text.mecab import MeCabTokenizer
from kb.text.normalize import normalize


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("datasets", nargs="+", type=Path)
    args = ap.parse_args()
    settings = Settings()
    embedder = embedder_from_settings(settings, threads=settings.threads)
    tokenizer, analyzer = MeCabTokenizer(), Analyzer()
    for folder in args.datasets:
        dataset = load_dataset(folder)
        current = IndexRoot(prepare_index(dataset, embedder, settings)).current()
        vocabulary = current.load_readings()[1]
        kept = QueryRewriter(vocabulary, tokenizer)
        loose = QueryRewriter(vocabulary, tokenizer, keep_grammar=False)
        made: Counter[tuple[str, bool]] = Counter()
        taken: Counter[tuple[str, bool]] = Counter()
        examples: dict[tuple[str, bool], Counter[tuple[str, str]]] = {}
        for doc in dataset.corpus:
            title = normalize(doc.title)
            if not title:
                continue
            words = analyzer(title)
            variants = {
                "as written": title,
                "kana": normalize(kana_variant(title, words)),
                "mixed": normalize(mixed_variant(title, words)),
            }
            for variant, text in variants.items():
                readings = tokenizer.readings(text)
                without = Counter(loose.convert(text, readings)[1])
                gone = without - Counter(kept.convert(text, readings)[1])
                for pair, n in without.items():
                    made[variant, pair[1] in title] += n
                for pair, n in gone.items():
                    key = (variant, pair[1] in title)
                    taken[key] += n
                    examples.setdefault(key, Counter())[pair] += n
        print(f"{dataset.name}: {len(dataset.corpus)} questions")
        for variant in ("as written", "kana", "mixed"):
            for right in (True, False):
                key = (variant, right)
                top = ", ".join(
                    f"{kana}→{kanji} {n}"
                    for (kana, kanji), n in examples.get(key, Counter()).most_common(6)
                )
                print(
                    f"  {variant:10} {'right' if right else 'wrong'}: {made[key]:5} made, "
                    f"{taken[key]:3} taken away  {top}"
                )


if __name__ == "__main__":
    main()
