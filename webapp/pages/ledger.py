"""学习台账: the 第一议题 topics and their status, the sessions, the follow-up tasks, the year's
statistics and the exports (kb.library.ledger holds the rules)."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from kb.config import Config
from kb.errors import StudyKBError
from kb.export import DOCX_MIME
from kb.export.ledger import XLSX_MIME, ledger_docx, ledger_xlsx, minutes_docx, report_paragraph
from kb.library.knowledge_base import KnowledgeBase
from kb.library.ledger import KINDS, SOURCES, TASK_STATES
from webapp.common import editor
from webapp.render import escape

COLOURS = {"pending": "orange", "on_time": "green", "late": "red", "overdue": "red"}


def ledger_page(kb: KnowledgeBase, config: Config, docs: list[dict]) -> None:
    st.header("学习台账")
    st.caption(f"党中央重大决策部署、总书记重要讲话和指示批示精神，须在印发（发表）之日起 {kb.ledger.days} 日内"
               "在党组会议上作为第一个议题传达学习。")
    actor = editor(config)
    if actor is None:
        st.info("记录议题、学习活动和落实任务需要编辑或管理员登录（在侧栏登录）；查看不需要。")
    status, sessions, tasks, stats = st.tabs(["第一议题", "学习活动", "落实台账", "统计与导出"])
    with status:
        topics_tab(kb, docs, actor)
    with sessions:
        sessions_tab(kb, actor)
    with tasks:
        tasks_tab(kb, actor)
    with stats:
        stats_tab(kb)


def _change(do, done: str) -> None:
    """A change from a form (the page already holds the app's lock): its error shown, success toasted."""
    try:
        do()
        st.toast(escape(done))
    except StudyKBError as exc:
        st.error(escape(str(exc)))


def topics_tab(kb: KnowledgeBase, docs: list[dict], actor: str | None) -> None:
    rows = kb.ledger.status()
    for row in reversed(rows):
        days = {"pending": f"，还剩 {row['days']} 天", "late": f"，逾期 {row['days']} 天",
                "overdue": f"，已逾期 {row['days']} 天"}.get(row["status"], "")
        st.markdown(f":{COLOURS[row['status']]}[**{row['label']}**]　" + escape(
            f"{row['title']}（{row['date']}，时限 {row['deadline']}"
            + (f"，{row['conveyed']} 传达" if row["conveyed"] else "") + f"{days}）"))
    if not rows:
        st.caption("还没有议题。")
    if actor is None:
        return
    with st.form("ledger-topic", clear_on_submit=True):
        st.markdown("**新增议题**")
        title = st.text_input("议题名称", key="lt-title")
        left, right = st.columns(2)
        date = left.date_input("印发或发表日期", key="lt-date", value=dt.date.today())
        leader = right.text_input("分管领导", key="lt-leader")
        source = left.selectbox("来源", ("", *SOURCES), key="lt-source", format_func=lambda s: s or "（不选）")
        by_id = {d["id"]: d for d in docs}
        doc = right.selectbox("文库中的文档（可不选）", [None, *by_id], key="lt-doc",
                              format_func=lambda i: "（不选）" if i is None else by_id[i]["title"])
        if st.form_submit_button("保存议题"):
            _change(lambda: kb.ledger.add_topic(title, date.isoformat(), source=source, leader=leader, doc=doc,
                                                actor=actor), "已新增议题")
            st.rerun()
    for d in kb.ledger.proposals()[:8]:
        left, right = st.columns([5, 1])
        left.caption(escape(f"可设为议题：{d['title']}（{d['date'] or '无日期'}）"))
        if right.button("设为议题", key=f"lt-propose-{d['id']}", disabled=not d["date"]):
            _change(lambda d=d: kb.ledger.add_topic("", d["date"], doc=d["id"], actor=actor), "已设为议题")
            st.rerun()


def sessions_tab(kb: KnowledgeBase, actor: str | None) -> None:
    topics = {t.id: t for t in kb.ledger.topics()}
    if actor is not None:
        with st.form("ledger-session", clear_on_submit=True):
            st.markdown("**记录学习活动**")
            left, right = st.columns(2)
            date = left.date_input("日期", key="ls-date", value=dt.date.today())
            kind = right.selectbox("形式", KINDS, key="ls-kind")
            chosen = st.multiselect("议题（按议程顺序；党组会议的第一个议题即传达的“第一议题”）", list(topics),
                                    key="ls-topics", format_func=lambda i: topics[i].title, placeholder="选择议题")
            host = left.text_input("主持人", key="ls-host")
            lead = right.text_input("领学或传达人（民政大讲堂为主讲人）", key="ls-lead")
            attendees = left.text_input("出席人员（逗号分隔）", key="ls-attendees")
            absent = right.text_input("缺席人员及事由（如 张三（出差））", key="ls-absent")
            speeches = st.text_area("研讨发言（每行一人：发言人：内容或提纲）", key="ls-speeches")
            notes = st.text_area("会议记录", key="ls-notes")
            measures = st.text_area("贯彻落实措施", key="ls-measures")
            if st.form_submit_button("保存学习活动"):
                said = [{"speaker": line.replace(":", "：").partition("：")[0].strip(),
                         "text": line.replace(":", "：").partition("：")[2].strip()}
                        for line in speeches.splitlines() if line.strip()]
                _change(lambda: kb.ledger.add_session(date.isoformat(), kind, chosen, host, lead, attendees, absent,
                                                      notes, measures, said, actor=actor), "已记录学习活动")
                st.rerun()
    for session in reversed(kb.ledger.sessions()):
        titles = "；".join(topics[i].title for i in session.topics if i in topics) or "（未选议题）"
        with st.expander(f"{session.date} {session.kind} · {titles}"):
            st.markdown(escape(f"主持：{session.host or '—'}　领学/传达：{session.lead or '—'}　"
                               f"出席 {len(session.attendees)} 人：{'、'.join(session.attendees) or '—'}"))
            if session.absent:
                st.markdown(escape("缺席：" + "、".join(a["name"] + (f"（{a['reason']}）" if a["reason"] else "")
                                                     for a in session.absent)))
            for speech in session.speeches:
                st.markdown(escape(f"{speech['speaker']}：{speech['text']}"))
            if session.measures:
                st.markdown(escape("落实措施：" + session.measures))
            book = kb.ledger.book(int(session.date[:4]))
            data = next(s for s in book["sessions"] if s["id"] == session.id)
            st.download_button("会议记录（DOCX）", data=minutes_docx(data), mime=DOCX_MIME, on_click="ignore",
                               file_name=f"{session.date}{session.kind}记录.docx", key=f"ls-minutes-{session.id}")


def tasks_tab(kb: KnowledgeBase, actor: str | None) -> None:
    sessions = {s.id: s for s in kb.ledger.sessions()}
    if actor is not None:
        with st.form("ledger-task", clear_on_submit=True):
            st.markdown("**新增落实任务**")
            text = st.text_input("任务", key="lk-text")
            left, right = st.columns(2)
            session = left.selectbox("来源的学习活动", [None, *sessions], key="lk-session",
                                     format_func=lambda i: "（无）" if i is None else
                                     f"{sessions[i].date} {sessions[i].kind}")
            due = right.date_input("完成时限", key="lk-due", value=dt.date.today() + dt.timedelta(days=30))
            department = left.text_input("责任部门", key="lk-department")
            owner = right.text_input("责任人", key="lk-owner")
            if st.form_submit_button("保存任务"):
                _change(lambda: kb.ledger.add_task(text, owner, due.isoformat(), session, department, actor=actor),
                        "已新增落实任务")
                st.rerun()
    today = dt.date.today().isoformat()
    for task in kb.ledger.tasks():
        overdue = task.status != "已完成" and task.due and task.due < today
        with st.container(border=True, key=f"ledger-task-{task.id}"):
            st.markdown((":red[**督办**]　" if overdue else "") + escape(
                f"{task.text}（{task.department or ''}{task.owner}，时限 {task.due or '无'}）：{task.status}"))
            for update in task.updates[-3:]:
                st.caption(escape(f"{update['at'][:16]} {update['user']}：{update['status']} {update['note']}"))
            if actor is not None and task.status != "已完成":
                left, middle, right = st.columns([1, 3, 1])
                new = left.selectbox("状态", TASK_STATES, index=TASK_STATES.index(task.status),
                                     key=f"lk-status-{task.id}", label_visibility="collapsed")
                note = middle.text_input("进展说明", key=f"lk-note-{task.id}", label_visibility="collapsed",
                                         placeholder="进展说明")
                if right.button("更新", key=f"lk-update-{task.id}"):
                    _change(lambda task=task, new=new, note=note: kb.ledger.update_task(task.id, new, note, actor),
                            "已更新")
                    st.rerun()
    if not sessions and not kb.ledger.tasks():
        st.caption("还没有落实任务。")


def stats_tab(kb: KnowledgeBase) -> None:
    year = st.number_input("年度", min_value=2000, max_value=2100, value=dt.date.today().year, key="ledger-year")
    book = kb.ledger.book(int(year))
    stats = book["stats"]
    columns = st.columns(4)
    columns[0].metric("党组会议", stats["sessions"]["党组会议"])
    columns[1].metric("中心组学习", stats["sessions"]["理论学习中心组学习"])
    columns[2].metric("参学率", f"{stats['attendance_rate']:.0%}" if stats["attendance_rate"] is not None else "—")
    columns[3].metric("落实率", f"{stats['completion_rate']:.0%}" if stats["completion_rate"] is not None else "—")
    st.markdown(escape("；".join(f"{kind} {n} 次" for kind, n in stats["sessions"].items())
                       + f"。单篇学习 {stats['single_text']} 次，专题学习 {stats['thematic']} 次。"))
    if stats["speeches"]:
        st.markdown(escape("研讨发言：" + "，".join(f"{k} {n} 次" for k, n in stats["speeches"].items())))
    for plan in book["plan"]:
        st.markdown(escape(f"{plan['month']}月计划：{plan['subject']}　") + (":green[已开展]" if plan["held"]
                                                                               else ":red[未开展]"))
    st.markdown("**情况汇报（草稿）**")
    st.markdown(escape(report_paragraph(book)))
    left, right = st.columns(2)
    left.download_button("导出学习台账（Word）", data=ledger_docx(book), mime=DOCX_MIME, on_click="ignore",
                         file_name=f"{year}年度学习台账.docx", icon=":material/download:")
    right.download_button("导出学习台账（Excel）", data=ledger_xlsx(book), mime=XLSX_MIME, on_click="ignore",
                          file_name=f"{year}年度学习台账.xlsx", icon=":material/download:")
