"""The 学习台账 written out in official style (kb.library.ledger's `book` is the data): the year's
ledger as a Word document of tables and as an Excel workbook (openpyxl), one session's 会议记录, and
a 情况汇报 paragraph with the year's counts filled in, in the words of the bureau's own report."""

from __future__ import annotations

import io

from kb.export import BODY_FONT, HEADING_FONT, _fonts, _official

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUS_COLUMNS = ("序号", "议题", "印发日期", "传达时限", "传达日期", "状态")
SESSION_COLUMNS = ("序号", "日期", "形式", "学习内容", "主持", "领学/传达", "出席", "缺席（原因）", "研讨发言",
                   "落实措施")
TASK_COLUMNS = ("序号", "任务", "责任部门", "责任人", "完成时限", "状态", "来源")


def _status_rows(book: dict) -> list[list[str]]:
    return [[str(n), r["title"], r["date"], r["deadline"], r["conveyed"] or "—",
             r["label"] + (f"（{r['days']}天）" if r["status"] in ("late", "overdue") else "")]
            for n, r in enumerate(book["status"], 1)]


def _session_rows(book: dict) -> list[list[str]]:
    return [[str(n), s["date"], s["kind"], "；".join(s["topic_titles"]), s["host"], s["lead"], str(len(s["attendees"])),
             "、".join(a["name"] + (f"（{a['reason']}）" if a["reason"] else "") for a in s["absent"]) or "无",
             "、".join(sp["speaker"] for sp in s["speeches"]) or "—", s["measures"] or "—"]
            for n, s in enumerate(book["sessions"], 1)]


def _task_rows(book: dict) -> list[list[str]]:
    return [[str(n), t["text"], t["department"], t["owner"], t["due"],
             t["status"] + ("（逾期，督办）" if t["overdue"] else ""), t["session"]]
            for n, t in enumerate(book["tasks"], 1)]


def _stats_lines(book: dict) -> list[str]:
    s = book["stats"]
    kinds = "，".join(f"{kind} {n} 次" for kind, n in s["sessions"].items() if n) or "无"
    rate = f"{s['attendance_rate']:.1%}" if s["attendance_rate"] is not None else "—"
    done = f"{s['completion_rate']:.1%}" if s["completion_rate"] is not None else "—"
    lines = [f"学习活动：{kinds}。", f"参学率：{rate}（应参加 {s['expected']} 人次，实参加 {s['present']} 人次）。",
             f"落实率：{done}（落实任务 {s['tasks']['total']} 项，已完成 {s['tasks']['done']} 项，"
             f"逾期未完成 {s['tasks']['overdue']} 项）。",
             f"单篇学习 {s['single_text']} 次，专题学习（多篇）{s['thematic']} 次。"]
    if s["speeches"]:
        lines.append("研讨发言：" + "，".join(f"{name} {n} 次" for name, n in s["speeches"].items()) + "。")
    if s["lectures"]:
        lines.append("讲党课（民政大讲堂）：" + "，".join(f"{name} {n} 次" for name, n in s["lectures"].items()) + "。")
    return lines


def report_paragraph(book: dict) -> str:
    """A draft 情况汇报 paragraph with the year's counts, as the bureau's report writes them."""
    s, year = book["stats"], book["year"]
    conveyed = s["topics"]["on_time"] + s["topics"]["late"]
    rate = f"{s['attendance_rate']:.0%}" if s["attendance_rate"] is not None else "—"
    done = f"{s['completion_rate']:.0%}" if s["completion_rate"] is not None else "—"
    return ("坚持把党中央重大决策部署、习近平总书记重要讲话和重要指示批示精神作为党组会议的“第一议题”"
            f"在一周内传达部署。{year}年截至{book['today'][5:7].lstrip('0')}月{book['today'][8:].lstrip('0')}日，共传达学习“第一议题”{conveyed}项，"
            f"其中按期传达{s['topics']['on_time']}项；召开党组会议{s['sessions']['党组会议']}次、"
            f"理论学习中心组学习会{s['sessions']['理论学习中心组学习']}次、专题研讨{s['sessions']['专题研讨']}次，"
            f"举办民政大讲堂{s['sessions']['民政大讲堂']}期，参学率{rate}；"
            f"研究制定贯彻落实措施{s['tasks']['total']}项，已完成{s['tasks']['done']}项，落实率{done}。")


def _table(doc, columns: tuple[str, ...], body: list[list[str]]) -> None:
    from docx.shared import Pt

    table = doc.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, columns):
        cell.text = name
        for run in cell.paragraphs[0].runs:
            _fonts(run, HEADING_FONT, 10.5)
    for values in body:
        for cell, value in zip(table.add_row().cells, values):
            cell.text = value
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.line_spacing = Pt(16)
                for run in paragraph.runs:
                    _fonts(run, BODY_FONT, 10.5)
    if not body:
        doc.add_paragraph("（无）")


def ledger_docx(book: dict) -> bytes:
    """The year's 学习台账: 第一议题 传达, 学习活动, 落实台账 as tables, then the statistics and the
    情况汇报 paragraph."""
    doc = _official(f"{book['year']}年度学习台账")
    for heading, columns, body in (("一、“第一议题”传达情况", STATUS_COLUMNS, _status_rows(book)),
                                   ("二、学习活动", SESSION_COLUMNS, _session_rows(book)),
                                   ("三、落实台账", TASK_COLUMNS, _task_rows(book))):
        doc.add_paragraph(heading, style="Heading 1")
        _table(doc, columns, body)
    doc.add_paragraph("四、统计", style="Heading 1")
    for line in _stats_lines(book):
        doc.add_paragraph(line)
    doc.add_paragraph("五、情况汇报（草稿）", style="Heading 1")
    doc.add_paragraph(report_paragraph(book))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def ledger_xlsx(book: dict) -> bytes:
    """The same ledger as an Excel workbook: one sheet per table, and the statistics."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheets = (("第一议题", STATUS_COLUMNS, _status_rows(book)), ("学习活动", SESSION_COLUMNS, _session_rows(book)),
              ("落实台账", TASK_COLUMNS, _task_rows(book)),
              ("统计", ("项目",), [[line] for line in _stats_lines(book)]))
    for n, (name, columns, body) in enumerate(sheets):
        sheet = workbook.active if n == 0 else workbook.create_sheet()
        sheet.title = name
        sheet.append(list(columns))
        for cell in sheet[1]:
            cell.font = Font(name=HEADING_FONT, bold=True)
        for values in body:
            sheet.append([int(v) if i == 0 and v.isdigit() else v for i, v in enumerate(values)])
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                cell.font = Font(name=BODY_FONT)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        for column, width in zip("ABCDEFGHIJ", (6, 30, 12, 12, 12, 16, 10, 16, 16, 30)):
            sheet.column_dimensions[column].width = width if name != "统计" else 90
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def minutes_docx(session: dict) -> bytes:
    """A session's 会议记录 (`session`: one of book["sessions"])."""
    doc = _official(f"{session['kind']}记录")
    absent = "、".join(a["name"] + (f"（{a['reason']}）" if a["reason"] else "") for a in session["absent"]) or "无"
    for label, value in (("时间", session["date"]), ("形式", session["kind"]), ("主持人", session["host"] or "—"),
                         ("领学/传达", session["lead"] or "—"), ("出席", "、".join(session["attendees"]) or "—"),
                         ("缺席", absent), ("学习内容", "；".join(session["topic_titles"]) or "—")):
        paragraph = doc.add_paragraph()
        _fonts(paragraph.add_run(f"{label}："), HEADING_FONT)
        paragraph.add_run(value)
    if session["notes"]:
        doc.add_paragraph("会议内容", style="Heading 1")
        for line in session["notes"].splitlines():
            if line.strip():
                doc.add_paragraph(line.strip())
    if session["speeches"]:
        doc.add_paragraph("研讨发言", style="Heading 1")
        for speech in session["speeches"]:
            paragraph = doc.add_paragraph()
            _fonts(paragraph.add_run(f"{speech['speaker']}："), HEADING_FONT)
            paragraph.add_run(speech["text"] or "（提纲略）")
    if session["measures"]:
        doc.add_paragraph("贯彻落实措施", style="Heading 1")
        for line in session["measures"].splitlines():
            if line.strip():
                doc.add_paragraph(line.strip())
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
