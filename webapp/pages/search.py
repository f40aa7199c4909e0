"""检索: a question, a citation or a quoted phrase; cards or one line per hit."""

from __future__ import annotations

import streamlit as st

from kb.config import Config
from kb.errors import QueryError
from kb.language.query import ArticleRef, normalise_title
from kb.library.knowledge_base import KnowledgeBase
from kb.types import Filters, Hit
from webapp.common import cached, confirm_answer, doc_label, hit_card, open_document, sidebar_filters
from webapp.render import escape, highlight_terms

# Each example works on the bundled corpus (tests/test_app.py runs them): a question, a citation, a quoted phrase.
SEARCH_EXAMPLES = "例如：低保怎么申请、社会救助暂行办法第十一条、\"兜底\"（引号内为原文中的确切短语）"


FILTER_NAMES = {"doc_types": "文档类型", "date_from": "起始日期", "date_to": "截止日期", "doc_ids": "限定文档",
                "issuers": "发布机关", "places": "适用地域", "as_of": "有效日期"}


def search_page(kb: KnowledgeBase, config: Config, docs: list[dict]) -> None:
    st.header("检索")
    filters, mode = sidebar_filters(kb, docs)
    query = st.text_input("检索内容", key="query", placeholder=SEARCH_EXAMPLES)
    if not query.strip():
        st.info("输入问题或关键词后按回车。可用引号检索原文中的确切短语，也可直接输入“法规名+条号”。")
        return

    try:
        plan = kb.analyse(query)  # read once: the search, the notes below and the highlighting use it
        hits, seconds = cached("search_result", (query, repr(filters), mode, kb.generation,
                                                 kb.answer_book.generation()),
                               lambda: kb.search(plan, k=10, filters=filters, mode=mode))
    except QueryError as exc:
        st.warning(escape(exc.reason))
        return
    places = plan.places
    where = f"；{'、'.join(p.label for p in places)}和全国的规定排在前面" if places else ""
    left, right = st.columns([4, 1])
    left.caption(escape(f"共 {len(hits)} 条结果，用时 {seconds * 1000:.0f} 毫秒{where}"))
    compact = right.toggle("紧凑列表", key="compact", help="每条结果一行：标题、条目和首句")
    if plan.expansions:
        st.caption(escape(f"已同时检索：{'、'.join(plan.expansions)}"))
    missing = [p for p in plan.phrases if not any(p in h.text for h in hits)]
    if missing and hits:
        st.caption(escape(f"原文中没有“{'”“'.join(missing)}”，以下结果不要求包含它"))
    if not hits:
        st.warning(escape(empty_reason(kb, query, filters, mode)))
    terms = highlight_terms(query, kb.words, kb.glossary)
    divided = False
    for n, hit in enumerate(hits, 1):
        if not divided and not kb.answers(hit):
            divided = True
            if n == 1:
                st.info("没有找到直接相关的内容，以下结果相关度较低。")
            else:
                st.divider()
                st.caption("以下结果相关度较低")
        if compact:
            hit_line(hit, n)
        else:
            # 答对了 for questions, not for a citation looked up (that article is what was asked for)
            hit_card(kb, hit, n, terms, "s", question="" if plan.citation else query)
    if not plan.citation:
        pick_the_answer(kb, query, docs)


def pick_the_answer(kb: KnowledgeBase, question: str, docs: list[dict]) -> None:
    """When no card holds the answer, the clerk names the article that does (for the 口径库)."""
    rules = {d["id"]: d for d in docs if d["doc_type"] == "regulation"}
    if not rules:
        return
    with st.expander("正确答案不在结果中？指定条文"):
        with st.form("pick_answer", border=False):
            # keyed: a widget's id then stays the same when the list of rules changes (a delete elsewhere)
            doc_id = st.selectbox("法规", list(rules), format_func=lambda i: doc_label(rules[i]), index=None,
                                  placeholder="请选择法规", key="pick_answer_doc")
            article = st.text_input("条号", placeholder="例如：第十一条 或 11", key="pick_answer_article")
            if st.form_submit_button("记入口径库"):
                if doc_id is None or not article.strip():
                    st.warning("请选择法规并填写条号")
                    return
                ref = ArticleRef(normalise_title(rules[doc_id]["title"]), article.strip())
                confirm_answer(kb, None, question, ref)  # the page holds the lock


def empty_reason(kb: KnowledgeBase, query: str, filters: Filters, mode: str) -> str:
    """Why a search found nothing: the filter that alone leaves nothing, when there is one."""
    if not filters.active() or not kb.search(query, k=1, mode=mode):
        return "没有找到相关内容。可以换个说法。"
    blocking = [label for name, label in FILTER_NAMES.items() if getattr(filters, name)
                and not kb.search(query, k=1, mode=mode, filters=Filters(**{name: getattr(filters, name)}))]
    which = "、".join(blocking) if blocking else "几个检索条件合在一起"
    return f"没有找到相关内容：检索条件（{which}）排除了全部结果。放宽或清除左侧的检索条件后再试。"


def hit_line(hit: Hit, n: int) -> None:
    """One line per hit: title, article and the passage's first line."""
    c = hit.citation
    first = hit.text.strip().split("\n")[0]
    first = first if len(first) <= 60 else first[:60] + "……"
    left, right = st.columns([12, 1])
    left.markdown(f"{n}\\. **{escape('《' + c.title + '》')}** {escape(c.location())} — {escape(first)}")
    right.button("原文", key=f"line-open-{hit.chunk_id}", on_click=open_document,
                 args=(hit.doc_id, hit.start, hit.end), help="查看原文")
