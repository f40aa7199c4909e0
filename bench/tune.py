"""Sweeps the fusion settings over a built benchmark knowledge base (tune on train only):

    python -m bench.tune ../shared/eval/stard/train.jsonl --keyword-weight 0.5,1,1.5 --rrf-k 20,60

Prints the hybrid metrics for every combination; bench.stard builds the knowledge base first."""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

from bench.stard import CACHE, DEFAULT_ARTICLES, SUBSET_MIN_ARTICLES, Corpus, build, evaluate, read_queries


def floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("queries", type=Path)
    parser.add_argument("--articles", type=Path, default=DEFAULT_ARTICLES)
    parser.add_argument("--subset", action="store_true")
    parser.add_argument("--keyword-weight", type=floats, default=[1.0])
    parser.add_argument("--dense-weight", type=floats, default=[1.0])
    parser.add_argument("--rrf-k", type=floats, default=[60])
    parser.add_argument("--limit", type=int)
    args = parser.parse_args(argv)

    corpus = Corpus.load(args.articles)
    queries = read_queries(args.queries)[:args.limit]
    laws = corpus.subset(queries, SUBSET_MIN_ARTICLES) if args.subset else sorted(corpus.by_law)
    kb, law_of_path, _ = build(corpus, laws, CACHE / (f"subset-{SUBSET_MIN_ARTICLES}" if args.subset else "full"))
    print("keyword_weight | dense_weight | rrf_k | recall@1 | recall@10 | recall@100 | mrr@10 | ndcg@10")
    for kw, dw, rrf_k in itertools.product(args.keyword_weight, args.dense_weight, args.rrf_k):
        s = kb.searcher.settings
        s.keyword_weight, s.dense_weight, s.rrf_k = kw, dw, int(rrf_k)
        r = evaluate(kb, law_of_path, corpus, queries, ["hybrid"])["hybrid"]
        print(f"{kw} | {dw} | {int(rrf_k)} | {r['recall@1']:.3f} | {r['recall@10']:.3f} | {r['recall@100']:.3f}"
              f" | {r['mrr@10']:.3f} | {r['ndcg@10']:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
