"""新旧对照: two versions of one law, article by article, aligned by content."""

from __future__ import annotations

import streamlit as st

from kb.config import Config
from kb.export import DOCX_MIME, comparison_docx
from kb.language.query import normalise_title
from kb.library.diff import STATUSES
from kb.library.knowledge_base import KnowledgeBase
from webapp.common import cached
from webapp.render import escape


def compare_page(kb: KnowledgeBase, config: Config, docs: list[dict]) -> None:
    """新旧对照: two versions of one law, article by article, aligned by content."""
    st.header("新旧对照")
    law_of = kb.versions.now().law_of  # the versions of one law: one title and issuer (kb.library.versions)
    laws: dict[str, list[dict]] = {}
    for d in docs:
        if d["date"]:
            laws.setdefault(normalise_title(d["title"]), {}).setdefault(law_of.get(d["id"], ""), []).append(d)
    # a title whose rules come from several issuers offers the chain with the most versions (as kb diff does)
    laws = {title: sorted(max(chains.values(), key=len), key=lambda d: d["date"]) for title, chains in laws.items()}
    laws = {title: versions for title, versions in laws.items() if len({v["date"] for v in versions}) > 1}
    if not laws:
        st.info("知识库中还没有同一法规的两个版本（标题相同、日期不同）。上传另一版本后即可逐条对照。")
        return
    title = st.selectbox("法规", sorted(laws), key="cmp_law", format_func=lambda t: laws[t][-1]["title"])
    versions = laws[title]
    left, right = st.columns(2)
    dates = [v["date"] for v in versions]
    old_date = left.selectbox("旧版本", dates, index=len(dates) - 2, key=f"cmp_from-{title}")
    new_date = right.selectbox("新版本", dates, index=len(dates) - 1, key=f"cmp_to-{title}")
    if old_date >= new_date:
        st.warning("旧版本的日期应早于新版本。")
        return
    (old, new, changes), _ = cached("compare_result", (title, old_date, new_date, kb.generation),
                                    lambda: kb.versions.compare(title, old_date, new_date))  # not on every rerun
    st.caption(escape("，".join(f"{label} {sum(c.status == s for c in changes)} 条" for s, label in STATUSES.items())))
    show_unchanged = st.toggle("显示未改的条文", key="cmp_unchanged")
    st.download_button("导出新旧对照表（DOCX）", data=comparison_docx(old, new, changes, show_unchanged),
                       file_name=f"{new['title']}新旧对照.docx", mime=DOCX_MIME, icon=":material/download:",
                       on_click="ignore")
    for change in changes:
        if change.status == "unchanged" and not show_unchanged:
            continue
        with st.container(border=True):
            head = " → ".join(a.number for a in (change.old, change.new) if a)
            st.markdown(f"**{escape(head)}** · {STATUSES[change.status]}")
            columns = st.columns(2)
            for column, article, side in ((columns[0], change.old, "delete"), (columns[1], change.new, "insert")):
                if article is None:
                    column.caption("（无）")
                    continue
                pieces = [escape(text) if tag == "equal" else
                          (f":red[~~{escape(text)}~~]" if tag == "delete" else f":green[**{escape(text)}**]")
                          for tag, text in change.pieces if tag in ("equal", side)]
                column.markdown("".join(pieces) if change.status in ("changed",) else escape(article.body))
