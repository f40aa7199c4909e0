"""法条联想 on the 文档 page: what one article cites, what cites it, its other versions, local rules."""

from __future__ import annotations

import streamlit as st

from kb.errors import StudyKBError
from kb.library.knowledge_base import KnowledgeBase
from webapp.common import cached, open_related
from webapp.render import escape

SECTIONS = (("cites", "本条引用"), ("cited_by", "引用本条"), ("versions", "其他版本"), ("local", "地方规定"))
VERSION_STATUS = {"unchanged": "未改", "changed": "有修改", "not_found": "无对应条文"}


def related_panel(kb: KnowledgeBase, doc_id: int) -> None:
    """An article picker and its four lists; each entry opens its own article (and its panel)."""
    articles = kb.provisions.articles(doc_id)
    if not articles:
        return
    wanted = st.session_state.get("related_for")
    opened = bool(wanted and wanted[0] == doc_id and wanted[1] in articles)
    # a toggle, not an expander: an expander's content is computed even while closed
    if not st.toggle("法条联想", value=opened, key=f"related-on-{doc_id}-{opened}",
                     help="本条引用了什么、被什么引用、其他版本中的对应条文、地方的配套规定"):
        return
    with st.container(border=True):
        article = st.selectbox("条文", articles, key=f"related-article-{doc_id}-{opened}",
                               index=articles.index(wanted[1]) if opened else 0)
        try:
            related, _ = cached("related_panel", (kb.generation, doc_id, article),
                                lambda: kb.provisions.for_article(doc_id, article))
        except StudyKBError as exc:
            st.error(escape(str(exc)))
            return
        for key, label in SECTIONS:
            entries = related[key]
            st.markdown(f"**{label}**（{len(entries)}）")
            for n, e in enumerate(entries):
                extra = (e.get("why") or {"basis": "以其为制定依据", "article": "引用"}.get(e.get("kind", ""))
                         or VERSION_STATUS.get(e.get("status", ""), ""))
                line = (f"{e.get('jurisdiction', '')} 《{e['title']}》" + (f"（{e['date']}）" if e.get("date") else "")
                        + (e.get("article") or "") + ("（未收录）" if e.get("in_library") is False else "")
                        + (f" · {extra}" if extra else ""))
                left, right = st.columns([5, 1])
                left.markdown(escape(line.strip()))
                if e.get("doc_id") and e.get("article"):
                    right.button("打开", key=f"related-{doc_id}-{article}-{key}-{n}", on_click=open_related,
                                 args=(e["doc_id"], e["article"], e.get("start"), e.get("end")))
            if not entries:
                st.caption("无")
