"""法条联想: what an article is tied to, read from the library's own texts.

The references in each stored document (kb.language.references) are read once per document (by
id and content hash: a document is read again only when it changes, and a removed one drops out at
the next generation) and resolved to stored documents by title (match_titles). For one article:
- cites: the articles it refers to (its own law's or another's; a law not in the library is listed
  as named, with in_library false);
- cited_by: the articles, in force, that refer to it, and the rules that name its law as their basis
  (根据《社会救助暂行办法》…制定本条例);
- versions: the same article in the law's other stored versions, found by its text (its number may
  have changed): unchanged, changed or not found;
- local: local rules (of `place`, when given) that rest on its law or cite it, each with its
  article on the same matter (the citing article, else the rule's best keyword match).
"""

from __future__ import annotations

import re

from ingest.articles import ARTICLE
from kb.errors import DocumentNotFound
from kb.language.align import locate, normalise
from kb.language.places import Place, place_by_name
from kb.language.query import match_titles, normalise_title, parse_citation
from kb.language.references import Reference, references_in
from kb.types import Filters

IN_FORCE = "现行有效"
SAME_ARTICLE = 0.5  # an article this alike to a window of another version is that version's article
LOCAL_MATCHES = 20
_NUMBER = re.compile(rf"^\s*{ARTICLE}\s*")


class Related:
    def __init__(self, kb):
        self.kb = kb
        self.store = kb.store
        self._refs: dict[tuple[int, str], list[tuple[Reference, str]]] = {}  # (id, hash) → (reference, its article)
        self._resolved: dict[str, list[int]] = {}
        self._names_law: dict[tuple[str, str], bool] = {}
        self._members: dict[str, dict[int, dict]] = {}  # law → its stored versions
        self._generation = -1

    def articles(self, doc_id: int) -> list[str]:
        """A document's numbered articles, in order (第一条, 第二条 …); [] for a speech or a report."""
        return [number for number, *_ in self.store.articles(doc_id)]

    # ------------------------------------------------------------------ the article asked about
    def of(self, ref: str, place: str | None = None) -> dict:
        """`ref`: 社会救助暂行办法第十一条 (as typed in a search). Raises DocumentNotFound."""
        cited = parse_citation(ref)
        if cited is None:
            raise DocumentNotFound(ref, "请写成“法规名称第N条”，如：社会救助暂行办法第十一条")
        self._refresh()
        statuses = self.kb.versions.statuses()
        docs = {d["id"]: d for d in self.store.documents()}
        named = [d for d in match_titles(cited.title, [(i, d["title"]) for i, d in docs.items()])
                 if self.store.article_span(d, cited.article)]
        if not named:
            raise DocumentNotFound(ref, f"知识库中没有《{cited.title}》{cited.article}")
        named.sort(key=lambda i: (statuses.get(i) == IN_FORCE, docs[i]["date"]), reverse=True)
        return self.for_article(named[0], cited.article, place)

    def for_article(self, doc_id: int, article: str, place: str | None = None) -> dict:
        self._refresh()
        asked = place_by_name(place) if place else None
        if place and asked is None:
            raise DocumentNotFound(place, "无法识别的地名（可写 浙江、浙江省、杭州市 等）")
        docs = {d["id"]: d for d in self.store.documents()}
        if doc_id not in docs or not self.store.article_span(doc_id, article):
            raise DocumentNotFound(f"{doc_id} {article}", "没有这一条")
        return {"article": self._entry(docs[doc_id], article), "cites": self._cites(docs, doc_id, article),
                "cited_by": self._cited_by(docs, doc_id, article), "versions": self._versions(docs, doc_id, article),
                "local": self._local(docs, doc_id, article, asked)}

    # ------------------------------------------------------------------ the four lists
    def _cites(self, docs: dict, doc_id: int, article: str) -> list[dict]:
        out = []
        for ref, citing in self._references(docs[doc_id]):
            if citing != article or ref.kind != "article":
                continue
            target = self._target(docs, doc_id, ref.title)
            for number in ref.articles:
                if target is not None and self.store.article_span(target, number):
                    out.append({**self._entry(docs[target], number), "in_library": True})
                elif ref.title or number != article:
                    out.append({"title": ref.title or docs[doc_id]["title"], "article": number, "doc_id": None,
                                "in_library": False})
        return _unique(out)

    def _cited_by(self, docs: dict, doc_id: int, article: str) -> list[dict]:
        law = self._law(doc_id)
        statuses = self.kb.versions.statuses()
        out = []
        for other, d in docs.items():
            if statuses.get(other, IN_FORCE) != IN_FORCE:
                continue
            for ref, citing in self._references(d):
                aims_here = self._law(other) == law if not ref.title else self._names(ref.title, law, docs)
                if not aims_here or (other == doc_id and citing == article):
                    continue
                if ref.kind == "basis":
                    out.append({**self._entry(d, citing), "kind": "basis"})
                elif article in ref.articles:
                    out.append({**self._entry(d, citing), "kind": "article"})
        return _unique(out)

    def _versions(self, docs: dict, doc_id: int, article: str) -> list[dict]:
        versions = self.kb.versions.now()
        body = self._body(doc_id, article)
        out = []
        for other, date in sorted(versions.dates.get(versions.law_of.get(doc_id), []), key=lambda v: v[1]):
            if other == doc_id or other not in docs:
                continue
            text = normalise(self.store.document(other).text)
            located = locate(body.text, text.text)
            similarity = located.similarity(len(body.text)) if located else 0.0
            entry = {"title": docs[other]["title"], "date": date, "doc_id": other,
                     "version_status": versions.status.get(other, ""), "similarity": round(similarity, 3)}
            if similarity >= SAME_ARTICLE:
                at = text.original_span(located.start, located.end)[0]
                number = next((a for a, _, s, e in self.store.articles(other) if s <= at < e), "")
                entry.update(article=number, status="unchanged" if located.distance == 0 else "changed")
            else:
                entry.update(article="", status="not_found")
            out.append(entry)
        return out

    def _local(self, docs: dict, doc_id: int, article: str, asked: Place | None) -> list[dict]:
        """Local rules resting on (or citing) the article's law, of the asked place and the places above it."""
        law = self._law(doc_id)
        words: list[str] | None = None  # the article's keywords, cut only when a local rule needs them
        out = []
        for other, d in docs.items():
            if not d["jurisdiction"] or self._law(other) == law:
                continue
            if asked is not None and not (Place(d["jurisdiction"]).contains(asked) or asked.contains(
                    Place(d["jurisdiction"]))):
                continue
            links = [(ref, citing) for ref, citing in self._references(d)
                     if ref.title and self._names(ref.title, law, docs)]
            if not links:
                continue
            citing = next((c for ref, c in links if article in ref.articles), None)
            why = "引用本条" if citing else "以本法为依据"
            if not citing and words is None:
                words = self.kb.words(self._body(doc_id, article).original)[:32]
            citing = citing or self._same_matter(other, words)
            if citing:
                out.append({**self._entry(d, citing), "why": why,
                            "jurisdiction": Place(d["jurisdiction"]).label})
        return _unique(out)

    def _same_matter(self, local_id: int, words: list[str]) -> str:
        """The article of a local rule on the same matter as the article of `words`: its best keyword match."""
        ranked = self.store.keyword_search(words, LOCAL_MATCHES, Filters(doc_ids=[local_id]))
        rows = self.store.chunks([c for c, _ in ranked])
        return next((rows[c]["article"] for c, _ in ranked if c in rows and rows[c]["article"]), "")

    # ------------------------------------------------------------------ reading and resolving
    def _refresh(self) -> None:
        generation = self.kb.generation
        if generation != self._generation:
            present = {(d["id"], d["content_hash"]) for d in self.store.documents()}
            self._refs = {key: refs for key, refs in self._refs.items() if key in present}
            self._resolved, self._names_law, self._members = {}, {}, {}
            self._generation = generation

    def _references(self, doc: dict) -> list[tuple[Reference, str]]:
        key = (doc["id"], doc["content_hash"])
        if key not in self._refs:
            text = self.store.document(doc["id"]).text
            articles = self.store.articles(doc["id"])
            first_end = articles[0][3] if articles else None
            self._refs[key] = [(ref, next((a for a, _, s, e in articles if s <= ref.at < e), ""))
                               for ref in references_in(text, first_end)]
        return self._refs[key]

    def _titled(self, title: str, docs: dict) -> list[int]:
        if title not in self._resolved:
            self._resolved[title] = match_titles(title, [(i, d["title"]) for i, d in docs.items()])
        return self._resolved[title]

    def _names(self, title: str, law: str, docs: dict) -> bool:
        """Whether a cited title names `law` among all stored documents. Asked first of the law's own
        versions alone (a title that cannot name them there cannot among all): resolving every title
        the library cites against every title took 30 s on the full statute corpus."""
        key = (title, law)
        if key not in self._names_law:
            own = self._members.get(law)
            if own is None:
                own = self._members[law] = {i: d for i, d in docs.items() if self._law(i) == law}
            self._names_law[key] = bool(match_titles(title, [(i, d["title"]) for i, d in own.items()])) and \
                law in {self._law(i) for i in self._titled(title, docs)}
        return self._names_law[key]

    def _target(self, docs: dict, doc_id: int, title: str) -> int | None:
        """The document a reference names: its own for 本法; else the newest version in force of the law."""
        if not title or normalise_title(title) == normalise_title(docs[doc_id]["title"]):
            return doc_id
        statuses = self.kb.versions.statuses()
        found = sorted(self._titled(title, docs), key=lambda i: (statuses.get(i) == IN_FORCE, docs[i]["date"]))
        return found[-1] if found else None

    def _law(self, doc_id: int) -> str:
        return self.kb.versions.now().law_of.get(doc_id, f"#{doc_id}")

    def _body(self, doc_id: int, article: str):
        """An article's text without its number (which another version may have changed), normalised."""
        span = self.store.article_span(doc_id, article)
        return normalise(_NUMBER.sub("", self.store.document_text(doc_id, span[1], span[2])) if span else "")

    def _entry(self, doc: dict, article: str) -> dict:
        span = self.store.article_span(doc["id"], article) if article else None
        text = self.store.document_text(doc["id"], span[1], span[2]).strip() if span else ""
        return {"title": doc["title"], "article": article, "doc_id": doc["id"], "date": doc["date"],
                "chunk_id": span[0] if span else None, "start": span[1] if span else None,
                "end": span[2] if span else None, "text": text}


def _unique(entries: list[dict]) -> list[dict]:
    seen, out = set(), []
    for e in entries:
        key = (e.get("doc_id"), e.get("title"), e.get("article"))
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out
