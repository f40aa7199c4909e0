"""口径库: the answers the window confirmed, reviewed by an editor before they count in search;
what was asked most, what nothing answered, and confirmations per week."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from kb.config import Config
from kb.errors import StudyKBError
from kb.library.answer_book import AnswerItem
from kb.library.knowledge_base import KnowledgeBase
from kb.types import local_time
from webapp.common import DATE_FORMAT, editor
from webapp.render import escape

TABS = (("draft", "待审核"), ("recheck", "待复核"), ("approved", "已审核"))


def answers_page(kb: KnowledgeBase, config: Config, docs: list[dict]) -> None:
    st.header("口径库")
    st.caption("窗口在检索、问答页点“答对了”的问答先记为待审核；编辑审核后，同类问题的第一条结果就是它，并标明“本窗口已确认”。"
               "所引法规出了新版本、被废止或过了复核日期的，转为待复核，不再优先。")
    if st.session_state.get("basket_user") is None:  # users exist and nobody signed in
        st.info("口径库记有同事的姓名和群众的提问，请先在侧栏登录后查看。")
        return
    actor = editor(config)
    if actor is None:
        st.info("审核、删除口径需要编辑或管理员登录（在侧栏登录）。")
    book = kb.answer_book
    items = {state: book.items(state) for state, _ in TABS}
    tabs = st.tabs([f"{label}（{len(items[state])}）" for state, label in TABS] + ["统计"])
    for tab, (state, _) in zip(tabs, TABS):
        with tab:
            if not items[state]:
                st.caption("没有条目。")
            for item in items[state]:
                item_card(kb, item, state, actor)
    with tabs[-1]:
        statistics(kb)


def item_card(kb: KnowledgeBase, item: AnswerItem, state: str, actor: str | None) -> None:
    book = kb.answer_book
    with st.container(border=True, key=f"answer-item-{item.id}"):
        st.markdown(f"**{escape(item.question)}**")
        if item.similar:
            st.caption(escape("相似问：" + "；".join(item.similar)))
        for cited in item.articles:
            confirmed_on = cited.get("date") or "无日期"
            st.markdown(escape(f"《{cited['title']}》{cited['article']}（确认时为 {confirmed_on} 版）"))
            hits = kb.search(f"{cited['title']}{cited['article']}", k=1)  # a citation: a lookup, no model
            if hits and hits[0].article == cited["article"] and hits[0].citation.title == cited["title"]:
                st.caption(escape(f"现行条文（{hits[0].citation.date or '无日期'} 版）：{hits[0].text.strip()[:300]}"))
        meta = [f"发文单位：{item.issuer}" if item.issuer else "", f"材料性质：{item.nature}" if item.nature else "",
                f"确认：{item.created_by or '本机'} {local_time(item.created_at)}",
                f"审核：{item.reviewed_by or '本机'} {local_time(item.reviewed_at)}" if item.reviewed_at else "",
                f"复核日期：{item.review_due}" if item.review_due else ""]
        st.caption(escape(" · ".join(m for m in meta if m)))
        if item.text:
            st.markdown(escape("口径：" + item.text))
        if state == "recheck":
            why = book.changed_laws(item) or [f"已过复核日期 {item.review_due}"]
            st.warning(escape("待复核：" + "；".join(why)))
        if actor is None:
            return
        if state != "approved":
            with st.form(f"review-{item.id}", border=False):
                text = st.text_area("口径（可选，简短的答复口径）", value=item.text, key=f"text-{item.id}")
                due = st.date_input("复核日期（可选）", value=None, key=f"due-{item.id}", format=DATE_FORMAT,
                                    min_value=dt.date.today())
                if st.form_submit_button("审核通过"):
                    try:
                        book.approve(item.id, actor=actor, review_due=due.isoformat() if due else "", text=text)
                    except StudyKBError as exc:
                        st.error(escape(exc.reason))
                        return
                    st.rerun()
        sure = st.checkbox("确认删除这一条", key=f"sure-delete-answer-{item.id}")
        if st.button("删除", key=f"delete-answer-{item.id}", icon=":material/delete:", disabled=not sure):
            try:
                book.remove(item.id, actor=actor)
            except StudyKBError as exc:  # another session removed or merged it
                st.error(escape(exc.reason))
                return
            st.rerun()


def statistics(kb: KnowledgeBase) -> None:
    left, right = st.columns(2)
    since = left.date_input("起始日期", value=None, key="answers_from", format=DATE_FORMAT)
    until = right.date_input("截止日期", value=None, key="answers_to", format=DATE_FORMAT)
    stats = kb.answer_book.statistics(since.isoformat() if since else "", until.isoformat() if until else "")
    st.subheader("热点问题（确认和未命中次数最多的问题）")
    st.dataframe([{"问题": q, "次数": n} for q, n in stats["asked"]], hide_index=True)
    st.subheader("未命中（没有找到答案的问题，待补充）")
    st.dataframe([{"问题": q, "次数": n} for q, n in stats["unanswered"]], hide_index=True)
    st.subheader("每周确认的答案")
    st.dataframe([{"周": w, "条数": n} for w, n in stats["confirmed_per_week"]], hide_index=True)
