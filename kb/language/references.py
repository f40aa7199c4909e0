"""The references a statute's text makes (法条联想): no store, no model.

- to its own articles: 依照本法第十条, 适用本办法第十一条规定, 本条例第十八条第二项, 违反第二十条;
- to another law's articles: 《社会救助暂行办法》第十一条, 依照《慈善法》第十条和第十二条;
- to a law as its basis: 根据《社会救助暂行办法》和《城市居民最低生活保障条例》…制定本条例 (in the
  first article or the preamble: kind "basis", no article).
A list (第十条、第十二条, 第十条和第十二条) is read whole, and a range (第十条至第十五条) article by article.
前款 and 前两款 refer inside their own article and make no edge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.articles import ARTICLE
from kb.language.query import chinese_number
from kb.language.quotes import article_label

_PART = r"第[一二三四五六七八九十\d]+[款项]"  # 第二款, 第三项: read past, the edge is to the article
_LIST = rf"{ARTICLE}(?:(?:{_PART})*(?:、|和|与|及|或者|以及|至|到){ARTICLE})*"
_OTHER = re.compile(rf"《([^《》\n]{{2,60}})》\s*(?:的)?(?:规定)?\s*({_LIST})")
_OWN = re.compile(rf"(?:本法|本条例|本办法|本规定|本细则|本决定|本规则|依照|依据|按照|根据|违反|适用|参照)\s*({_LIST})")
_BASIS = re.compile(r"(?:根据|依据|依照|按照)((?:《[^《》\n]{2,60}》[、和及与以及等]*)+)")
_TITLES = re.compile(r"《([^《》\n]{2,60})》")
_NUMBERS = re.compile(ARTICLE)
BASIS_CHARS = 400  # a law's basis is named in its first article or the lines before it


@dataclass(frozen=True)
class Reference:
    kind: str  # "article": to articles; "basis": to a whole law, as what the text rests on
    title: str  # the law named ("" = the text's own law: 本法, 本条例, a bare 第十条)
    articles: tuple[str, ...]  # 第十一条 …, as statutes write them; () for a basis
    at: int  # where it stands in the text


def references_in(text: str, first_article_end: int | None = None) -> list[Reference]:
    """Every reference of a text, in order. `first_article_end`: where its first article ends (the
    basis is read before it), else BASIS_CHARS."""
    found: list[Reference] = []
    taken: list[tuple[int, int]] = []
    for m in _OTHER.finditer(text):
        found.append(Reference("article", m.group(1), _numbers(m.group(2)), m.start()))
        taken.append((m.start(), m.end()))
    for m in _OWN.finditer(text):
        if not any(a <= m.start(1) < b for a, b in taken):
            found.append(Reference("article", "", _numbers(m.group(1)), m.start(1)))
    head = first_article_end if first_article_end is not None else BASIS_CHARS
    for m in _BASIS.finditer(text, 0, head):
        for t in _TITLES.finditer(m.group(1)):
            if not any(a <= m.start(1) + t.start() < b for a, b in taken):  # 依照《X》第十条: to the article
                found.append(Reference("basis", t.group(1), (), m.start()))
    return sorted(found, key=lambda r: r.at)


def _numbers(listed: str) -> tuple[str, ...]:
    """The articles of 第十条、第十二条 / 第三十条至第三十二条 (every one of a range, up to MAX_RANGE)."""
    found = list(_NUMBERS.finditer(listed))
    out = []
    for i, m in enumerate(found):
        out.append(article_label(m.group()))
        if i and re.search(r"[至到]", listed[found[i - 1].end():m.start()]):
            low, high = numeral_value(found[i - 1].group()[1:-1]), numeral_value(m.group()[1:-1])
            if low is not None and high is not None and 0 < high - low <= MAX_RANGE:
                out[-1:-1] = [f"第{chinese_number(n)}条" for n in range(low + 1, high)]
    return tuple(dict.fromkeys(out))


_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_UNITS = {"十": 10, "百": 100, "千": 1000}
MAX_RANGE = 50  # 第一条至第五十条 at most is read as each article between


def numeral_value(text: str) -> int | None:
    """十一 → 11, 一百零五 → 105, 12 → 12; None for what is not a number (十条之一's 之一 included)."""
    if text.isdigit():
        return int(text)
    total, digit = 0, 0
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _UNITS:
            total, digit = total + (digit or 1) * _UNITS[ch], 0
        else:
            return None
    return total + digit if text else None
