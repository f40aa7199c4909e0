"""Reading a query, once: `analyse` gives the QueryPlan (quoted phrases, glossary expansions, a
citation typed as a query such as 社会救助暂行办法第十一条, the places named, intents, keyword terms);
Chinese numerals; law titles in the one form used to compare them. No model, no store."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ingest.articles import NUMERAL
from kb.language.places import Place, ends_in_place, leading_names, places_in

if TYPE_CHECKING:  # only types here: reading a query needs no jieba (the caller's `words` has it)
    from kb.language.words import Glossary, Intent, Tokenize

CN_DIGITS = "零一二三四五六七八九"
_MAX_ARTICLE_DIGITS = 4  # 第9999条 at most
_PHRASE = re.compile(r'"([^"]+)"|“([^”]+)”|「([^」]+)」')
_CITATION = re.compile(
    rf"《?([\u4e00-\u9fff（）()〈〉]{{2,40}}?)》?\s*第\s*([{NUMERAL}\d]+)\s*条(?:之([{NUMERAL}]+))?"
)


# A trailing version mark: a date, or a year with what happened in it — (2019-03-02), （2018年修正）,
# （2018年10月26日第四次修正）, （2020年5月28日通过）. A bare year (宪法修正案（1988年）) names the document.
_VERSION_MARK = re.compile(
    r"[（(]\d{4}(?:-\d{1,2}-\d{1,2}|年[^（）()]*?(?:月|日|修|通过|公布|施行|版)[^（）()]*)[)）]$")


@dataclass
class ArticleRef:
    """A citation found in a query: the law's title (normalised) and the article as written in statutes."""

    title: str
    article: str  # 第十一条, 第十条之一


MAX_PHRASES = 5  # quoted phrases beyond these are searched as plain words (each is one SQL condition)


@dataclass(frozen=True)
class QueryPlan:
    """One reading of a query, made once per search (`analyse`); every later step reads it."""

    query: str  # as typed
    text: str  # without quote marks
    phrases: tuple[str, ...] = ()  # quoted: to be found as written
    expansions: tuple[str, ...] = ()  # the glossary's formal terms for the user's words (兜底 → 最低生活保障)
    citation: ArticleRef | None = None  # 社会救助暂行办法第十一条
    bare_citation: bool = False  # the query is that citation and nothing else: a lookup
    places: tuple[Place, ...] = ()  # the places it asks about, most specific first: named, else home
    intents: tuple[Intent, ...] = ()  # the kinds of fact it asks for (条件, 材料, 期限 ...)
    names_group: bool = False  # it names a special group (军人, 烈士 ...)
    words: tuple[str, ...] = ()  # its keyword terms, as the knowledge base cuts them
    expanded_words: tuple[str, ...] = ()  # ... of its text with the expansions

    @property
    def embedded_text(self) -> str:
        """What the model embeds: the text and its expansions."""
        return " ".join([self.text, *self.expansions])

    def without_phrases(self) -> QueryPlan:
        """The same query with its quoted words searched unquoted."""
        return replace(self, phrases=())


def analyse(query: str, glossary: Glossary | None = None, words: Tokenize | None = None,
            home: Place | None = None) -> QueryPlan:
    """Reads a query once: quoted phrases, glossary expansions, a citation, the places it asks about
    (those it names, else `home`, the office's own), the intents and groups of the glossary, and
    (given the knowledge base's `words`) its keyword terms."""
    # lone surrogates (from a broken paste or a hostile client) cannot be tokenised or stored
    query = query.encode("utf-8", "replace").decode("utf-8")
    phrases = [next(g for g in m.groups() if g) for m in _PHRASE.finditer(query)][:MAX_PHRASES]
    text = _PHRASE.sub(lambda m: " " + next(g for g in m.groups() if g) + " ", query).strip()
    expansions = tuple(glossary.expansions(text)) if glossary else ()
    citation = parse_citation(text)
    return QueryPlan(
        query=query, text=text, phrases=tuple(p.strip() for p in phrases if p.strip()), expansions=expansions,
        citation=citation, bare_citation=citation is not None and is_bare_citation(text),
        places=tuple(places_in(text)) or ((home,) if home else ()),
        intents=tuple(glossary.intents_in(text)) if glossary else (),
        names_group=bool(glossary and glossary.names_group(text)),
        words=tuple(words(text)) if words else (),
        expanded_words=tuple(words(" ".join([text, *expansions]))) if words and expansions else ())


def parse_citation(text: str) -> ArticleRef | None:
    """社会救助暂行办法第十一条 / 《慈善法》第10条 → ArticleRef("社会救助暂行办法", "第十一条").
    An article number in digits above 9999 names no article of any statute (the longest, 民法典,
    has 1260): such a query (第10000条, 第99999999999条) is no citation, and None is returned."""
    m = _CITATION.search(text)
    if not m:
        return None
    number = m.group(2)
    if number.isdigit():
        if len(number.lstrip("0")) > _MAX_ARTICLE_DIGITS:  # before int(): a long digit run is refused by it
            return None
        number = chinese_number(int(number))
    article = f"第{number}条" + (f"之{m.group(3)}" if m.group(3) else "")
    return ArticleRef(normalise_title(m.group(1)), article)


def is_bare_citation(text: str) -> bool:
    """Whether a query is a citation and nothing else (社会救助暂行办法第十一条, 《慈善法》第10条): a
    lookup, answered by the article alone, with no model needed."""
    m = _CITATION.search(text)
    return bool(m) and parse_citation(text) is not None and not text[:m.start()].strip(" 　《") \
        and not text[m.end():].strip(" 　。，,.;；?？")


def chinese_number(n: int) -> str:
    """11 → 十一, 105 → 一百零五 (article numbers as written in Chinese statutes); past 9999 in
    万: 10000 → 一万, 10010 → 一万零一十, 110000 → 十一万. ValueError below 0 or from 10⁸ (亿)."""
    if not 0 <= n < 100_000_000:
        raise ValueError(f"no Chinese numeral written here for {n}")
    if n < 10000:
        return _below_ten_thousand(n, bare_ten=True)
    high, low = divmod(n, 10000)
    out = _below_ten_thousand(high, bare_ten=True) + "万"
    if low:  # 一万零一十: after 零 a ten is written 一十
        out += ("零" if low < 1000 else "") + _below_ten_thousand(low, bare_ten=False)
    return out


def _below_ten_thousand(n: int, bare_ten: bool) -> str:
    if n < 10:
        return CN_DIGITS[n]
    units = [(1000, "千"), (100, "百"), (10, "十")]
    out, zero = "", False
    for value, name in units:
        digit, n = divmod(n, value)
        if digit:
            if zero:
                out += "零"
            out += ("" if value == 10 and digit == 1 and not out and bare_ten else CN_DIGITS[digit]) + name
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


# ------------------------------------------------------------------ a cited title → stored documents
# What kind of document a title names: the last word of every statute's title. 法典 before 法 and
# 办法 before 法, since the search takes the earliest (so the longest) ending.
_GENRE = re.compile(
    r"(?:法典|条例|办法|规定|细则|决定|意见|通知|解释|规则|规程|准则|章程|纲要|决议|批复|公告|规划|方案|法)"
    r"(?=(?:[（(][一二三四五六七八九十]+[)）])?$)")  # before an ordinal: …若干问题的解释（二）
# A known place's name less its admin suffix, for the short forms a citation writes (浙江省 → 浙江):
# recognising places is kb.language.places' job, for titles and questions alike.
_PLACE_NAME = re.compile(r"(.+?)(?:特别行政区|自治区|自治州|自治县|自治旗|地区|省|市|县|区|旗|盟)$")
# A trailing qualifier that informal citations leave out: 人民检察院刑事诉讼规则（试行）.
_QUALIFIER = re.compile(r"[（(](?:试行|暂行|草案)[)）]$")

EXACT, SUFFIX, ABBREVIATED = 0, 1, 2  # match classes, best first
_MIN_CORE = 2  # a title less its genre, for any match but equality: 殡葬条例 yes, 助条例 no
_MIN_CORE_TAIL = 5  # ... for the tail of a title that does not start with a place: 流浪乞讨人员救助管理办法
_MIN_COVER = (3, 5)  # an abbreviation keeps at least 3/5 of the title's characters (whole numbers: 6 of 10 is enough)
_MIN_EXACT_CUT = 3  # a title found by cutting words off the front, not after a lead-in: 慈善法 yes
# The words a sentence puts before a citation: 根据殡葬条例, 请问民法典, 我想知道慈善法, 民法典和慈善法,
# 新修订的慈善法.
# Dropped text that ends in one is a clean cut: what follows starts a title. Not the words that end
# inside titles too: 适用 (…适用法律若干问题的解释), 据 (数据), 用, 同 (合同), 在, 对, 照 (执照).
_LEAD_IN = re.compile(
    r"(?:根据|依据|按照|依照|参照|对照|遵照|比照|关于|对于|请问|想问|问下|问问|一下|知道|了解|查询|查找|查看|"
    r"看看|违反|引用|援引|结合|比如|例如|以及|还有|咨询|请教|按|依|看|找|查|问|和|与|及|或|的)$")


def match_titles(cited: str, titles: list[tuple[int, str]]) -> list[int]:
    """The ids of the documents a cited title names, in the order given; [] when none does.

    `cited` is the title as parse_citation captured it (it may carry leading words of the sentence:
    根据殡葬条例); `titles` are the stored documents' (id, title), raw or normalised. Every version of
    a law (one normalised title, several dates) is returned: the caller picks the newest.

    The captured text is tried whole, then less one leading character at a time (down to two
    characters); the first form that names any document decides, and of the documents it names
    only those in its best class (match_class) are returned. So 根据殡葬条例 finds 殡葬管理条例,
    浙江社会救助条例 finds only 浙江省社会救助条例 and 社会救助条例 every province's.

    A cut can fall inside a title (义务教育法 → 教育法, 食品安全法 → 安全法, 澳门基本法 → 基本法),
    so every match class holds only where the dropped text ends in a lead-in word (根据, 请问, 和, ...);
    after any other cut only a stored title exactly, of three characters or more, counts (新慈善法;
    but also 义务教育法 → 教育法 when 义务教育法 is not stored, as before). No cut goes past a
    place: the dropped text may not end in one (北京市, or 浙江 when a stored title names 浙江省), so
    北京市社会救助条例 and 浙江省殡葬管理条例 name nothing unless they are stored."""
    docs = [(doc_id, _Title.of(normalise_title(title))) for doc_id, title in titles]
    places = {form for _, doc in docs for level in doc.levels for form in _place_forms(level)}
    seen: set[str] = set()
    for cut in range(len(cited) - 1):
        dropped = cited[:cut]
        if cut and _ends_in_place(dropped, places):
            break
        form = normalise_title(cited[cut:])
        if len(form) < 2:
            break
        clean = not cut or bool(_LEAD_IN.search(dropped))
        if (form, clean) in seen:
            continue
        seen.add((form, clean))
        if clean:
            classes = {doc_id: _match_class(form, title) for doc_id, title in docs}
        elif len(form) >= _MIN_EXACT_CUT:
            classes = {doc_id: EXACT if title.title == form else None for doc_id, title in docs}
        else:
            continue
        # a tail (not a place's law) that ends several different titles is their boilerplate, no
        # name: 刑事案件具体应用法律若干问题的解释
        ending = [(doc_id, title) for doc_id, title in docs
                  if title.bare.endswith(form) and title.title != form and not _names_as_place(form, title)]
        if len({title.bare for _, title in ending}) > 1:
            classes.update({doc_id: None for doc_id, _ in ending if classes[doc_id] == SUFFIX})
        found = [c for c in classes.values() if c is not None]
        if found:
            best = min(found)
            return [doc_id for doc_id, c in classes.items() if c == best]
    return []


def match_class(cited: str, title: str) -> int | None:
    """How the normalised `cited` names the normalised `title`, best class first, or None:

    EXACT        equal: 慈善法 / 慈善法 (from 中华人民共和国慈善法), 社会救助暂行办法.
    SUFFIX       the title is a place and then the cited title, whose core (the title less its
                 genre ending) has at least 2 characters: 社会救助条例 / 浙江省社会救助条例,
                 杭州市X条例 / 浙江省杭州市X条例; or the title just ends with it, its core has at
                 least 5 characters and it keeps 60% of the title's characters:
                 流浪乞讨人员救助管理办法 / 城市生活无着的流浪乞讨人员救助管理办法 (match_titles
                 drops such a tail when it ends more than one distinct title: boilerplate).
    ABBREVIATED  the place shortened (浙江社会救助条例 / 浙江省社会救助条例, 广西… / 广西壮族自治区…,
                 杭州… / 浙江省杭州市…), or middle characters left out (殡葬条例 / 殡葬管理条例,
                 民诉法 / 民事诉讼法), or both (see _abbreviates); or equal but for （试行）."""
    return _match_class(cited, _Title.of(title))


@dataclass(frozen=True)
class _Title:
    """A stored title split once for every form of the citation tried against it."""

    title: str  # normalised
    bare: str  # less a trailing （试行）
    levels: tuple[str, ...]  # its place, level by level: 浙江省, 杭州市
    body: str  # what follows the place

    @classmethod
    def of(cls, title: str) -> _Title:
        bare = _QUALIFIER.sub("", title)
        levels, body = _split_place(bare)
        return cls(title, bare, tuple(levels), body)


def _match_class(cited: str, doc: _Title) -> int | None:
    if cited == doc.title:
        return EXACT
    cited = _QUALIFIER.sub("", cited)
    if cited == doc.bare:
        return ABBREVIATED
    levels, body = list(doc.levels), doc.body
    core = len(_core(cited))
    if core >= _MIN_CORE and _names_as_place(cited, doc):
        return SUFFIX
    if doc.bare.endswith(cited) and core >= _MIN_CORE_TAIL and _covers(cited, doc.bare):
        return SUFFIX
    # a title with a place is abbreviated only as place and body, each in its own right: 浙江省救助条例
    # does not name 浙江省社会救助条例 (救助条例 does not start as 社会救助条例 does)
    if any(_names_place(cited, levels[first:], body) for first in range(len(levels))):
        return ABBREVIATED
    if not levels and _abbreviates(cited, doc.bare):
        return ABBREVIATED
    return None


def _names_as_place(cited: str, doc: _Title) -> bool:
    """The title is a place and then the cited title: 社会救助条例 / 浙江省社会救助条例."""
    return any(cited == "".join(doc.levels[first:]) + doc.body for first in range(1, len(doc.levels) + 1))


def _ends_in_place(text: str, places: set[str]) -> bool:
    """根据北京市, 根据浙江 (浙江 among `places`): the words dropped from a citation end in a place."""
    return ends_in_place(text) or any(text[-k:] in places for k in range(2, min(len(text), 12) + 1))


def _split_place(title: str) -> tuple[list[str], str]:
    """浙江省杭州市社会救助条例 → (["浙江省", "杭州市"], "社会救助条例"); no place → ([], title).
    The places are those of kb.language.places (the table of divisions, as questions are read);
    what is taken for a place must leave a title with a genre ending behind it."""
    levels = leading_names(title)
    body = title[sum(map(len, levels)):]
    if not levels or len(_core(body)) < 1 or not _GENRE.search(body):
        return [], title
    return levels, body


def _place_forms(level: str) -> set[str]:
    """The ways a place is written in a citation: 浙江省 → 浙江省, 浙江; 广西壮族自治区 → 广西, 广西壮族,
    广西自治区, ... (any leading part of two characters or more, with or without the admin suffix)."""
    forms = {level} | {level[:k] for k in range(2, len(level))}
    m = _PLACE_NAME.match(level)
    if m:
        admin = level[len(m.group(1)):]
        forms |= {m.group(1)[:k] + admin for k in range(2, len(m.group(1)))}
    return forms


def _names_place(cited: str, levels: list[str], body: str) -> bool:
    """The cited title is a form of each of `levels` in turn (so it names the most local one) and
    then the body, whole or abbreviated."""
    if not levels:
        return cited == body or _abbreviates(cited, body)
    return any(cited.startswith(form) and _names_place(cited[len(form):], levels[1:], body)
               for form in _place_forms(levels[0]))


def _abbreviates(short: str, full: str) -> bool:
    """An informal title that leaves out middle characters: the same first character, the same
    genre ending (条例 is no 法: 婚姻登记条例 is not 婚姻法), a core of two characters or more, its
    characters found in order in the full title, and at least 60% of them: 殡葬条例 / 殡葬管理条例,
    社会团体条例 / 社会团体登记管理条例, 民诉法 / 民事诉讼法; not 刑法 / 刑事诉讼法 (40%)."""
    if not short or len(short) >= len(full) or short[0] != full[0]:
        return False
    genre, full_genre = _GENRE.search(short), _GENRE.search(full)
    if not genre or not full_genre or short[genre.start():] != full[full_genre.start():]:
        return False  # the genre and any ordinal: …的解释 is not …的解释（二）
    if len(_core(short)) < _MIN_CORE or not _covers(short, full):
        return False
    rest = iter(full)
    return all(ch in rest for ch in short)


def _covers(short: str, full: str) -> bool:
    return len(short) * _MIN_COVER[1] >= len(full) * _MIN_COVER[0]


def _core(title: str) -> str:
    """The title less its genre ending: 殡葬管理条例 → 殡葬管理, 若干问题的解释（二） → 若干问题的."""
    m = _GENRE.search(title)
    return title[: m.start()] if m else title
