"""The quotations in a draft, as 引文核对 reads them: no store, no model.

A quotation is
- text in “…”, 「…」, 『…』 or "…" of at least MIN_CHARS characters (punctuation and spaces not
  counted), with the source the sentence names before it (《慈善法》第十条规定：“…”) or right after
  it (“…”（《慈善法》第十条）);
- a sentence that names its source without quotation marks: 《X》第N条规定，…。 / 根据《X》第N条，…。
  The text after the source to the end of the sentence is what is checked.
A 第N条 with no title (第十条规定：“…”) takes the last 《X》 named earlier in the paragraph.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass

from ingest.articles import ARTICLE, NUMERAL
from kb.language.query import chinese_number

MIN_CHARS = 8  # a quotation shorter than this is a term or a name, not a quotation
LOOK_BACK = 120  # how far before a quotation its source may be named (within the sentence)

_QUOTED = re.compile(r"“([^“”]+)”|「([^「」]+)」|『([^『』]+)』|\"([^\"\n]+)\"")
_TITLE = r"《([^《》\n]{2,60})》"
_PARTS = rf"(?:第[{NUMERAL}\d]+款)?(?:第[{NUMERAL}\d]+项)?"
_NUMBERED = rf"({ARTICLE})?{_PARTS}"
_SOURCE = re.compile(rf"{_TITLE}\s*{_NUMBERED}")
_BARE_ARTICLE = re.compile(rf"(?<!》)({ARTICLE})")  # 第十条规定, 其中第十条, 该法第十条
_AFTER = re.compile(rf"\s*[（(]{_TITLE}\s*{_NUMBERED}[)）]")
# a sentence that names its source and then states it: 《X》第N条规定， / 根据《X》第N条的规定， / 根据《X》规定，
# (根据《X》要求 or 根据《X》精神 is the draft's own sentence, not a quotation)
_STATES = re.compile(
    rf"(?:(?:根据|依据|依照|按照){_TITLE}\s*(?:({ARTICLE}){_PARTS}(?:的?规定)?|的?规定)"
    rf"|{_TITLE}\s*{_NUMBERED}(?:中)?(?:明确)?规定)\s*[：:，,]?\s*")
_SENTENCE_END = re.compile(r"[。！？；!?;\n]")
_OPENING = "“「『\""
_ELLIPSIS = re.compile(r"…+|\.{3,}|⋯+|。。。+")


@dataclass
class Quote:
    text: str  # as written in the draft, without its quotation marks
    start: int  # offsets of `text` in the draft
    end: int
    title: str = ""  # the source the draft names (《X》 without the marks), "" when none
    article: str = ""  # the article it names, as statutes write it (第十条), "" when none
    kind: str = "quoted"  # quoted (in quotation marks) | stated (a sentence naming its source)

    def parts(self) -> list[str]:
        """The text in the parts that an ellipsis (……, …, ...) separates: what the draft leaves out."""
        return [p for p in _ELLIPSIS.split(self.text) if significant(p)]


def significant(text: str) -> int:
    """How many characters of a text count: letters and numbers, not punctuation or spaces."""
    return sum(1 for ch in text if unicodedata.category(ch)[0] in "LN")


def article_label(written: str) -> str:
    """第10条 → 第十条; 第十条之一 as it is; "" stays ""."""
    m = re.fullmatch(rf"第([{NUMERAL}\d]+)条(?:之([{NUMERAL}\d]+))?", written or "")
    if not m:
        return written or ""
    number = chinese_number(int(m.group(1))) if m.group(1).isdigit() else m.group(1)
    tail = m.group(2) or ""
    tail = chinese_number(int(tail)) if tail.isdigit() else tail
    return f"第{number}条" + (f"之{tail}" if tail else "")


def find_quotes(draft: str) -> list[Quote]:
    """Every quotation in a draft, in order (see the module's docstring)."""
    quotes: list[Quote] = []
    starts, ends = [], []  # the quoted spans, marks included, in order and never overlapping
    for m in _QUOTED.finditer(draft):
        group = next(i for i in range(1, 5) if m.group(i) is not None)
        text, start, end = m.group(group), m.start(group), m.end(group)
        starts.append(m.start())
        ends.append(m.end())
        if significant(text) < MIN_CHARS:
            continue
        after = _AFTER.match(draft, m.end())  # “…”（《慈善法》第十条）: the nearest naming wins
        title, article = (after.group(1), after.group(2) or "") if after else _named_before(draft, m.start())
        quotes.append(Quote(text, start, end, title, article_label(article)))
    stated_end = 0
    for m in _STATES.finditer(draft):
        if (draft[m.end():m.end() + 1] in _OPENING or m.start() < stated_end or _inside(starts, ends, m.start())
                or _STATES.match(draft, m.end())):
            continue  # a quotation follows (read above, with this source), this sits in another, or
            # another naming follows (根据《X》第一条，依照《Y》第二条规定，…: the nearer one states it)
        stop = _SENTENCE_END.search(draft, m.end())
        end = stop.start() if stop else len(draft)
        text = draft[m.end():end].rstrip()
        at = bisect.bisect_right(ends, m.end())  # the first quoted span ending after the sentence starts
        if significant(text) < MIN_CHARS or (at < len(starts) and starts[at] < end):
            continue
        title = m.group(1) or m.group(3)
        article = m.group(2) or m.group(4) or ""
        quotes.append(Quote(text, m.end(), m.end() + len(text), title, article_label(article), "stated"))
        stated_end = end
    return sorted(quotes, key=lambda q: q.start)


def _inside(starts: list[int], ends: list[int], at: int) -> bool:
    i = bisect.bisect_right(starts, at) - 1
    return i >= 0 and at < ends[i]


def _named_before(draft: str, at: int) -> tuple[str, str]:
    """The source named in the sentence before a quotation: (title, article), "" for what is not named.
    The naming nearest the quotation wins; a bare 第N条 takes the last title named before it in the
    paragraph (《慈善法》第十条规定：“…”，第十二条规定：“…” → 慈善法 第十二条)."""
    window_start = max(0, at - LOOK_BACK)
    window = draft[window_start:at]
    cut = max(window.rfind(mark) for mark in "。！？\n") + 1
    named = [(m.end(), 1, m.group(1), m.group(2) or "") for m in _SOURCE.finditer(window, cut)]
    named += [(m.end(), 0, None, m.group(1)) for m in _BARE_ARTICLE.finditer(window, cut)]
    if not named:
        return "", ""
    end, _, title, article = max(named)
    if title is None:
        paragraph_start = draft.rfind("\n", 0, at) + 1
        earlier = list(_SOURCE.finditer(draft, paragraph_start, window_start + end - len(article)))
        title = earlier[-1].group(1) if earlier else ""
    return title, article
