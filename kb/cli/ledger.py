"""`kb ledger ...`: the 第一议题 学习台账 from the command line (kb.library.ledger holds the rules)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path

from kb.config import Config
from kb.library.ledger import KINDS, TASK_STATES


def add_parser(sub) -> None:
    p = sub.add_parser("ledger", help="学习台账：第一议题、学习活动、落实任务、统计和导出")
    objects = p.add_subparsers(dest="object", required=True, metavar="对象")

    topic = objects.add_parser("topic", help="议题库").add_subparsers(dest="action", required=True, metavar="操作")
    t = topic.add_parser("add", help="新增议题")
    t.add_argument("title", nargs="?", default="", metavar="议题", help="议题名称（给了 --doc 时可省略，取文档标题）")
    t.add_argument("--date", default="", help="印发或发表日期 YYYY-MM-DD（传达时限由此起算）")
    t.add_argument("--doc", help="文库中的文档（编号、路径或标题）")
    t.add_argument("--leader", default="", help="分管领导")
    t.add_argument("--received", default="", help="收到日期")
    t.add_argument("--source", default="", help="来源：文电、学习强国、媒体、上级通知")
    _json(t)
    _json(topic.add_parser("list", help="列出议题，及文库中可设为议题的讲话和政策文件"))

    session = objects.add_parser("session", help="学习活动").add_subparsers(dest="action", required=True,
                                                                        metavar="操作")
    s = session.add_parser("add", help="记录学习活动")
    s.add_argument("--date", required=True, help="日期 YYYY-MM-DD")
    s.add_argument("--kind", required=True, choices=KINDS, help="形式（党组会议的第一个议题即为传达的“第一议题”）")
    s.add_argument("--topic", type=int, action="append", default=[], help="议题编号，可重复，按议程顺序")
    s.add_argument("--host", default="", help="主持人")
    s.add_argument("--lead", default="", help="领学或传达人（民政大讲堂为主讲人）")
    s.add_argument("--attendees", default="", help="出席人员，逗号分隔")
    s.add_argument("--absent", default="", help="缺席人员及事由，如 “张三（出差）,李四”")
    s.add_argument("--notes", default="", help="会议记录")
    s.add_argument("--measures", default="", help="贯彻落实措施")
    s.add_argument("--speech", action="append", default=[], metavar="发言人:内容", help="研讨发言，可重复")
    _json(s)
    _json(session.add_parser("list", help="列出学习活动"))
    m = session.add_parser("minutes", help="导出一次活动的会议记录（DOCX）")
    m.add_argument("id", type=int)
    m.add_argument("--docx", type=Path, required=True)

    task = objects.add_parser("task", help="落实台账").add_subparsers(dest="action", required=True, metavar="操作")
    k = task.add_parser("add", help="新增落实任务")
    k.add_argument("text", metavar="任务")
    k.add_argument("--session", type=int, help="来源的学习活动编号")
    k.add_argument("--owner", default="", help="责任人")
    k.add_argument("--department", default="", help="责任部门")
    k.add_argument("--due", default="", help="完成时限 YYYY-MM-DD")
    _json(k)
    for name, help_text in (("done", "标记为已完成"), ("update", "更新进展")):
        u = task.add_parser(name, help=help_text)
        u.add_argument("id", type=int)
        if name == "update":
            u.add_argument("--status", required=True, choices=TASK_STATES)
        u.add_argument("--note", default="", help="进展说明")
        _json(u)
    _json(task.add_parser("list", help="列出落实任务（逾期未完成的标为督办）"))

    st = objects.add_parser("status", help="第一议题传达情况：待传达、按期传达、逾期传达、逾期未传达")
    st.add_argument("--today", default="", help="按这一天计算（默认今天）")
    _json(st)
    stats = objects.add_parser("stats", help="年度统计：各类活动次数、参学率、落实率")
    stats.add_argument("--year", type=int, default=dt.date.today().year)
    stats.add_argument("--today", default="")
    _json(stats)
    e = objects.add_parser("export", help="导出年度学习台账（Word 表格、Excel 工作簿）")
    e.add_argument("--year", type=int, default=dt.date.today().year)
    e.add_argument("--docx", type=Path)
    e.add_argument("--xlsx", type=Path)
    e.add_argument("--today", default="")
    plan = objects.add_parser("plan", help="年度学习计划（每月学习内容），及与实际开展的对照")
    plan.add_argument("--year", type=int, default=dt.date.today().year)
    plan.add_argument("--add", nargs=2, metavar=("月份", "内容"), help="加入计划")
    _json(plan)


def _json(p) -> None:
    p.add_argument("--json", action="store_true", help="以 JSON 输出")


def _show(value, as_json: bool, line: str) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2) if as_json else line)


def cmd_ledger(config: Config, args: argparse.Namespace) -> int:
    from kb.export.ledger import ledger_docx, ledger_xlsx, minutes_docx
    from kb.library.knowledge_base import KnowledgeBase
    from kb.library.ledger import Session

    ledger = KnowledgeBase(config, check_model=False).ledger
    as_json = getattr(args, "json", False)
    what, action = args.object, getattr(args, "action", "")
    if (what, action) == ("topic", "add"):
        topic = ledger.add_topic(args.title, args.date, args.received, args.source, args.leader, args.doc)
        _show(asdict(topic), as_json, f"已新增议题 {topic.id}：{topic.title}（{topic.date}）")
    elif (what, action) == ("topic", "list"):
        topics, proposals = [asdict(t) for t in ledger.topics()], ledger.proposals()
        lines = [f"[{t['id']}] {t['date']} {t['title']}" for t in topics] + [
            f"  可设为议题：[文档 {d['id']}] {d['title']}（{d['date']}）" for d in proposals]
        _show({"topics": topics, "proposals": proposals}, as_json, "\n".join(lines) or "还没有议题。")
    elif (what, action) == ("session", "add"):
        speeches = [{"speaker": s.partition(":")[0].partition("：")[0].strip(),
                     "text": (s.partition(":")[2] or s.partition("：")[2]).strip()} for s in args.speech]
        session = ledger.add_session(args.date, args.kind, args.topic, args.host, args.lead, args.attendees,
                                     args.absent, args.notes, args.measures, speeches)
        _show(asdict(session), as_json, f"已记录学习活动 {session.id}：{session.date} {session.kind}")
    elif (what, action) == ("session", "list"):
        sessions = [asdict(s) for s in ledger.sessions()]
        _show(sessions, as_json, "\n".join(f"[{s['id']}] {s['date']} {s['kind']} 议题 {s['topics']} "
                                           f"出席 {len(s['attendees'])} 人" for s in sessions) or "还没有学习活动。")
    elif (what, action) == ("session", "minutes"):
        session = ledger.get(Session, args.id)
        book = ledger.book(int(session.date[:4]))
        args.docx.write_bytes(minutes_docx(next(s for s in book["sessions"] if s["id"] == args.id)))
        print(f"会议记录：{args.docx}")
    elif what == "task":
        if action == "add":
            task = ledger.add_task(args.text, args.owner, args.due, args.session, args.department)
        elif action in ("done", "update"):
            task = ledger.update_task(args.id, "已完成" if action == "done" else args.status, args.note)
        else:
            tasks = [asdict(t) for t in ledger.tasks()]
            today = dt.date.today().isoformat()
            _show(tasks, as_json, "\n".join(
                f"[{t['id']}] {t['status']} {t['text']}（{t['owner']}，{t['due'] or '无时限'}）"
                + ("  逾期，督办" if t["status"] != "已完成" and t["due"] and t["due"] < today else "")
                for t in tasks) or "还没有落实任务。")
            return 0
        _show(asdict(task), as_json, f"任务 {task.id}：{task.text}（{task.status}）")
    elif what == "status":
        topics = ledger.status(args.today)
        _show({"topics": topics}, as_json, "\n".join(
            f"[{t['id']}] {t['label']}{'（' + str(t['days']) + '天）' if t['status'] != 'on_time' else ''} "
            f"{t['title']}（{t['date']}，时限 {t['deadline']}{'，传达 ' + t['conveyed'] if t['conveyed'] else ''}）"
            for t in topics) or "还没有议题。")
    elif what == "stats":
        stats = ledger.stats(args.year, args.today)
        rate = f"{stats['attendance_rate']:.1%}" if stats["attendance_rate"] is not None else "—"
        _show(stats, as_json, "；".join(f"{k} {n} 次" for k, n in stats["sessions"].items())
              + f"\n参学率 {rate}；落实任务 {stats['tasks']['total']} 项，已完成 {stats['tasks']['done']} 项")
    elif what == "export":
        if not args.docx and not args.xlsx:
            print("请用 --docx 文件 或 --xlsx 文件 指定导出到哪里。")
            return 1
        book = ledger.book(args.year, args.today)
        for path, write in ((args.docx, ledger_docx), (args.xlsx, ledger_xlsx)):
            if path:
                path.write_bytes(write(book))
                print(f"已导出 {args.year} 年学习台账：{path}")
    elif what == "plan":
        if args.add:
            ledger.set_plan(args.year, int(args.add[0]), args.add[1])
        plan = ledger.plan(args.year)
        _show(plan, as_json, "\n".join(f"{p['month']}月 {p['subject']}：{'已开展' if p['held'] else '未开展'}"
                                       for p in plan) or "还没有学习计划。")
    return 0
