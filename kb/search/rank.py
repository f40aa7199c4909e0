"""Learned fusion: each candidate article is described by a few numbers (what each retriever
said of it, how much of the question its title, headings and text cover, whether it answers
the kind of thing asked, whether it is a rule for a group the question does not name), and a
LightGBM lambdarank model trained on real questions orders them. Without a trained model the
searcher keeps reciprocal rank fusion. Models are LightGBM's own text format, never pickle."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from kb.errors import ConfigError
from kb.search.precedents import Vote

FEATURES = (
    "keyword_rank", "keyword_score", "keyword_share",  # the question's own words (BM25)
    "expanded_rank", "expanded_share",  # the words with glossary expansions
    "dense_rank", "dense_score", "dense_gap",  # the embedding model
    "rrf", "chunks",
    # no article length: the training questions taught "long articles rank low", and a window
    # question's answer is often the long article that lists every condition or document
    "title_cover", "heading_cover", "text_cover", "query_words",
    "intent_asked", "intent_match", "group_mismatch",
    # questions already answered (kb.search.precedents): the nearest voter, how many, what share
    "precedent_best", "precedent_count", "precedent_share",
)
MISSING_RANK = 1000  # a retriever that did not offer the candidate
# Which way each feature may push a score (+1 up, -1 down, 0 free): a better rank or a higher cover
# never hurts. Without these the model learned quirks of the training questions (a long article
# ranked below weaker ones); with them it also ranked better on held-out folds.
MONOTONE = {"keyword_rank": -1, "keyword_score": 1, "keyword_share": 1, "expanded_rank": -1, "expanded_share": 1,
            "dense_rank": -1, "dense_score": 1, "dense_gap": -1, "rrf": 1, "title_cover": 1, "heading_cover": 1,
            "text_cover": 1, "intent_match": 1, "group_mismatch": -1, "precedent_best": 1, "precedent_count": 1,
            "precedent_share": 1}


@dataclass
class Evidence:
    """What one retriever said of a candidate: its best rank (0-based) and score."""

    rank: int = MISSING_RANK
    score: float = 0.0


@dataclass
class Candidate:
    """One article (or one chunk outside articles) as the ranker sees it."""

    keyword: Evidence = field(default_factory=Evidence)
    expanded: Evidence = field(default_factory=Evidence)
    dense: Evidence = field(default_factory=Evidence)
    rrf: float = 0.0
    chunks: int = 1
    title: str = ""
    headings: str = ""
    text: str = ""
    vote: Vote | None = None  # what answered questions near this one said of it


@dataclass
class QuestionCues:
    """What the question asks, beyond its words: its content words, the intents it shows (条件,
    材料, 期限 ...) with the words that answer each, and the special groups it names."""

    words: list[str]
    intent_answers: list[tuple[str, ...]] = field(default_factory=list)
    groups: tuple[str, ...] = ()  # every special-group word known (军人, 烈士 ...)
    named_groups: bool = False  # whether the question names one


@lru_cache(maxsize=64)
def any_of(words: tuple[str, ...]) -> re.Pattern | None:
    """One pattern for "any of these words" (a search per candidate, not one per word: this runs
    on every candidate of every query)."""
    return re.compile("|".join(map(re.escape, sorted(set(words), key=len, reverse=True)))) if words else None


def for_group(title: str, headings: str, groups: Sequence[str]) -> bool:
    """Whether a rule is written for a special group: its law's title or its chapter names one
    (军人抚恤优待条例; 第五章 烈士褒扬). A mention in an article's text is not enough: 婚姻登记条例
    第五条 lists what 华侨 must bring among everyone else."""
    pattern = any_of(tuple(groups))
    return bool(pattern and (pattern.search(title) or pattern.search(headings)))


def _cover(words: Sequence[str], text: str) -> float:
    return sum(1 for w in words if w in text) / len(words) if words else 0.0


def feature_matrix(candidates: list[Candidate], cues: QuestionCues) -> np.ndarray:
    """One row of FEATURES per candidate."""
    words = list(dict.fromkeys(cues.words))
    top_keyword = max((c.keyword.score for c in candidates), default=0.0) or 1.0
    top_expanded = max((c.expanded.score for c in candidates), default=0.0) or 1.0
    top_dense = max((c.dense.score for c in candidates if c.dense.rank < MISSING_RANK), default=0.0)
    answers = any_of(tuple(w for words in cues.intent_answers for w in words))
    rows = []
    for c in candidates:
        intent_match = float(bool(answers and answers.search(c.text)))
        mismatch = float(not cues.named_groups and for_group(c.title, c.headings, cues.groups))
        dense_gap = top_dense - c.dense.score if c.dense.rank < MISSING_RANK else 1.0
        named = {
            "keyword_rank": c.keyword.rank, "keyword_score": c.keyword.score,
            "keyword_share": c.keyword.score / top_keyword,
            "expanded_rank": c.expanded.rank, "expanded_share": c.expanded.score / top_expanded,
            "dense_rank": c.dense.rank, "dense_score": c.dense.score, "dense_gap": dense_gap,
            "rrf": c.rrf, "chunks": c.chunks,
            "title_cover": _cover(words, c.title), "heading_cover": _cover(words, c.headings),
            "text_cover": _cover(words, c.text), "query_words": len(words),
            "intent_asked": float(bool(cues.intent_answers)), "intent_match": intent_match, "group_mismatch": mismatch,
            "precedent_best": c.vote.best if c.vote else 0.0, "precedent_count": c.vote.count if c.vote else 0,
            "precedent_share": c.vote.share if c.vote else 0.0,
        }
        rows.append([named[name] for name in FEATURES])  # by name: a feature added or moved cannot shift the rest
    return np.asarray(rows, dtype=np.float64).reshape(len(candidates), len(FEATURES))


class Ranker:
    """A trained LightGBM model over FEATURES, or over some of them (a model from before the precedent
    features reads the columns it names); higher scores rank first."""

    def __init__(self, model_text: str, source: str = ""):
        self.source = source
        self._text = model_text
        self._booster = None  # LightGBM (and what it imports) loads at the first search, not at open
        names = next((line.removeprefix("feature_names=").split() for line in model_text.splitlines()
                      if line.startswith("feature_names=")), None)
        if names is None:
            raise ConfigError(source or "ranker", "排序模型文件无效（不是 LightGBM 文本模型）")
        unknown = [n for n in names if n not in FEATURES]
        if unknown:
            raise ConfigError(source or "ranker", f"排序模型的特征与本版本不符（未知特征 {'、'.join(unknown[:3])}），"
                                                 "请用 `kb train` 重新训练")
        self.features = tuple(names)
        self._columns = [FEATURES.index(n) for n in names]

    @property
    def booster(self):
        if self._booster is None:
            import lightgbm

            try:
                self._booster = lightgbm.Booster(model_str=self._text)
            except Exception as exc:  # LightGBM raises its own error type on a malformed model
                raise ConfigError(self.source or "ranker", f"排序模型文件无效（{exc}）") from exc
        return self._booster

    @classmethod
    def load(cls, path: Path | str) -> Ranker:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(path, f"无法读取排序模型（{exc}）") from exc
        return cls(text, str(path))

    def score(self, features: np.ndarray) -> np.ndarray:
        if not len(features):
            return np.zeros(0)
        return self.booster.predict(features[:, self._columns], num_threads=1)


DEFAULT_RANKER = Path(__file__).resolve().parents[1] / "data" / "trained" / "ranker.txt"


def load_ranker(config) -> Ranker | None:
    """The configured ranker: a file, "none" (reciprocal rank fusion), or by default the bundled
    one, which was trained on the default model's scores and so is used only with that model."""
    from kb.config import DEFAULT_MODEL

    if config.ranker:
        return None if config.ranker.lower() == "none" else Ranker.load(Path(config.ranker).expanduser())
    if config.model == DEFAULT_MODEL and DEFAULT_RANKER.is_file():
        return Ranker.load(DEFAULT_RANKER)
    return None


@dataclass
class RankerSettings:
    rounds: int = 300
    learning_rate: float = 0.05
    leaves: int = 7
    min_data_in_leaf: int = 20
    seed: int = 0


def train_ranker(features: list[np.ndarray], labels: list[np.ndarray],
                 settings: RankerSettings | None = None) -> str:
    """LightGBM lambdarank over questions (one feature matrix and 0/1 label vector each);
    returns the model as text. Questions with no relevant candidate teach nothing and are left out."""
    import lightgbm

    s = settings or RankerSettings()
    keep = [i for i, y in enumerate(labels) if len(y) and y.max() > 0]
    X = np.vstack([features[i] for i in keep])
    y = np.concatenate([labels[i] for i in keep])
    data = lightgbm.Dataset(X, y, group=[len(labels[i]) for i in keep], feature_name=list(FEATURES),
                            free_raw_data=False)
    params = {"objective": "lambdarank", "metric": "ndcg", "ndcg_eval_at": [10], "learning_rate": s.learning_rate,
              "num_leaves": s.leaves, "min_data_in_leaf": s.min_data_in_leaf, "seed": s.seed,
              "deterministic": True, "num_threads": 2, "verbose": -1, "lambdarank_truncation_level": 20,
              "monotone_constraints": [MONOTONE.get(f, 0) for f in FEATURES],
              "monotone_constraints_method": "advanced"}
    booster = lightgbm.train(params, data, num_boost_round=s.rounds)
    return booster.model_to_string()
