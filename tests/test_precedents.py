"""Answered questions vote for their articles (kb.search.precedents): the nearest voter, how many
voted and the share of the votes; a far question does not vote; and the votes become the ranker's
features by name, which a ranker trained before them ignores."""

from __future__ import annotations

import numpy as np

from kb.search.precedents import Precedents
from kb.search.rank import FEATURES, Candidate, QuestionCues, feature_matrix


def unit(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_near_questions_vote_for_their_articles_and_far_ones_do_not():
    law = "社会救助暂行办法"
    precedents = Precedents(
        np.vstack([unit(1, 0.1, 0), unit(1, 0.2, 0), unit(1, 0, 0.3), unit(0, 1, 0)]),
        [[(law, "第十一条")], [(law, "第十一条"), (law, "第九条")], [(law, "第九条")], [(law, "第五十条")]],
        {(law, "第十一条"): [11, 12], (law, "第九条"): [9], (law, "第五十条"): [50]})
    votes = precedents.votes(unit(1, 0.1, 0))
    assert set(votes) == {(law, "第十一条"), (law, "第九条")}  # 第五十条's question is far
    eleven, nine = votes[(law, "第十一条")], votes[(law, "第九条")]
    assert eleven.count == 2 and nine.count == 2 and eleven.best > nine.best
    assert eleven.share > nine.share  # its voters are nearer
    assert 1.0 < sum(v.share for v in votes.values()) < 2.0  # one question votes for two articles
    assert precedents.ranked_chunks(votes)[0][:2] == [11, 12]  # the most voted article's chunks first


def test_no_precedents_no_votes():
    empty = Precedents(np.zeros((0, 3), np.float32), [])
    assert empty.votes(unit(1, 0, 0)) == {} and not empty


def test_votes_become_named_features():
    from kb.search.precedents import Vote

    cues = QuestionCues(["低保"])
    rows = feature_matrix([Candidate(vote=Vote(0.93, 3, 0.6)), Candidate()], cues)
    col = {name: i for i, name in enumerate(FEATURES)}
    assert abs(rows[0, col["precedent_best"]] - 0.93) < 1e-6
    assert rows[0, col["precedent_count"]] == 3 and rows[1, col["precedent_share"]] == 0.0


def test_the_same_question_is_one_at_the_bar_nearest_first():
    law = "婚姻登记条例"
    precedents = Precedents(np.vstack([unit(1, 0.05, 0), unit(1, 0.5, 0), unit(1, 0, 0.01)]),
                            [[(law, "第五条")], [(law, "第七条")], [(law, "第十一条")]])
    asked = unit(1, 0, 0)
    assert precedents.answered(asked) == [(law, "第十一条"), (law, "第五条")]  # 第七条's question is not as close
    assert precedents.answered(asked, at_least=0.999) == [(law, "第十一条")]


def test_a_ranker_trained_before_the_votes_reads_only_its_own_columns():
    """The shipped ranker was trained without a 口径库 (its vote columns, where it names them, were all
    zero): the votes change nothing for it. A ranker that reads them is trained with `kb train --answers`."""
    from kb.search.precedents import Vote
    from kb.search.rank import DEFAULT_RANKER, Evidence, Ranker

    ranker = Ranker.load(DEFAULT_RANKER)
    assert set(ranker.features) <= set(FEATURES)
    cues = QuestionCues(["低保", "申请"])
    plain = [Candidate(Evidence(0, 9.0), dense=Evidence(1, 0.8), title="社会救助暂行办法", text="申请最低生活保障"),
             Candidate(Evidence(3, 4.0), dense=Evidence(0, 0.85), title="社会救助暂行办法", text="低保标准")]
    voted = [Candidate(**{**c.__dict__, "vote": Vote(0.95, 4, 0.9)}) for c in plain]
    assert ranker.score(feature_matrix(plain, cues)).tolist() == ranker.score(feature_matrix(voted, cues)).tolist()
