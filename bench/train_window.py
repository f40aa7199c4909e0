"""Does the ranker learn window questions from our own window set's train part?

    python -m bench.train_window ../shared/eval/stard/train.jsonl --subset --cv 5 --ranker-out ranker.txt

The train part of bench/data/window_questions.jsonl (349 questions over 50 documents, none of the
validation part's) is asked over the window knowledge base with the shipped model; its candidates
become extra training questions for every ranker a STARD trainer trains. Reported in one run:
STARD 5-fold CV with those extra questions (each fold's ranker learns from them too), then one
ranker trained on all of STARD plus them, scored on the window validation part (never trained on).

The shipped ranker (kb/data/trained/ranker.txt) is this one: `--ranker-out kb/data/trained/ranker.txt`
also records its provenance under "ranker" in trained.json, beside the adapter's."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench import window
from bench.record import provenance
from bench.stard import CACHE, DEFAULT_ARTICLES, Corpus, build, default_precision, precision_suffix, read_queries
from kb.search.rank import DEFAULT_RANKER, Ranker, train_ranker
from kb.search.train import Pair, Trainer, read_articles, read_pairs, split

METHODS = {"hybrid": ("hybrid", False, False), "hybrid+adapter+ranker": ("hybrid", True, True)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("queries", type=Path)
    parser.add_argument("--articles", type=Path, default=DEFAULT_ARTICLES)
    parser.add_argument("--subset", action="store_true")
    parser.add_argument("--cv", type=int, default=0)
    parser.add_argument("--ranker-out", type=Path, required=True)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    started, t0 = provenance(), time.perf_counter()
    precision = default_precision()
    rows = window.read(window.QUESTIONS, "validation") + window.read(window.QUESTIONS, "train")
    window_kb = window.build(rows, CACHE / f"window{precision_suffix(precision)}", precision)
    from kb.language.query import normalise_title

    train_pairs = [Pair(q["query"], [(normalise_title(r["title"]), r["article"]) for r in q["relevant"]])
                   for q in window.read(window.QUESTIONS, "train") if q["relevant"]]
    extra = Trainer(window_kb, train_pairs, progress=False).candidate_features()

    corpus = Corpus.load(args.articles)
    queries = read_queries(args.queries)
    laws = corpus.subset(queries) if args.subset else sorted(corpus.by_law)
    work = CACHE / (("subset-15000" if args.subset else "full") + precision_suffix(precision))
    kb, _, _ = build(corpus, laws, work, precision=precision)
    trainer = Trainer(kb, read_pairs(args.queries, read_articles(args.articles)))
    trainer.extra = extra
    result = {"window_train_questions": len(train_pairs)}
    if args.cv:
        result["stard_cv"] = trainer.cross_validate(args.cv, methods=METHODS)
    # one ranker on all of STARD (candidates from out-of-fold adapters, as Trainer.fit does), with and
    # without the window questions: the same features, so the difference is theirs alone
    everything = list(range(len(trainer.pairs)))
    features, labels = [], []
    for part in split(everything, 5, 0):
        rest = [i for i in everything if i not in set(part)]
        f, y = trainer._features(part, trainer.adapter(rest))
        features += f
        labels += y
    validation = window.read(window.QUESTIONS, "validation")
    for name, (more_f, more_y) in (("without", ([], [])), ("with", extra)):
        model = train_ranker(features + more_f, labels + more_y, trainer.ranker_settings)
        if name == "with":
            args.ranker_out.write_text(model, encoding="utf-8")
        window_kb.searcher.ranker = Ranker(model)
        scored = window.first_cards(window_kb, validation)
        result[f"window_validation_{name}_window_questions"] = {k: v for k, v in scored.items() if k != "misses"}
    record = {**started, "seconds": round(time.perf_counter() - t0), **result}
    if args.ranker_out.resolve() == DEFAULT_RANKER.resolve():
        trained = DEFAULT_RANKER.parent / "trained.json"
        shipped = json.loads(trained.read_text(encoding="utf-8"))
        shipped["ranker"] = {k: record[k] for k in ("commit", "uncommitted_changes", "command", "date", "machine")}
        shipped["ranker"].update(questions=len(trainer.pairs), window_train_questions=len(train_pairs),
                                 chunks=kb.stats()["chunks"], precision=precision)
        trained.write_text(json.dumps(shipped, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items()}, ensure_ascii=False, indent=1))
    if args.out:
        args.out.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
