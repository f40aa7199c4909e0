"""Calibrates when a hit counts as an answer (kb/data/trained/relevance.json) and measures it:

    python -m bench.relevance ../shared/eval/stard/train.jsonl

Answerable questions: STARD's train questions, over the full statute corpus and, for those whose
law the bundled corpus holds, over the bundled corpus. Each is embedded with a query adapter
trained without it (5 folds), as a question the shipped adapter never saw would be. Questions
that cannot be answered: bench/data/unanswerable_calibration.jsonl (fit) and
bench/data/unanswerable.jsonl (40 questions, only measured), over the bundled corpus.

A question counts as answered ("found") when any of its first four hits (what `kb ask` cites)
passes the threshold and, for a question asking a kind of fact (几点, 多少钱), states one. The
threshold is the highest that keeps 95% of the answerable questions of each corpus answered."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from bench.record import provenance
from bench.stard import CACHE, DEFAULT_ARTICLES, HERE, Corpus, build, default_precision, open_kb, precision_suffix
from kb.config import DEFAULT_MODEL
from kb.language.query import normalise_title
from kb.search.rank import DEFAULT_RANKER, Ranker
from kb.search.relevance import DEFAULT_RELEVANCE, RelevanceModel, fit_relevance
from kb.search.train import Trainer, read_articles, read_pairs, split

CORPUS = HERE.parent / "corpus"
DATA = HERE / "data"
ASKED = 4  # the hits `kb ask` cites
RECALL = 0.95


class Similarity(RelevanceModel):
    """Stands in for the calibration while measuring: a hit's "probability" is its similarity."""

    def __init__(self):
        super().__init__(1.0, 0.0, -math.inf, "")

    def probability(self, similarity: float) -> float:
        return similarity


def best_similarity(kb, question: str) -> float:
    hits = kb.search(question, k=ASKED)
    return max((h.relevance for h in hits if h.relevance is not None and "citation" not in h.matched_by),
               default=-1.0)


def read_questions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("queries", type=Path)
    parser.add_argument("--articles", type=Path, default=DEFAULT_ARTICLES)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="measure only; keep the shipped calibration")
    parser.add_argument("--shipped", action="store_true", help="measure the shipped calibration instead of fitting one")
    parser.add_argument("--precision", choices=["fp32", "int8"], help="default: a new knowledge base's here")
    args = parser.parse_args(argv)
    precision = args.precision or default_precision()
    suffix = precision_suffix(precision)
    started, t0 = provenance(), time.perf_counter()

    # the answerable questions over the full corpus, each with an adapter trained without it
    corpus = Corpus.load(args.articles)
    full, _, _ = build(corpus, sorted(corpus.by_law), CACHE / f"full{suffix}",  # the base model: adapters start afresh
                       precision=precision)
    full.searcher.ranker = Ranker.load(DEFAULT_RANKER)  # the shipped order (trained on these questions too)
    trainer = Trainer(full, read_pairs(args.queries, read_articles(args.articles)))
    fold_of, weights = {}, []
    everything = list(range(len(trainer.pairs)))
    for n, part in enumerate(split(everything, args.folds)):
        held = set(part)
        weights.append(trainer.adapter([i for i in everything if i not in held]))
        fold_of.update((i, n) for i in part)

    # the bundled corpus, with the shipped model: the STARD questions whose law it holds, and the unanswerable
    bundled = open_kb(CACHE / f"corpus{suffix}" / "kb", model_dir=CACHE / "models", precision=precision)
    bundled.ingest([CORPUS], prune=True, progress=False)
    shipped = bundled.searcher.embed_query
    held_titles = {normalise_title(d["title"]) for d in bundled.documents()}
    in_bundled = [i for i, p in enumerate(trainer.pairs) if any(title in held_titles for title, _ in p.relevant)]
    negatives = {name: read_questions(DATA / f"{name}.jsonl") for name in ("unanswerable_calibration", "unanswerable")}

    def run(kb, questions: list[tuple[str, int | None]], relevance: RelevanceModel) -> list:
        """Each question's best similarity (with Similarity) or whether `kb ask` found an answer;
        a question with a fold is embedded with the adapter trained without it."""
        kb.searcher.relevance = relevance
        out = []
        for question, fold in questions:
            kb.searcher.embed_query = shipped if fold is None else trainer._query_vector(weights[fold])
            out.append(best_similarity(kb, question) if isinstance(relevance, Similarity)
                       else kb.ask(question, max_sources=ASKED).found)
        return out

    sets = {"stard_full": (full, [(p.query, fold_of[i]) for i, p in enumerate(trainer.pairs)]),
            "stard_bundled": (bundled, [(trainer.pairs[i].query, fold_of[i]) for i in in_bundled]),
            **{name: (bundled, [(q["query"], None) for q in rows]) for name, rows in negatives.items()}}
    sims = {name: run(kb, questions, Similarity()) for name, (kb, questions) in sets.items()}
    answerable = sims["stard_full"] + sims["stard_bundled"]
    calibration = sims["unanswerable_calibration"]
    if args.shipped:
        model = RelevanceModel.load(DEFAULT_RELEVANCE)
    else:
        model = fit_relevance(answerable + calibration, [1] * len(answerable) + [0] * len(calibration), DEFAULT_MODEL)
        # the threshold keeps RECALL of each corpus's answerable questions: a small knowledge base's best
        # hit is further from the question than the best of 65,000 articles
        model.threshold = float(min(
            np.sort([model.probability(s) for s in sims[name]])[int((1 - RECALL) * len(sims[name]))]
            for name in ("stard_full", "stard_bundled")))
    found = {name: run(kb, questions, model) for name, (kb, questions) in sets.items()}

    def share(flags: list[bool]) -> float:
        return round(float(np.mean(flags)), 3) if flags else float("nan")

    def spread(values: list[float]) -> list[float]:
        return [round(float(x), 3) for x in np.percentile(values, [3, 5, 10, 50, 90])]

    unanswerable = negatives["unanswerable"]
    result = {
        **started, "seconds": round(time.perf_counter() - t0, 1), "model": DEFAULT_MODEL, "precision": precision,
        "calibration": {"weight": model.weight, "intercept": model.intercept, "threshold": model.threshold},
        "questions": {name: len(questions) for name, (_, questions) in sets.items()},
        "found": {name: share(flags) for name, flags in found.items()},
        "found_by_similarity_alone": {name: share([model.probability(s) >= model.threshold for s in values])
                                      for name, values in sims.items()},
        "unanswerable_found_by_kind": {
            kind: share([f for f, q in zip(found["unanswerable"], unanswerable) if q["kind"] == kind])
            for kind in sorted({q["kind"] for q in unanswerable})},
        "similarity_percentiles_3_5_10_50_90": {name: spread(values) for name, values in sims.items()},
        "answered_unanswerable": [q["query"] for f, q in zip(found["unanswerable"], unanswerable) if f],
        "unanswered_bundled_stard": [q for f, (q, _) in zip(found["stard_bundled"], sets["stard_bundled"][1]) if not f],
    }
    out = HERE / "results" / f"relevance{suffix}{'-shipped' if args.shipped else ''}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if not args.no_write and not args.shipped:
        model.save(DEFAULT_RELEVANCE)
    print(json.dumps({k: v for k, v in result.items() if k not in started}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
