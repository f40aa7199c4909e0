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

import re
import unicodedata
from dataclasses import dataclass

from ingest.articles import ARTICLE, NUMERAL
from kb.language.query import chinese_number

MIN_CHARS = 8  # a quotation shorter than this is a term or a name, not a quotation
LOOK_BACK = 120  # how far before a quotation its source may be named (within the sentence)

_QUOTED = re.compile(r"“([^“”]+)”|「([^「」]+)」|『([^『』]+)』|\"([^\"\n]+)\"")
_TITLE = r"《([^《》\n]{2,60})》"
_NUMBERED = rf"({ARTICLE})?(?:第[{NUMERAL}\d]+款)?(?:第[{NUMERAL}\d]+项)?"
_SOURCE = re.compile(rf"{_TITLE}\s*{_NUMBERED}")
_BARE_ARTICLE = re.compile(rf"(?<![》\w])(?:该法|本法|该条例|该办法)?({ARTICLE})")
_AFTER = re.compile(rf"\s*[（(]{_TITLE}\s*{_NUMBERED}[)）]")
# a sentence that names its source and then states it: 《X》第N条规定， / 根据《X》第N条的规定，
_STATES = re.compile(
    rf"(?:(?:根据|依据|依照|按照){_TITLE}\s*{_NUMBERED}(?:的?规定)?|{_TITLE}\s*{_NUMBERED}(?:中)?(?:明确)?规定)"
    r"\s*[：:，,]?\s*")
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
    taken: list[tuple[int, int]] = []
    for m in _QUOTED.finditer(draft):
        group = next(i for i in range(1, 5) if m.group(i) is not None)
        text, start, end = m.group(group), m.start(group), m.end(group)
        taken.append((m.start(), m.end()))
        if significant(text) < MIN_CHARS:
            continue
        title, article = _named_before(draft, m.start())
        after = _AFTER.match(draft, m.end())
        if after and not title:
            title, article = after.group(1), after.group(2) or ""
        quotes.append(Quote(text, start, end, title, article_label(article)))
    for m in _STATES.finditer(draft):
        if draft[m.end():m.end() + 1] in _OPENING or any(a <= m.start() < b for a, b in taken):
            continue  # a quotation follows: read above, with this source
        stop = _SENTENCE_END.search(draft, m.end())
        end = stop.start() if stop else len(draft)
        text = draft[m.end():end].rstrip()
        if significant(text) < MIN_CHARS or any(a < end and m.end() < b for a, b in taken):
            continue
        title = m.group(1) or m.group(3)
        article = m.group(2) or m.group(4) or ""
        quotes.append(Quote(text, m.end(), m.end() + len(text), title, article_label(article), "stated"))
    return sorted(quotes, key=lambda q: q.start)


def _named_before(draft: str, at: int) -> tuple[str, str]:
    """The source named in the sentence before a quotation: (title, article), "" for what is not named.
    A bare 第N条 there takes the last title named earlier in the same paragraph."""
    window_start = max(0, at - LOOK_BACK)
    window = draft[window_start:at]
    cut = max(window.rfind(mark) for mark in "。！？\n")
    window = window[cut + 1:]
    sources = list(_SOURCE.finditer(window))
    if sources:
        last = sources[-1]
        return last.group(1), last.group(2) or ""
    bare = list(_BARE_ARTICLE.finditer(window))
    if not bare:
        return "", ""
    paragraph_start = draft.rfind("\n", 0, at) + 1
    earlier = list(_SOURCE.finditer(draft, paragraph_start, window_start + cut + 1))
    return (earlier[-1].group(1) if earlier else ""), bare[-1].group(1)
