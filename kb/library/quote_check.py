"""引文核对: every quotation in a draft checked against the knowledge base, word for word.

Each quotation (kb.language.quotes) is looked for in the documents its words point to (the keyword
index's best passages) and in the document the draft names; in each it is aligned character by
character (kb.language.align). The closest window decides:
- not_found: nothing close enough (CLOSE);
- outdated: it is closest to a version no longer in force (or a repealed rule), and the version
  in force differs there; `current` is the wording in force;
- wrong_article: the text is article M, the draft says N (or it names another law);
- differs: close, with each missing, added and changed character;
- exact: word for word (punctuation, spaces and full/half width aside).
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from ingest.articles import ARTICLE
from kb.errors import QueryError
from kb.language.align import Located, Normalised, differences, locate, locate_parts, normalise
from kb.language.query import match_titles
from kb.language.quotes import Quote, find_quotes
from kb.store.db import citation_from_row
from kb.types import Hit

STATUSES = {"exact": "一字不差", "differs": "有出入", "wrong_article": "条号有误", "outdated": "引自旧版",
            "not_found": "未找到出处"}
IN_FORCE = "现行有效"
CLOSE = 0.75  # similarity at which a window is the quotation's source, misquoted ...
CLOSE_EDITS = 3  # ... or this many characters changed, dropped or added, if at least SHORT_CLOSE alike
SHORT_CLOSE = 0.6
REWRITTEN = 0.35  # an old article this alike to a window of the version in force was rewritten there, not deleted
CANDIDATE_PASSAGES = 20  # keyword hits whose documents a quotation is aligned in
CANDIDATE_DOCUMENTS = 8
MAX_DRAFT_CHARS = 200_000
MAX_QUOTE_CHARS = 1000  # longer is an unclosed quotation mark swallowing paragraphs, not a quotation
MAX_QUOTES = 500  # about 5 s of checking: a server holds its lock no longer for one request
_NUMBER = re.compile(rf"^\s*{ARTICLE}\s*")  # an article's number, before its text
CACHED_DOCUMENTS = 64


@dataclass
class QuoteResult:
    quote: Quote
    status: str
    source: dict | None = None  # title, article, date, citation ... of the closest window
    current: str = ""  # the source's wording (the version in force, for an outdated quotation)
    similarity: float = 0.0
    differences: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, quoted, source)
    note: str = ""  # why, in a sentence, for wrong_article and outdated
    hit: Hit | None = None  # the source passage, for a basket

    def to_dict(self) -> dict:
        return {"text": self.quote.text, "start": self.quote.start, "end": self.quote.end, "status": self.status,
                "label": STATUSES[self.status], "claimed": {"title": self.quote.title, "article": self.quote.article},
                "source": self.source, "current": self.current, "similarity": round(self.similarity, 3),
                "differences": [list(d) for d in self.differences if d[0] != "equal"], "note": self.note}


@dataclass
class CheckReport:
    draft: str
    results: list[QuoteResult]
    seconds: float

    def counts(self) -> dict[str, int]:
        return {status: sum(r.status == status for r in self.results) for status in STATUSES}

    def to_dict(self) -> dict:
        return {"quotes": [r.to_dict() for r in self.results], "counts": self.counts(),
                "seconds": round(self.seconds, 3)}


@dataclass
class _Window:
    doc_id: int
    located: Located
    text: Normalised


class QuoteChecker:
    """Checks drafts against one knowledge base (`kb.check`)."""

    def __init__(self, kb):
        self.kb = kb
        self.store = kb.store
        self._texts: OrderedDict[int, Normalised] = OrderedDict()
        self._articles: dict[int, list[tuple[str, str, int, int]]] = {}
        self._generation = -1

    def check(self, draft: str) -> CheckReport:
        if len(draft) > MAX_DRAFT_CHARS:
            raise QueryError("稿件", f"稿件过长（{len(draft)} 字），一次最多核对 {MAX_DRAFT_CHARS} 字，请分段核对")
        began = time.perf_counter()
        if self._generation != self.kb.generation:  # a document may have been replaced or removed
            self._texts.clear()
            self._articles.clear()
            self._generation = self.kb.generation
        quotes = find_quotes(draft)
        if len(quotes) > MAX_QUOTES:
            raise QueryError("稿件", f"稿件中有 {len(quotes)} 处引文，一次最多核对 {MAX_QUOTES} 处，请分段核对")
        titles = [(doc_id, title) for doc_id, title, _ in self.store.titles()]
        results = [self.check_quote(q, titles) for q in quotes]
        return CheckReport(draft, results, time.perf_counter() - began)

    def check_quote(self, quote: Quote, titles: list[tuple[int, str]]) -> QuoteResult:
        parts = [normalise(p).text for p in quote.parts()]  # text left out (……) is no difference
        wanted = "".join(parts)
        if len(wanted) > MAX_QUOTE_CHARS:
            return QuoteResult(quote, "not_found", note=f"引文过长（{len(wanted)} 字），未逐字核对：是否缺了后引号？")
        claimed = match_titles(quote.title, titles) if quote.title else []
        windows = [w for w in (self._align(parts, doc_id) for doc_id in self._candidates(quote, claimed)) if w]
        statuses = self.kb.versions.statuses()
        if not windows:
            return QuoteResult(quote, "not_found")
        # closest first; of equals, a version in force, then the document the draft names
        windows.sort(key=lambda w: (w.located.distance, statuses.get(w.doc_id, IN_FORCE) != IN_FORCE,
                                    w.doc_id not in claimed))
        best = windows[0]
        similarity = best.located.similarity(len(wanted))
        if not (similarity >= CLOSE or (best.located.distance <= CLOSE_EDITS and similarity >= SHORT_CLOSE)):
            return QuoteResult(quote, "not_found", similarity=similarity)
        pieces = best.located.pieces or [(best.located.start, best.located.end)]
        found = [(part, best.text.text[a:b]) for part, (a, b) in zip(parts, pieces)]
        start, end = _with_marks(best.text.original, *best.text.original_span(best.located.start, best.located.end))
        source, hit = self._source(best.doc_id, start, end)
        result = QuoteResult(quote, "exact" if best.located.distance == 0 else "differs", source,
                             self.store.document_text(best.doc_id, start, end), similarity,
                             [d for part, text in found for d in differences(part, text)], hit=hit)
        if statuses.get(best.doc_id, IN_FORCE) != IN_FORCE:
            self._outdated(result, best, wanted)
        elif quote.article and source["article"] and quote.article != source["article"] and (
                not claimed or self._same_law(best.doc_id, claimed)):
            result.status = "wrong_article"
            result.note = f"这段文字出自{source['article']}，稿件写的是{quote.article}"
        elif claimed and not self._same_law(best.doc_id, claimed):
            result.status = "wrong_article"
            result.note = f"这段文字出自《{source['title']}》{source['article']}，不是《{quote.title}》"
        return result

    # ------------------------------------------------------------------ finding the source
    def _candidates(self, quote: Quote, claimed: list[int]) -> list[int]:
        words = self.kb.words(quote.text)[:32]
        ranked = self.store.keyword_search(words, CANDIDATE_PASSAGES)
        rows = self.store.chunks([chunk_id for chunk_id, _ in ranked])
        docs = list(dict.fromkeys(rows[c]["doc_id"] for c, _ in ranked if c in rows))[:CANDIDATE_DOCUMENTS]
        # every version of each law found: an outdated quotation is told by the version in force
        law_of, dates = self.kb.versions.now().law_of, self.kb.versions.now().dates
        versions = [other for d in docs for other, _ in dates.get(law_of.get(d, ""), [])]
        return list(dict.fromkeys([*claimed, *docs, *versions]))

    def _align(self, parts: list[str], doc_id: int) -> _Window | None:
        text = self._text(doc_id)
        located = locate_parts(parts, text.text)
        return _Window(doc_id, located, text) if located else None

    def _text(self, doc_id: int) -> Normalised:
        if doc_id in self._texts:
            self._texts.move_to_end(doc_id)
            return self._texts[doc_id]
        doc = self.store.document(doc_id)
        text = normalise(doc.text if doc else "")
        self._texts[doc_id] = text
        if len(self._texts) > CACHED_DOCUMENTS:
            self._texts.popitem(last=False)
        return text

    def _source(self, doc_id: int, start: int, end: int) -> tuple[dict, Hit | None]:
        """The citation of the passage holding [start, end) of a document, and that passage as a hit."""
        article = self._article_at(doc_id, start) or ("", "")
        chunk_id = (self.store.article_span(doc_id, article[0]) or (None,))[0] if article[0] else \
            self.store.chunk_at(doc_id, start)
        hit = self.kb.searcher.passage_hit(chunk_id) if chunk_id is not None else None
        row = self.store.chunks([chunk_id])[chunk_id] if chunk_id is not None else None
        doc = self.store.document(doc_id)
        status = self.kb.versions.statuses().get(doc_id, "")
        citation = hit.citation.format() if hit else f"《{doc.title}》"
        return ({"doc_id": doc_id, "chunk_id": chunk_id, "title": doc.title, "article": article[0],
                 "heading": article[1], "date": doc.date, "doc_number": row["doc_number"] if row else "",
                 "issuer": row["issuer"] if row else "", "citation": citation, "version_status": status,
                 "start": start, "end": end, "dated": citation_from_row(row).dated() if row else doc.date}, hit)

    def _same_law(self, doc_id: int, claimed: list[int]) -> bool:
        law_of = self.kb.versions.now().law_of
        return doc_id in claimed or law_of.get(doc_id) in {law_of.get(c) for c in claimed}

    # ------------------------------------------------------------------ versions
    def _outdated(self, result: QuoteResult, best: _Window, wanted: str) -> None:
        """A quotation closest to a version no longer in force: the wording in force instead. The old
        article is found in the version in force by its text (its number may have changed), and the
        quotation within it."""
        versions = self.kb.versions.now()
        result.status = "outdated"
        in_force = sorted((date, doc_id) for doc_id, date in versions.dates.get(versions.law_of.get(best.doc_id), [])
                          if versions.status.get(doc_id) == IN_FORCE)
        old = result.source
        if not in_force:
            result.note = f"《{old['title']}》（{old['date']}）{old['version_status'] or '已失效'}，没有现行版本"
            return
        new_id = in_force[-1][1]
        new, new_doc = self._text(new_id), self.store.document(new_id)
        quoted = f"引自{old['date']}版{old['article']}"
        located = locate(wanted, new.text)
        if located and located.similarity(len(wanted)) >= SHORT_CLOSE:  # the sentence, reworded
            start, end = _clause(new.original, *new.original_span(located.start, located.end))
            result.current = new.original[start:end].strip()
            now = self._article_at(new_id, start)
            result.note = f"{quoted}，现行版本（{new_doc.date}）{now[0] if now else ''}的表述不同"
            return
        article = None
        if old["article"]:  # the sentence is gone: the article, found by its text (its number may have changed)
            span = self.store.article_span(best.doc_id, old["article"])
            body = normalise(_NUMBER.sub("", self.store.document_text(best.doc_id, span[1], span[2]))).text
            placed = locate(body, new.text)
            if placed and placed.similarity(len(body)) >= REWRITTEN:
                article = self._article_at(new_id, new.original_span(placed.start, placed.end)[0])
        if article:
            result.current = new.original[article[2]:article[3]].strip()
            result.note = f"{quoted}，现行版本（{new_doc.date}）{article[0]}已改写，原句不再保留"
        else:
            result.note = f"{quoted}，现行《{new_doc.title}》（{new_doc.date}）已无此内容"

    def _article_at(self, doc_id: int, offset: int) -> tuple[str, str, int, int] | None:
        """(number, chapter, start, end) of the article of a document that holds a character offset."""
        if doc_id not in self._articles:
            self._articles[doc_id] = self.store.articles(doc_id)
        return next((a for a in self._articles[doc_id] if a[2] <= offset < a[3]), None)


_OPENERS, _CLOSERS, _CLAUSE_END = "（(〔【“‘《", "）)〕】”’》", "。；：\n"


def _clause(text: str, start: int, end: int) -> tuple[int, int]:
    """A located window widened to the clause it stands in: from after the previous 。；： or line
    end to the next 。 or ； (inclusive)."""
    while start > 0 and text[start - 1] not in _CLAUSE_END:
        start -= 1
    while end < len(text) and text[end - 1] not in _CLAUSE_END:
        end += 1
    return start, end


def _with_marks(text: str, start: int, end: int) -> tuple[int, int]:
    """A window's span with the brackets and quotation marks right around it: （四）, not 四）."""
    while start > 0 and text[start - 1] in _OPENERS:
        start -= 1
    while end < len(text) and text[end] in _CLOSERS:
        end += 1
    return start, end
