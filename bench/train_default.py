"""Trains the query adapter and ranker that ship as the defaults (kb/data/trained/), on STARD's
train.jsonl over the full statute corpus:

    python -m bench.train_default ../shared/eval/stard/train.jsonl

The same as `kb train train.jsonl --articles articles.jsonl` on the benchmark's knowledge base
(bench.stard builds it; embeddings are cached), written where the package looks for defaults.
Cross-validated figures come from `python -m bench.stard train.jsonl --cv 5`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from bench.record import provenance
from bench.stard import CACHE, DEFAULT_ARTICLES, Corpus, build
from kb.models.embed import DEFAULT_ADAPTER
from kb.search.rank import DEFAULT_RANKER
from kb.search.train import Trainer, read_articles, read_pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("queries", type=Path)
    parser.add_argument("--articles", type=Path, default=DEFAULT_ARTICLES)
    args = parser.parse_args(argv)

    started, t0 = provenance(), time.perf_counter()
    corpus = Corpus.load(args.articles)
    kb, _, _ = build(corpus, sorted(corpus.by_law), CACHE / "full")
    trainer = Trainer(kb, read_pairs(args.queries, read_articles(args.articles)))
    trained = trainer.fit(list(range(len(trainer.pairs))))
    DEFAULT_ADAPTER.parent.mkdir(parents=True, exist_ok=True)
    np.save(DEFAULT_ADAPTER, trained.weight)
    DEFAULT_RANKER.write_text(trained.ranker, encoding="utf-8")
    record = {**started, "queries": str(args.queries), "questions": len(trainer.pairs),
              "chunks": kb.stats()["chunks"], "seconds": round(time.perf_counter() - t0, 1)}
    (DEFAULT_RANKER.parent / "trained.json").write_text(json.dumps(record, ensure_ascii=False, indent=2),
                                                       encoding="utf-8")
    print(f"已写入 {DEFAULT_ADAPTER} 和 {DEFAULT_RANKER}（{len(trainer.pairs)} 个问题，{record['seconds']:.0f} 秒）")
    return 0


if __name__ == "__main__":
    sys.exit(main())
