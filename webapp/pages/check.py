"""引文核对: a draft pasted or uploaded, each quotation checked against its source, word for word."""

from __future__ import annotations

import streamlit as st

from kb.config import Config
from kb.errors import StudyKBError
from kb.export import DOCX_MIME, commented_docx, read_draft
from kb.library.knowledge_base import KnowledgeBase
from kb.library.quote_check import STATUSES, QuoteResult
from webapp.common import LOCK, add_to_basket, open_document
from webapp.render import escape

COLOURS = {"exact": "green", "differs": "orange", "wrong_article": "red", "outdated": "violet", "not_found": "gray"}
SAID = {"changed": "改", "added": "多", "missing": "漏"}


def check_page(kb: KnowledgeBase, config: Config, docs: list[dict]) -> None:
    """引文核对: paste or upload a draft; each quotation's status, differences and source."""
    st.header("引文核对")
    st.caption("逐条核对稿件中的引文：引号内 8 字以上的文字，以及“《X》第N条规定，……”式的句子。"
               "标点、空格和全半角不计为差异；引文中的省略号（……）表示有意略去的文字。")
    pasted = st.text_area("粘贴稿件", key="check_text", height=200, placeholder="把讲稿、汇报或研讨发言粘贴在这里")
    upload = st.file_uploader("或上传稿件（TXT、MD、DOCX）", type=["txt", "md", "docx"], key="check_file")
    if st.button("核对引文", type="primary", icon=":material/fact_check:"):
        try:
            original = (upload.name, upload.getvalue()) if upload is not None else None
            draft = read_draft(*original) if original else pasted
            if not draft.strip():
                st.warning("请先粘贴稿件或上传文件。")
                return
            report = kb.quotes.check(draft)
            kept = original if original and original[0].lower().endswith(".docx") else None
            # the commented DOCX is written once per check, not on every rerun of the page
            st.session_state.check_result = (draft, report, commented_docx(draft, report.results, kept))
        except StudyKBError as exc:
            st.error(escape(f"无法核对：{exc}"))
            return
    if "check_result" not in st.session_state:
        return
    draft, report, commented = st.session_state.check_result
    counts = report.counts()
    st.markdown(escape(f"共 {len(report.results)} 处引文：") + "，".join(
        f":{COLOURS[s]}[{label} {counts[s]}]" for s, label in STATUSES.items() if counts[s]) if report.results
        else escape("稿件中没有找到引文。"))
    if not report.results:
        return
    st.download_button("下载带批注的稿件（DOCX）", data=commented,
                       file_name="引文核对.docx", mime=DOCX_MIME, icon=":material/download:", on_click="ignore")
    with st.expander("稿件（引文按核对结果着色）", expanded=False):
        st.markdown(annotated(draft, report.results))
    for n, result in enumerate(report.results, 1):
        quote_card(kb, result, n)


def annotated(draft: str, results: list[QuoteResult]) -> str:
    """The draft as escaped markdown, each quotation coloured by its status and numbered."""
    out, at = [], 0
    for n, r in enumerate(results, 1):
        out.append(escape(draft[at:r.quote.start]))
        # coloured line by line: a quotation over two paragraphs would break the markup across them
        out.append("  \n".join(f":{COLOURS[r.status]}[**{escape(line)}**]" if line.strip() else ""
                                for line in draft[r.quote.start:r.quote.end].split("\n")))
        out.append(escape(f"〔{n}〕"))
        at = r.quote.end
    out.append(escape(draft[at:]))
    return "".join(out)


def quote_card(kb: KnowledgeBase, result: QuoteResult, n: int) -> None:
    with st.container(border=True):
        st.markdown(f"**{n}.** :{COLOURS[result.status]}[**{STATUSES[result.status]}**]　"
                    + escape(f"“{result.quote.text}”"))
        if result.note:
            st.markdown(escape(result.note))
        changes = [d for d in result.differences if d[0] != "equal"]
        if changes:
            st.markdown(escape("差异：") + "；".join(
                f"{SAID[kind]}" + (f":red[~~{escape(quoted)}~~]→:green[**{escape(source)}**]" if kind == "changed"
                                   else f":red[~~{escape(quoted)}~~]" if kind == "added"
                                   else f":green[**{escape(source)}**]") for kind, quoted, source in changes[:12]))
        if result.current and result.status != "exact":
            st.markdown(escape(("现行表述：" if result.status == "outdated" else "原文：") + result.current))
        if result.source:
            st.caption(escape("出处：" + result.source["citation"]))
            left, right = st.columns(2)
            source = result.source
            left.button("查看原文", key=f"check_open_{n}", icon=":material/article:", on_click=open_document,
                        args=(source["doc_id"], source["start"], source["end"]))
            if result.hit is not None:
                right.button("加入素材篮", key=f"check_basket_{n}", icon=":material/add_shopping_cart:",
                             on_click=add_to_basket, args=(kb, LOCK[0], result.hit))
