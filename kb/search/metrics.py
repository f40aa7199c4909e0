"""Retrieval metrics over ranked lists of article keys, as the STARD README defines them.

A question's relevant articles are groups: each group lists every stored version of one
article, and finding any member of a group finds that article."""

from __future__ import annotations

import math
from collections.abc import Sequence

KS = (1, 5, 10, 100)


def _first_ranks(ranked: Sequence[int], relevant: Sequence[set[int]]) -> list[int | None]:
    """1-based rank at which each relevant group is first found, or None."""
    position: dict[int, int] = {}
    for rank, item in enumerate(ranked, 1):
        position.setdefault(item, rank)
    out = []
    for group in relevant:
        ranks = [position[i] for i in group if i in position]
        out.append(min(ranks) if ranks else None)
    return out


def recall_at(ranked: Sequence[int], relevant: Sequence[set[int]], k: int) -> float:
    if not relevant:
        return 0.0
    return sum(1 for r in _first_ranks(ranked, relevant) if r is not None and r <= k) / len(relevant)


def mrr_at(ranked: Sequence[int], relevant: Sequence[set[int]], k: int = 10) -> float:
    found = [r for r in _first_ranks(ranked, relevant) if r is not None and r <= k]
    return 1.0 / min(found) if found else 0.0


def ndcg_at(ranked: Sequence[int], relevant: Sequence[set[int]], k: int = 10) -> float:
    """Binary gains: a rank earns a gain when it is the first find of a relevant group."""
    ranks = {r for r in _first_ranks(ranked, relevant) if r is not None and r <= k}
    dcg = sum(1.0 / math.log2(r + 1) for r in ranks)
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(len(relevant), k) + 1))
    return dcg / ideal if ideal else 0.0


def score(runs: Sequence[tuple[Sequence[int], Sequence[set[int]]]]) -> dict[str, float]:
    """Mean metrics over (ranked ids, relevant groups) pairs, one pair per question."""
    names = [f"recall@{k}" for k in KS] + ["mrr@10", "ndcg@10"]
    if not runs:
        return dict.fromkeys(names, 0.0)
    totals = dict.fromkeys(names, 0.0)
    for ranked, relevant in runs:
        for k in KS:
            totals[f"recall@{k}"] += recall_at(ranked, relevant, k)
        totals["mrr@10"] += mrr_at(ranked, relevant)
        totals["ndcg@10"] += ndcg_at(ranked, relevant)
    return {name: total / len(runs) for name, total in totals.items()}
