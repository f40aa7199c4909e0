"""Whether a hit answers the question at all, as a probability: a logistic calibration of how
close the query model puts the question and the article (the best of its chunks). It is fit on
questions the knowledge base answers and questions it cannot (`python -m bench.relevance`),
and its threshold is the one that keeps almost every answerable question. Word overlap was
tried and left out: a question from another field shares words with some rule by chance
(护照怎么办理 and 婚姻登记条例's 护照), which made it look answered. Saved as JSON (never
pickle), with the query model whose scores it calibrates: another model's scores mean
something else, and then no hit is judged."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from kb.errors import ConfigError

DEFAULT_RELEVANCE = Path(__file__).resolve().parents[1] / "data" / "trained" / "relevance.json"


@dataclass
class RelevanceModel:
    weight: float
    intercept: float
    threshold: float  # a probability at or above it counts as an answer
    model: str  # the query model whose similarities it calibrates
    source: str = ""

    def probability(self, similarity: float) -> float:
        return 1.0 / (1.0 + math.exp(-(self.intercept + self.weight * similarity)))

    @classmethod
    def load(cls, path: Path | str) -> RelevanceModel:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(weight=float(data["weight"]), intercept=float(data["intercept"]),
                       threshold=float(data["threshold"]), model=str(data["model"]), source=str(path))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(path, f"相关度模型文件无效（{exc}）") from exc

    def save(self, path: Path | str) -> None:
        data = asdict(self)
        data.pop("source")
        Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def fit_relevance(similarities: Sequence[float], labels: Sequence[int], model: str,
                  recall: float = 0.97) -> RelevanceModel:
    """A logistic regression (balanced classes) of answerable (label 1) on similarity, and the
    highest threshold that still counts `recall` of the answerable questions as answered."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(similarities, dtype=np.float64).reshape(-1, 1)
    y = np.asarray(labels)
    fit = LogisticRegression(C=100.0, class_weight="balanced", max_iter=1000).fit(x, y)
    relevance = RelevanceModel(float(fit.coef_[0][0]), float(fit.intercept_[0]), 0.5, model)
    answered = np.sort([relevance.probability(s) for s, label in zip(x[:, 0], y) if label])
    if len(answered):
        relevance.threshold = float(answered[int(math.floor((1 - recall) * len(answered) + 1e-9))])
    return relevance


def load_relevance(config) -> RelevanceModel | None:
    """The bundled calibration when its model is the configured one, else None."""
    if not DEFAULT_RELEVANCE.is_file():
        return None
    relevance = RelevanceModel.load(DEFAULT_RELEVANCE)
    return relevance if relevance.model == config.model else None


# A question asking for one kind of fact (a time of day, a phone number, an address, a sum of money,
# a length of time, a colour or size) is answered only by a passage that states one: a rule about the
# right office that names no opening hours does not answer 婚姻登记处周六上班吗.
_NUMBER = r"[\d零一二三四五六七八九十百千万两]+"
ANSWER_TYPES = {
    "时刻": (r"几点|几时|办公时间|开放时间|营业时间|周六|周日|周末|星期[六日天]",
           rf"\d+[:：]\d+|{_NUMBER}[点时]|上午|下午|工作时间|工作日|节假日|休息日"),
    "联系方式": (r"电话|号码|热线|联系方式|邮箱|网址", r"电话|热线|号码|邮箱|网站|网址|\d{7,}"),
    "地址": (r"地址|哪条街|几条街|几楼|几号楼|门牌", r"地址|位于|\d+号|\d+楼|[路街]\d"),
    "金额": (r"多少钱|几块钱|收费多少|费用多少|多少元|价格|价钱"
           r"|(?:标准|补贴|补助|救助金|保障金|低保金|抚恤金|金额)(?:是|有|为)?多少",  # 低保标准是多少: a figure
           rf"{_NUMBER}元|收费|价格|费用标准"),
    "时长": (r"几天|多少天|几个月|多少个月|几年|多少年|多久|多长时间",
           rf"{_NUMBER}\s*个?(?:日|天|月|年|小时|工作日|周)|期限"),
    "规格": (r"颜色|底色|尺寸|规格|样式", r"颜色|色|尺寸|厘米|毫米|规格|样式"),
    "日子": (r"哪一天|哪天|几月几[号日]|几号", rf"{_NUMBER}月{_NUMBER}日|农历|初[一二三四五六七八九十]|{_NUMBER}日前"),
    "线上渠道": (r"下载|哪个网站|什么网站|网上(?:能|可以|怎么)?(?:办|申请|预约)|小程序|[aA][pP][pP]|公众号",
             r"网站|网上|互联网|在线|平台|信息系统|网络"),
}
_ANSWER_TYPES = {name: (re.compile(asked), re.compile(stated)) for name, (asked, stated) in ANSWER_TYPES.items()}


def asked_types(question: str) -> list[str]:
    """The kinds of fact a question asks for (ANSWER_TYPES), if any."""
    return [name for name, (asked, _) in _ANSWER_TYPES.items() if asked.search(question)]


def states_answer(question: str, passage: str) -> bool:
    """Whether a passage states a fact of every kind the question asks for (True when it asks none)."""
    return all(_ANSWER_TYPES[name][1].search(passage) for name in asked_types(question))
