"""问答: an extractive answer, verbatim from the source, with its citation."""

from __future__ import annotations

import streamlit as st

from kb.config import Config
from kb.errors import QueryError
from kb.library.knowledge_base import KnowledgeBase
from kb.search.answer import Answer
from webapp.common import (
    LOCK,
    add_to_basket,
    approved_mark,
    cached,
    confirm_answer,
    hit_card,
    open_document,
    sidebar_filters,
)
from webapp.render import escape, highlight, highlight_terms


def ask_page(kb: KnowledgeBase, config: Config, docs: list[dict]) -> None:
    st.header("问答")
    filters, _ = sidebar_filters(kb, docs)
    question = st.text_input("问题", key="question", placeholder="例如：离婚要带什么材料")
    if not question.strip():
        st.info("输入问题后按回车。回答摘自知识库原文，并注明出处。")
        return

    answer: Answer
    try:
        answer, seconds = cached("ask_result", (question, repr(filters), kb.generation, kb.answer_book.generation()),
                                 lambda: kb.ask(question, filters=filters))
    except QueryError as exc:
        st.warning(escape(exc.reason))
        return
    st.caption(f"用时 {seconds * 1000:.0f} 毫秒")
    terms = highlight_terms(question, kb.words, kb.glossary)
    if not answer.found:
        st.warning(escape(answer.text.split("以下")[0]))
        if answer.related:
            st.subheader("可能相关")
            for n, hit in enumerate(answer.related, 1):
                hit_card(kb, hit, n, terms, "r", question=question)
        return
    lead = answer.sources[0]
    with st.container(border=True, key="answer"):
        approved_mark(lead)
        st.markdown(highlight(lead.text, terms))  # verbatim, its (一)(二)(三) on their own lines
        st.caption(escape("出处：" + lead.citation.format()))
        left, right, third, _ = st.columns([1, 1, 1, 3])
        left.button("加入素材篮", key=f"lead-add-{lead.chunk_id}", on_click=add_to_basket, args=(kb, LOCK[0], lead),
                    icon=":material/add:")
        right.button("查看原文", key=f"lead-open-{lead.chunk_id}", on_click=open_document,
                     args=(lead.doc_id, lead.start, lead.end), icon=":material/description:")
        if lead.article:
            third.button("答对了", key=f"lead-right-{lead.chunk_id}", on_click=confirm_answer,
                         args=(kb, LOCK[0], question, lead), icon=":material/check:",
                         help="这一条回答了问题：记入口径库，审核后同类问题优先显示它")
    if len(answer.sources) > 1:
        st.subheader("其他相关规定和论述")
    for n, hit in enumerate(answer.sources[1:], 2):
        hit_card(kb, hit, n, terms, "a", question=question)
