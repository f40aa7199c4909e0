"""Does each glossary entry help? An ablation on real questions (tune on train only):

    python -m bench.glossary ../shared/eval/stard/train.jsonl --subset --out glossary.json

For every entry whose term occurs in some question, scores hybrid search on exactly those
questions with the whole glossary and with that one entry removed. An entry helps when
removing it lowers MRR@10 (ties broken by Recall@10). bench.stard builds the knowledge base."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.record import provenance
from bench.stard import CACHE, DEFAULT_ARTICLES, SUBSET_MIN_ARTICLES, Corpus, build, evaluate, read_queries
from kb.language.words import Glossary


def ablate(kb, law_of_path, corpus, queries: list[dict]) -> list[dict]:
    full = kb.searcher.glossary
    rows = []
    for term, expansions in full.entries.items():
        asked = [q for q in queries if term in q["query"]]
        if not asked:
            rows.append({"term": term, "expansions": expansions, "questions": 0})
            continue
        kb.searcher.glossary = full
        with_entry = evaluate(kb, law_of_path, corpus, asked, ["hybrid"])["hybrid"]
        kb.searcher.glossary = Glossary({t: e for t, e in full.entries.items() if t != term})
        without = evaluate(kb, law_of_path, corpus, asked, ["hybrid"])["hybrid"]
        kb.searcher.glossary = full
        gain = {m: with_entry[m] - without[m] for m in ("mrr@10", "recall@10", "recall@100")}
        rows.append({"term": term, "expansions": expansions, "questions": len(asked), "gain": gain,
                     "helps": (gain["mrr@10"], gain["recall@10"]) > (0, 0)})
        print(f"{term} → {'、'.join(expansions)}：{len(asked)} 问，MRR@10 {gain['mrr@10']:+.3f}，"
              f"R@10 {gain['recall@10']:+.3f}，R@100 {gain['recall@100']:+.3f}", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("queries", type=Path)
    parser.add_argument("--articles", type=Path, default=DEFAULT_ARTICLES)
    parser.add_argument("--subset", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    started = provenance()  # what runs is the tree as it is now, not at the end
    corpus = Corpus.load(args.articles)
    queries = read_queries(args.queries)
    laws = corpus.subset(queries, SUBSET_MIN_ARTICLES) if args.subset else sorted(corpus.by_law)
    kb, law_of_path, _ = build(corpus, laws, CACHE / (f"subset-{SUBSET_MIN_ARTICLES}" if args.subset else "full"))
    rows = ablate(kb, law_of_path, corpus, queries)
    unasked = [r["term"] for r in rows if not r["questions"]]
    print(f"{len(unasked)} 个词条在这些问题中没有出现：{'、'.join(unasked)}")
    if args.out:
        args.out.write_text(json.dumps({**started, "queries": str(args.queries), "subset": args.subset,
                                        "entries": rows}, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
