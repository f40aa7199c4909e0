"""Questions already answered, as evidence for a new one: the window's approved answers (口径库), or
in training the other folds' questions. A new question's nearest answered questions vote for
the articles that answered them; the votes join the candidates (an article no retriever found
can still come in) and become ranker features: how close the nearest voter is, how many voted,
and what share of the votes the article has (agreement).

Kept as plain arrays: the query model's vectors of the questions (the same model and adapter as
the search, or the similarities mean nothing) and each question's articles."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Key = tuple[str, str]  # (normalised title, article)
# How close (cosine of the shipped query model's vectors, int8) a question must be to an answered one
# to be the same question, whose answer comes first. Window paraphrases measured .94-.96 (办结婚登记
# 需要带什么证件 against 结婚登记要带哪些证件), different questions on one topic .64 (低保怎么申请
# against 家里困难想吃低保该找谁). STARD's questions are finer: of the train questions whose nearest
# other question is at .90 or more, 58% share an article with it (46% at .80), so the bar stays high.
SAME_QUESTION = 0.9


@dataclass
class Vote:
    best: float = 0.0  # the nearest voting question's similarity
    count: int = 0  # how many of the near questions cite the article
    share: float = 0.0  # its part of all the near questions' similarity


@dataclass
class Precedents:
    vectors: np.ndarray  # questions × dimensions, unit length
    answers: list[list[Key]]  # each question's articles
    chunk_ids: dict[Key, list[int]] = field(default_factory=dict)  # each article's chunks in this store
    floor: float = 0.75  # a question less similar than this does not vote
    depth: int = 10  # the nearest questions that may vote

    def __len__(self) -> int:
        return len(self.answers)

    def votes(self, query_vector: np.ndarray) -> dict[Key, Vote]:
        """The articles the near questions cite, with their votes."""
        if not len(self.answers):
            return {}
        similarity = self.vectors @ query_vector
        depth = min(self.depth, len(similarity))
        nearest = np.argpartition(-similarity, depth - 1)[:depth]
        voters = [(float(similarity[i]), i) for i in nearest if similarity[i] >= self.floor]
        total = sum(s for s, _ in voters)
        out: dict[Key, Vote] = {}
        for s, i in voters:
            for key in dict.fromkeys(self.answers[i]):
                vote = out.setdefault(key, Vote())
                vote.best, vote.count, vote.share = max(vote.best, s), vote.count + 1, vote.share + s / total
        return out

    def answered(self, query_vector: np.ndarray, at_least: float = SAME_QUESTION) -> list[Key]:
        """The articles of the answered questions that are the same question (nearest first)."""
        if not len(self.answers):
            return []
        similarity = self.vectors @ query_vector
        same = [i for i in np.argsort(-similarity) if similarity[i] >= at_least]
        return list(dict.fromkeys(key for i in same for key in self.answers[i]))

    def ranked_chunks(self, votes: dict[Key, Vote]) -> tuple[list[int], list[float]]:
        """The voted articles' chunks, the most voted first, with their vote shares (a ranking for fusion)."""
        ids, scores = [], []
        for key, vote in sorted(votes.items(), key=lambda kv: (-kv[1].share, -kv[1].best)):
            for cid in self.chunk_ids.get(key, []):
                ids.append(cid)
                scores.append(vote.share)
        return ids, scores
