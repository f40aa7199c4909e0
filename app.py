"""studykb in the browser: 检索, 问答, 口径库, 引文核对, 学习台账, 文库, 文档, 新旧对照, 素材篮. The entry:
configuration, sign-in and navigation; each page is a module of webapp/pages over the same KnowledgeBase calls as the
CLI and the API. The knowledge base and its model are loaded once per process and shared by every
session (one lock serialises them).

    streamlit run app.py        (STUDYKB_DATA and the other settings as for the CLI)

Navigation is a sidebar radio bound to `st.session_state.page`, not st.navigation: a card's
查看原文 switches page from a button callback (webapp.common.open_document), and the way back
(返回检索结果) keeps the page the user came from, both by setting that one value.
"""

from __future__ import annotations

import streamlit as st

from kb.config import Config
from kb.errors import StudyKBError
from webapp.common import (
    APP_STYLE,
    ICON,
    KEPT,
    LOCK,
    PAGES,
    basket_user,
    check_address,
    current_basket,
    open_kb,
    sign_in,
)
from webapp.pages.answers import answers_page
from webapp.pages.ask import ask_page
from webapp.pages.basket import basket_page
from webapp.pages.check import check_page
from webapp.pages.compare import compare_page
from webapp.pages.document import document_page
from webapp.pages.ledger import ledger_page
from webapp.pages.library import library_page
from webapp.pages.search import search_page
from webapp.render import escape

PAGE_DRAWERS = {"检索": search_page, "问答": ask_page, "口径库": answers_page, "引文核对": check_page,
                "学习台账": ledger_page, "文库": library_page, "文档": document_page, "新旧对照": compare_page,
                "素材篮": basket_page}


def main() -> None:
    # the icon is a file of ours: a :material/…: page icon is fetched from fonts.gstatic.com
    st.set_page_config(page_title="学习资料知识库", page_icon=str(ICON), layout="wide")
    st.html(APP_STYLE)
    config = Config.load()
    check_address(config)
    try:
        kb, lock = open_kb(str(config.data_dir), config.model)
        LOCK[:] = [lock]
    except StudyKBError as exc:  # a mismatched model or a damaged file: say so, don't show a traceback
        st.error(f"知识库无法打开：{exc}")
        st.stop()
    state = st.session_state
    for key in KEPT:  # re-set, so the value survives the run in which its widget is not drawn
        if key in state:
            state[key] = state[key]
    state.setdefault("page", PAGES[0])
    with lock:
        with st.sidebar:
            st.title("学习资料知识库")
            st.radio("页面", PAGES, key="page", label_visibility="collapsed")
            docs = kb.documents()  # read once per run; every page works from this list
            basket = current_basket(kb)
            st.caption(escape(f"已收录 {len(docs)} 份文档 · {basket.name if basket else '素材篮'} "
                              f"{basket.items if basket else 0} 条"))
            sign_in(config)
            state.basket_user = basket_user(config)  # None: users exist and nobody signed in
        try:
            PAGE_DRAWERS[state.page](kb, config, docs)
        except StudyKBError as exc:  # e.g. a document another session just deleted
            st.error(f"出错了：{exc}")


main()
