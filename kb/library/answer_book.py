"""The window's approved answers (口径库, after GB/T 44191-2024): a clerk confirms which article
answered a question (答对了); confirmations gather under a 标准问 with its 相似问; an editor reviews an
item before it counts. An approved item answers a new question near one of its questions: its
articles come first in search and ask, marked 本窗口已确认.

An approved item is 待复核, and stops counting, when a law it cites has a newer version or is
repealed (the version it was confirmed on is stored), or when its review date has passed.
Questions nothing answered are logged too, for the librarian to fill (未命中).
Import and export use the `{"query", "relevant": [{"title", "article"}]}` lines `kb train` reads."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from ingest import DOC_TYPES
from kb.errors import AnswerError, StudyKBError
from kb.language.query import ArticleRef, QueryPlan, normalise_title
from kb.search.precedents import SAME_QUESTION, Precedents
from kb.search.searcher import elsewhere
from kb.search.train import article_name, read_pairs
from kb.store import answers as rows
from kb.store.answers import APPROVED, DRAFT, AnswerItem
from kb.types import Filters, Hit

__all__ = ["STATES", "AnswerBook", "AnswerItem"]
log = logging.getLogger(__name__)

MATCH = SAME_QUESTION  # how close a question must be to an approved one to take its answer
STATES = {DRAFT: "待审核", APPROVED: "已审核", "recheck": "待复核"}
QUESTION_CHARS = 200
LOG_WAIT_MS = 200  # an unanswered question is logged only if the write lock is free within this


class AnswerBook:
    """The 口径库 of one knowledge base. `kb`: its KnowledgeBase (store, versions, searcher)."""

    def __init__(self, kb, default_actor: Callable[[], str] = lambda: ""):
        self.kb = kb
        self.store = kb.store
        self.default_actor = default_actor
        self._index: tuple[str, np.ndarray, list[int]] = ("", np.zeros((0, 1), np.float32), [])

    # ------------------------------------------------------------ reading
    def generation(self) -> int:
        """Changes with every change to the items (in any process): a view of search results keys on it."""
        return int(self.store.get_meta("answers_generation") or 0)

    def items(self, state: str = "") -> list[AnswerItem]:
        """Every item, or those in one state (draft, approved, recheck), oldest first."""
        return [i for i in rows.items(self.store) if not state or self.state(i) == state]

    def item(self, item_id: int) -> AnswerItem:
        found = rows.item(self.store, item_id)
        if found is None:
            raise AnswerError(str(item_id), "口径库中没有这一条")
        return found

    def state(self, item: AnswerItem, today: str = "", newest: dict | None = None) -> str:
        """draft, approved, or recheck (approved, but a cited law changed or the review date passed)."""
        if item.status != APPROVED:
            return DRAFT
        if item.review_due and item.review_due < (today or dt.date.today().isoformat()):
            return "recheck"
        return "recheck" if self.changed_laws(item, newest) else APPROVED

    def changed_laws(self, item: AnswerItem, newest: dict | None = None) -> list[str]:
        """Why a cited law no longer stands as confirmed: 《X》已有新版本 / 已废止 / 已不在文库中.
        `newest`: title → its versions (see _versions), for checking many items at once."""
        out = []
        for cited in item.articles:
            versions = newest[cited["title"]] if newest and cited["title"] in newest else self.kb.versions.of(
                cited["title"])
            if not versions:
                out.append(f"《{cited['title']}》已不在文库中")
            elif versions[-1]["version_status"] == "已废止":
                out.append(f"《{cited['title']}》已废止")
            elif cited.get("date") and versions[-1]["date"] > cited["date"]:
                out.append(f"《{cited['title']}》已有 {versions[-1]['date']} 新版本")
        return out

    def to_dict(self, item: AnswerItem) -> dict:
        state = self.state(item)
        return {**item.__dict__, "state": state, "state_label": STATES[state],
                "why_recheck": self.changed_laws(item) if state == "recheck" else []}

    # ------------------------------------------------------------ changes
    def confirm(self, question: str, hit: Hit | ArticleRef, actor: str = "") -> int:
        """A clerk's 答对了: the question and the article that answered it. Joins the draft with the
        same articles (as a 相似问), else starts one; returns the item's id."""
        question = _question(question)
        cited = self._cited(hit)
        actor = actor or self.default_actor()
        with self.store.transaction():
            rows.log_question(self.store, actor, question, True, cited["title"], cited["article"])
            item_id = self._gather(question, [cited], actor)
            self.store.log(actor, "确认答案", f"{question} → 《{cited['title']}》{cited['article']}")
            self._changed()
        return item_id

    def log_unanswered(self, question: str, actor: str = "") -> None:
        """A question nothing answered (未命中): the librarian's list of what to fill. Never in the way
        of the answer: while another process holds the write lock past SQLite's wait, it is not logged."""
        conn = self.store.conn
        waits = conn.execute("PRAGMA busy_timeout").fetchone()[0]
        conn.execute(f"PRAGMA busy_timeout = {LOG_WAIT_MS}")
        try:
            rows.log_question(self.store, actor or self.default_actor(), _question(question), False)
        except (sqlite3.OperationalError, AnswerError) as exc:
            log.warning("未命中的问题未记录（%s）", exc)
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(waits)}")

    def approve(self, item_id: int, actor: str = "", review_due: str = "", text: str | None = None) -> int:
        """An editor's 审核: the item counts from now, with the laws as they stand. A draft whose
        articles an approved item already has joins it as 相似问 (its 口径 text is kept unless a new
        one is given). Returns the approved item's id."""
        actor = actor or self.default_actor()
        if review_due:
            try:
                review_due = dt.date.fromisoformat(review_due.strip()).isoformat()  # 20250101 → 2025-01-01
            except ValueError as exc:
                raise AnswerError(review_due, "复核日期应为 YYYY-MM-DD 格式的日期") from exc
        articles = [self._cited(ArticleRef(a["title"], a["article"])) for a in self.item(item_id).articles]
        with self.store.transaction():
            item = self.item(item_id)  # again, inside: another session may have merged or removed it
            same = next((i for i in rows.items(self.store) if i.id != item.id and i.status == APPROVED
                         and i.article_keys() == item.article_keys()), None)
            target = same or item
            if same:
                target.similar += [q for q in item.questions() if q not in target.questions()]
                rows.delete_item(self.store, item.id)
            target.articles = articles
            target.status, target.reviewed_by = APPROVED, actor
            target.reviewed_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
            target.review_due = review_due or target.review_due
            if text is not None and (text.strip() or not same):
                target.text = text.strip()
            rows.save_item(self.store, target)
            self.store.log(actor, "审核口径", f"{target.id}：{target.question}")
            self._changed()
        return target.id

    def remove(self, item_id: int, actor: str = "") -> None:
        actor = actor or self.default_actor()
        with self.store.transaction():
            item = self.item(item_id)
            rows.delete_item(self.store, item_id)
            self.store.log(actor, "删除口径", f"{item_id}：{item.question}")
            self._changed()

    def import_pairs(self, path: Path | str, approved: bool = False, actor: str = "") -> dict:
        """Lines of {"query", "relevant": [{"title", "article"}]} (what `kb answers export` writes;
        STARD's lines too, as `kb train` reads them) as items, gathered by their articles; approved
        at once with `approved`. Raises AnswerError naming the file and line; nothing is stored from
        a file with a bad line. An article the library does not hold is skipped and counted."""
        path = Path(path)
        try:
            pairs = [(_question(p.query), [ArticleRef(t, a) for t, a in p.relevant]) for p in read_pairs(path)]
        except (StudyKBError, ValueError) as exc:
            raise AnswerError(str(path), f"问答文件无效：{exc}") from exc
        actor = actor or self.default_actor()
        known: dict[tuple[str, str], dict | None] = {}
        for title, article in {(ref.title, ref.article) for _, refs in pairs for ref in refs}:
            try:  # resolved before the write lock is taken
                known[title, article] = self._cited(ArticleRef(title, article))
            except AnswerError:
                known[title, article] = None
        status = APPROVED if approved else DRAFT
        items: set[int] = set()
        skipped = 0
        with self.store.transaction():
            index = {(i.status, i.article_keys()): i for i in rows.items(self.store)}
            for question, refs in pairs:
                cited = [known[r.title, r.article] for r in refs if known[r.title, r.article]]
                skipped += len(refs) - len(cited)
                if cited:
                    items.add(self._gather(question, cited, actor, status, index))
            self.store.log(actor, "导入口径", f"{path.name}：{len(pairs)} 条问答，{len(items)} 个条目")
            self._changed()
        return {"questions": len(pairs), "items": len(items), "skipped_articles": skipped}

    def export_pairs(self, state: str = APPROVED) -> list[dict]:
        """Each question of each item in `state` ("" for all), as a line `kb train` reads."""
        return [{"query": q, "relevant": [{"title": a["title"], "article": a["article"]} for a in i.articles]}
                for i in self.items(state) for q in i.questions()]

    # ------------------------------------------------------------ search
    def first(self, plan: QueryPlan, hits: list[Hit], k: int, filters: Filters | None = None) -> list[Hit]:
        """`hits` with the articles of the approved items nearest the question first, marked. Not for a
        citation typed as the query (the article asked for is the answer), and never another place's
        rule than the question's."""
        if plan.citation is not None:
            return hits
        matched = self.match(plan.text)
        if not matched:
            return hits
        searcher = self.kb.searcher
        places = list(plan.places)
        chosen: list[Hit] = []
        for item, _ in matched:
            for cited in item.articles:
                ref = ArticleRef(normalise_title(cited["title"]), cited["article"])
                for hit in searcher.resolve_citations(replace(plan, citation=ref), filters or Filters())[:1]:
                    other_place = bool(places) and elsewhere({"jurisdiction": hit.citation.jurisdiction}, places)
                    if not other_place and all(hit.chunk_id != c.chunk_id for c in chosen):
                        hit.approved_answer, hit.matched_by = True, ["approved"]
                        chosen.append(hit)
        taken = {h.chunk_id for h in chosen}
        return (chosen + [h for h in hits if h.chunk_id not in taken])[:k]

    def match(self, question: str) -> list[tuple[AnswerItem, float]]:
        """Approved items with a question near this one (the same words, or cosine ≥ MATCH), nearest first."""
        generation, vectors, owners = self._vectors()
        if not owners:
            return []
        similarity = vectors @ self._embed(question)
        typed = "".join(question.split())
        best: dict[int, float] = {}
        by_id = {i.id: i for i in self._approved}
        for n, owner in enumerate(owners):
            score = 1.0 if self._texts[n] == typed else float(similarity[n])
            if score >= MATCH:
                best[owner] = max(best.get(owner, 0.0), score)
        return [(by_id[i], s) for i, s in sorted(best.items(), key=lambda p: -p[1])]

    def _embed(self, question: str) -> np.ndarray:
        """A question as the search embeds it (with its glossary expansions): precedents' similarities
        are taken against the search's own query vector."""
        searcher = self.kb.searcher
        return searcher.embed_query(searcher.analyse(question).embedded_text)

    def precedents(self) -> Precedents | None:
        """The approved questions as the ranker's evidence (kb.search.precedents); None when there are none."""
        _, vectors, owners = self._vectors()
        return self._precedents if owners else None

    def _vectors(self) -> tuple[str, np.ndarray, list[int]]:
        """The approved questions' vectors, made again when the items or the library change."""
        key = f"{self.generation()}/{self.kb.generation}/{dt.date.today()}"
        if self._index[0] != key:
            items = rows.items(self.store)
            newest = {t: self.kb.versions.of(t) for t in {a["title"] for i in items for a in i.articles}}
            self._approved = [i for i in items if self.state(i, newest=newest) == APPROVED]
            questions = [(i, q) for i in self._approved for q in i.questions()]
            self._texts = ["".join(q.split()) for _, q in questions]
            vectors = (np.vstack([self._embed(q) for _, q in questions]) if questions
                       else np.zeros((0, 1), np.float32))  # one by one: the query route, as a search embeds
            answers = [[(normalise_title(a["title"]), a["article"]) for a in i.articles] for i, _ in questions]
            chunks = rows.article_chunks(self.store, {k for keys in answers for k in keys})
            self._precedents = Precedents(vectors, answers, chunks)
            self._index = (key, vectors, [i.id for i, _ in questions])
        return self._index

    # ------------------------------------------------------------ statistics
    def statistics(self, since: str = "", until: str = "", top: int = 20) -> dict:
        """热点问题 (most asked), 未命中 (never answered) and confirmations per ISO week."""
        log = rows.log(self.store, since, until)
        asked = Counter(r["question"] for r in log)
        answered = {r["question"] for r in log if r["found"]}
        missed = Counter(r["question"] for r in log if not r["found"] and r["question"] not in answered)
        weeks = Counter("{}-W{:02d}".format(*dt.date.fromisoformat(r["at"][:10]).isocalendar()[:2])
                        for r in log if r["found"])
        return {"asked": asked.most_common(top), "unanswered": missed.most_common(top),
                "confirmed_per_week": sorted(weeks.items())}

    # ------------------------------------------------------------ helpers
    def _cited(self, hit: Hit | ArticleRef) -> dict:
        """An article as an item keeps it: its law's full title, the article, the version's date."""
        if isinstance(hit, Hit):
            if not hit.article:
                raise AnswerError(hit.citation.title, "只有法规的条文可以作为口径的答案")
            return {"title": hit.citation.title, "article": hit.article, "date": hit.citation.date,
                    "issuer": hit.citation.issuer, "doc_type": hit.citation.doc_type}
        try:
            ref = ArticleRef(normalise_title(hit.title), article_name(hit.article))  # 11 → 第十一条
        except ValueError as exc:
            raise AnswerError(hit.article, "条号应写成“第十一条”或“11”") from exc
        plan = replace(self.kb.searcher.analyse(hit.title), citation=ref)
        found = self.kb.searcher.resolve_citations(plan, Filters())
        if not found:
            raise AnswerError(f"《{hit.title}》{hit.article}", "文库中没有这一条")
        return self._cited(found[0])

    def _gather(self, question: str, cited: list[dict], actor: str, status: str = DRAFT,
                index: dict | None = None) -> int:
        """Adds the question to the item in `status` with these articles, or starts one. `index`:
        (status, article keys) → item, kept up to date (for many questions at once)."""
        keys = frozenset((c["title"], c["article"]) for c in cited)
        if index is None:
            index = {(i.status, i.article_keys()): i for i in rows.items(self.store)}
        item = index.get((status, keys))
        if item is not None:
            if question not in item.questions():
                item.similar.append(question)
                rows.save_item(self.store, item)
            return item.id
        issuers = list(dict.fromkeys(c["issuer"] for c in cited if c["issuer"]))
        natures = list(dict.fromkeys(DOC_TYPES.get(c["doc_type"], c["doc_type"]) for c in cited))
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        item = AnswerItem(0, question, [{k: c[k] for k in ("title", "article", "date")} for c in cited],
                          issuer="、".join(issuers), nature="、".join(natures), status=status, created_by=actor,
                          reviewed_by=actor if status == APPROVED else "",
                          reviewed_at=now if status == APPROVED else "")
        item.id = rows.save_item(self.store, item)
        index[status, keys] = item
        return item.id

    def _changed(self) -> None:
        """Inside the change's own transaction: the change and its new generation commit together."""
        self.store.conn.execute(
            "INSERT INTO meta(key, value) VALUES ('answers_generation', '1') ON CONFLICT(key) DO UPDATE"
            " SET value = CAST(value AS INTEGER) + 1")


def _question(question: str) -> str:
    question = " ".join(str(question).split())
    if not question:
        raise AnswerError(question, "问题不能为空")
    if len(question) > QUESTION_CHARS:
        raise AnswerError(question[:20] + "……", f"问题过长（超过 {QUESTION_CHARS} 字）")
    return question
