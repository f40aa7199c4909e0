"""文档: a whole document as text, scrolled to the cited passage."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ingest import DOC_TYPES
from kb.config import Config
from kb.library.knowledge_base import KnowledgeBase
from kb.types import labelled_dates
from webapp.common import doc_label, go_back
from webapp.related import related_panel
from webapp.render import document_blocks, escape


def document_page(kb: KnowledgeBase, config: Config, docs: list[dict]) -> None:
    st.header("文档")
    by_id = {d["id"]: d for d in docs}
    if not by_id:
        st.info("知识库是空的。")
        return
    state = st.session_state
    if "doc_select" not in state:
        state.doc_select = next(iter(by_id))
    elif state.doc_select is not None and state.doc_select not in by_id:
        # opened from a card or a link whose document has since been deleted or replaced: say so,
        # never show another document in its place
        st.warning("要查看的文档已不在文库中（已被删除或替换）。请重新检索，或在下面选择其他文档。")
        state.doc_select, state.cited = None, None
    came_from = state.get("came_from")
    if came_from in ("检索", "问答"):
        back = "返回检索结果" if came_from == "检索" else "返回问答"
        st.button(back, on_click=go_back, icon=":material/arrow_back:")
    doc_id = st.selectbox("文档", list(by_id), key="doc_select", format_func=lambda i: doc_label(by_id[i]),
                          placeholder="请选择文档")
    if doc_id is None:
        return
    doc = kb.document(doc_id)
    meta = [DOC_TYPES.get(doc.doc_type, ""), doc.issuer, doc.doc_number,
            labelled_dates(doc.date, doc.published, doc.effective, doc.doc_type), f"{by_id[doc_id]['chunks']} 个片段",
            f"文件 {Path(by_id[doc_id]['path']).name}"]
    st.subheader(escape(doc.title))
    st.caption(escape(" · ".join(m for m in meta if m)))
    related_panel(kb, doc_id)
    cited = state.get("cited")
    span = (cited[1], cited[2]) if cited and cited[0] == doc_id else None
    for kind, text in document_blocks(doc.text, doc.doc_type == "regulation", span):
        if kind == "heading":
            st.markdown(f"##### {escape(text)}")
        elif kind == "cited":
            with st.container(border=True, key="cited"):
                if came_from in ("检索", "问答"):  # the page scrolls here: the way back is here too
                    st.button(back, key="back-at-cited", on_click=go_back, icon=":material/arrow_back:")
                st.caption("▼ 引用位置")
                st.markdown(escape(text))
        else:
            st.markdown(escape(text))
    if span:
        # Our own fixed script (no document text in it): bring the cited passage into view.
        st.html("<script>setTimeout(() => document.querySelector('.st-key-cited')"
                "?.scrollIntoView({block: 'start'}), 300)</script>", unsafe_allow_javascript=True)
