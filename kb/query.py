"""Reading a query, as plain functions: quoted phrases, glossary expansions, a citation typed
as a query (社会救助暂行办法第十一条), Chinese numerals, and law titles in the one form used to
compare them. No model, no store."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only a type here: reading a query needs no jieba
    from kb.text import Glossary

CN_DIGITS = "零一二三四五六七八九"
_PHRASE = re.compile(r'"([^"]+)"|“([^”]+)”|「([^」]+)」')
_CITATION = re.compile(
    r"《?([\u4e00-\u9fff（）()〈〉]{2,40}?)》?\s*第\s*([一二三四五六七八九十百千零〇两\d]+)\s*条(?:之([一二三四五六七八九十]+))?"
)


# A trailing version mark: a date, or a year with what happened in it — (2019-03-02), （2018年修正）,
# （2018年10月26日第四次修正）, （2020年5月28日通过）. A bare year (宪法修正案（1988年）) names the document.
_VERSION_MARK = re.compile(
    r"[（(]\d{4}(?:-\d{1,2}-\d{1,2}|年[^（）()]*?(?:月|日|修|通过|公布|施行|版)[^（）()]*)[)）]$")


@dataclass
class ParsedQuery:
    text: str  # the query without quote marks
    phrases: list[str]
    expansions: list[str] = field(default_factory=list)


@dataclass
class ArticleRef:
    """A citation found in a query: the law's title (normalised) and the article as written in statutes."""

    title: str
    article: str  # 第十一条, 第十条之一


def parse_query(query: str, glossary: Glossary | None = None) -> ParsedQuery:
    phrases = [next(g for g in m.groups() if g) for m in _PHRASE.finditer(query)]
    text = _PHRASE.sub(lambda m: " " + next(g for g in m.groups() if g) + " ", query).strip()
    expansions = glossary.expansions(text) if glossary else []
    return ParsedQuery(text=text, phrases=[p.strip() for p in phrases if p.strip()], expansions=expansions)


def parse_citation(text: str) -> ArticleRef | None:
    """社会救助暂行办法第十一条 / 《慈善法》第10条 → ArticleRef("社会救助暂行办法", "第十一条")."""
    m = _CITATION.search(text)
    if not m:
        return None
    number = m.group(2)
    if number.isdigit():
        number = chinese_number(int(number))
    article = f"第{number}条" + (f"之{m.group(3)}" if m.group(3) else "")
    return ArticleRef(normalise_title(m.group(1)), article)


def chinese_number(n: int) -> str:
    """11 → 十一, 105 → 一百零五 (article numbers as written in Chinese statutes)."""
    if n < 10:
        return CN_DIGITS[n]
    units = [(1000, "千"), (100, "百"), (10, "十")]
    out, zero = "", False
    for value, name in units:
        digit, n = divmod(n, value)
        if digit:
            if zero:
                out += "零"
            out += ("" if value == 10 and digit == 1 and not out else CN_DIGITS[digit]) + name
            zero = False
        elif out:
            zero = True
    if n:
        out += ("零" if zero else "") + CN_DIGITS[n]
    return out


def normalise_title(title: str) -> str:
    """The form in which titles are compared: no book-title marks or spaces, no trailing version
    mark — a date (2019-03-02) or an amendment (2018年修正) — and no 中华人民共和国 prefix. A
    bare year is part of the name: 宪法修正案（1988年） and （1993年） are different documents."""
    title = re.sub(r"[《》〈〉\s]", "", title)
    title = _VERSION_MARK.sub("", title)
    return title.removeprefix("中华人民共和国")
