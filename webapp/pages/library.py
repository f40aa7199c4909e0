"""文库: upload (with a choice for a file that matches a stored document), the table, delete and the trash."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import streamlit as st

from ingest import DOC_TYPES, SUPPORTED_SUFFIXES
from kb.config import Config
from kb.errors import StudyKBError
from kb.language.places import Place
from kb.library.ingestion import IngestReport
from kb.library.knowledge_base import KnowledgeBase
from kb.library.uploads import COMPARED, UPLOAD_CHOICES, Waiting
from kb.types import local_time
from webapp.common import DATE_FORMAT, editor
from webapp.render import escape

# Our own fixed style (no document text in it): the uploader's English hints are hidden (its limit is
# stated in Chinese above it) and its button speaks Chinese.
UPLOADER_STYLE = """<style>
[data-testid="stFileUploaderDropzoneInstructions"] { display: none; }
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] { display: none; }
[data-testid="stFileUploaderDropzone"] button span[data-has-shortcut]::after { content: "选择文件"; }
</style>"""


def library_page(kb: KnowledgeBase, config: Config, docs: list[dict]) -> None:
    st.header("文库")
    state = st.session_state
    state.setdefault("upload_round", 0)
    suffixes = sorted({s.lstrip(".") for s in SUPPORTED_SUFFIXES})
    actor = editor(config)
    if actor is None:
        st.info("上传、删除和恢复文档需要编辑权限：请先在侧栏登录。")
        library_table(docs)
        trash_section(kb, config, can_restore=False)
        return
    state.actor = actor
    st.html(UPLOADER_STYLE)
    files = st.file_uploader(f"上传文件（{'、'.join(suffixes)}；每个文件不超过 {config.max_file_mb} MB）",
                             accept_multiple_files=True, key=f"uploads-{state.upload_round}")
    if st.button("入库", type="primary", disabled=not files):
        ingest_uploads(kb, config, files)
        state.upload_round += 1  # a fresh uploader for the next batch
        st.rerun()
    for kind, message in state.pop("ingest_messages", []):
        getattr(st, kind)(escape(message))
    version_choices(kb, config)

    if not library_table(docs):
        return
    delete_section(kb, config, docs)
    trash_section(kb, config)


# Widths that fit 1366 px beside the sidebar: the title takes the room, short fields stay narrow; the
# least used columns come last (what is past the edge is the file name, the chunk count and the id).
# Pixel widths that add up to the table's room on a 1366-pixel office screen (904 px beside the
# sidebar): one glance, no sideways scrolling. The full dates, file and passage count are on the
# document's own page.
TABLE_COLUMNS = {name: st.column_config.TextColumn(width=width) for name, width in (
    ("标题", 216), ("类型", 56), ("发布机关", 120), ("适用地域", 72), ("文号", 104), ("日期", 92),
    ("时效性", 72), ("入库时间", 128))}


def library_table(docs: list[dict]) -> bool:
    st.subheader(f"已收录文档（{len(docs)} 份）")
    if not docs:
        st.info("知识库是空的。请上传文件，或在命令行运行 `kb ingest 文件夹`。")
        return False
    newest_first = sorted(docs, key=lambda d: (d["added_at"], d["id"]), reverse=True)  # a new upload is seen
    st.dataframe(
        [{"标题": d["title"], "类型": DOC_TYPES.get(d["doc_type"], d["doc_type"]),
          "发布机关": d["issuer"], "适用地域": Place(d["jurisdiction"]).label, "文号": d["doc_number"],
          "日期": d["date"],
          "时效性": d["version_status"] if d["doc_type"] == "regulation" or d["version_status"] != "现行有效" else "",
          "入库时间": local_time(d["added_at"])} for d in newest_first],
        hide_index=True, width="stretch", column_config=TABLE_COLUMNS)
    return True


def delete_section(kb: KnowledgeBase, config: Config, docs: list[dict]) -> None:
    state = st.session_state
    with st.expander("删除文档"):
        # nothing chosen in advance; each entry says which file it came from and when, so two copies differ
        titles = {d["id"]: f"{d['title']}（{d['date'] or '无日期'}；{Path(d['path']).name}，"
                           f"{local_time(d['added_at'])} 入库）" for d in docs}
        doc_id = st.selectbox("要删除的文档", list(titles), format_func=titles.get, key="delete_doc", index=None,
                              placeholder="请选择文档")
        confirm = st.checkbox(f"确认删除（移入回收站，{config.trash_days:g} 天内可恢复）",
                              key=f"delete_confirm-{state.upload_round}")
        if st.button("删除", disabled=not confirm or doc_id is None):
            title = kb.remove(doc_id, actor=state.actor)
            state.ingest_messages = [("success", f"已将《{title}》移入回收站")]
            state.upload_round += 1  # unticks the confirmation
            st.rerun()


def trash_section(kb: KnowledgeBase, config: Config, can_restore: bool = True) -> None:
    """Deleted, pruned and replaced documents, each restorable until the trash is emptied."""
    trash = kb.trash()
    with st.expander(f"回收站（{len(trash)} 份）"):
        if not trash:
            st.caption(f"删除和被替换的文档在这里保留 {config.trash_days:g} 天。")
            return
        for item in trash:
            left, right = st.columns([5, 1])
            left.markdown(escape(f"《{item['title']}》 {item['reason_label']}，{local_time(item['trashed_at'])}，"
                                 f"{item['chunks']} 个片段（{Path(item['path']).name}）"))
            if can_restore and right.button("恢复", key=f"restore-{item['doc_id']}"):
                try:
                    title = kb.restore(item["doc_id"], actor=st.session_state.actor)
                    st.session_state.ingest_messages = [("success", f"已恢复《{title}》")]
                except StudyKBError as exc:
                    st.session_state.ingest_messages = [("warning", exc.reason)]
                st.rerun()


def ingest_uploads(kb: KnowledgeBase, config: Config, files) -> None:
    """Saves and ingests uploads (kb.upload). A file that is another copy or version of a stored
    document (same title and date, or most of the same text) waits for the user's choice instead."""
    bar = progress_bar()
    result = kb.upload([(f.name, f.getvalue()) for f in files], actor=st.session_state.actor, on_progress=bar,
                       max_mb=config.max_file_mb)
    messages = [("error", f"未入库：{name}：{reason}") for name, reason in result.refused]
    messages += report_messages(result.report, result.names)
    # added to any still awaiting a choice: a second batch never drops the first
    st.session_state.pending_versions = st.session_state.get("pending_versions", []) + result.waiting
    st.session_state.ingest_messages = messages


def progress_bar():
    bar = st.progress(0.0, text="正在读取和切分……")

    def progress(done: int, total: int) -> None:
        bar.progress(done / total if total else 1.0, text=f"正在向量化：{done}/{total} 段")
    return progress


def report_messages(report: IngestReport, names: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """What an ingestion did, file by file, as (kind, message) for st.success, st.info ..."""
    names = names or {}
    messages: list[tuple[str, str]] = []
    for path in report.added + report.replaced:
        messages.append(("success", f"已入库：{names.get(path, Path(path).name)}"))
    for path in report.unchanged:
        messages.append(("info", f"内容未变，跳过：{Path(path).name}"))
    for path, title in report.duplicates:
        messages.append(("info", f"与已收录的《{title}》内容相同，跳过：{Path(path).name}"))
    for path, reason in report.failed:
        messages.append(("error", f"未入库：{Path(path).name}：{reason}"))
    if report.chunks:
        messages.append(("caption", f"新增 {report.chunks} 个片段，用时 {report.seconds:.1f} 秒"))
    return messages


def read_day(text: str) -> dt.date | None:
    """A date as a file reads it, when it is a real day the date box can show (2019-02-30 is not)."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return day if day >= dt.date(1900, 1, 1) else None


def version_choices(kb: KnowledgeBase, config: Config) -> None:
    """Asks what to do with each upload that matches a stored document, then does it (kb.settle_upload)."""
    pending: list[Waiting] = st.session_state.get("pending_versions") or []
    if not pending:
        return
    st.warning("以下文件与已收录的文档标题和日期相同，或正文大部分相同。请选择处理方式：")
    for waiting in pending:
        same = "、".join(f"《{d['title']}》（{d['date'] or '无日期'}；{Path(d['path']).name}，"
                        f"{local_time(d['added_at'])} 入库）"
                        for d in waiting.similar)
        # keyed by the saved file: a choice made for one file never carries over to another
        choice = st.radio(escape(f"{Path(waiting.path).name} —— 与 {same} 相同或相近"), list(UPLOAD_CHOICES),
                          index=None, format_func=UPLOAD_CHOICES.get, key=f"version-{waiting.path}")
        if choice == "replace":
            for name, (stored, new) in waiting.differences().items():  # kept as stored unless picked
                label = COMPARED[name]
                st.radio(escape(f"{label}不同"), ["stored", "new"], horizontal=True, key=f"take-{name}-{waiting.path}",
                         format_func=lambda side, s=stored, n=new, label=label: escape(
                             f"保留已收录的{label}：{s}" if side == "stored" else f"采用新文件的{label}：{n}"))
        elif choice == "version":
            st.date_input("新版本的日期（应与已收录的版本不同）", key=f"version-date-{waiting.path}",
                          format=DATE_FORMAT, value=read_day(waiting.incoming.get("date", "")),
                          min_value=dt.date(1900, 1, 1))
    chosen = [st.session_state.get(f"version-{w.path}") for w in pending]
    if st.button("按所选处理", type="primary", disabled=None in chosen):
        messages: list[tuple[str, str]] = []
        replaced_ids: set[int] = set()  # the .md and the .docx of one law both replacing it
        still_waiting: list[Waiting] = []
        try:
            for waiting, choice in zip(pending, chosen):
                st.session_state.pop(f"version-{waiting.path}", None)
                take_new = tuple(name for name in COMPARED
                                 if st.session_state.pop(f"take-{name}-{waiting.path}", "stored") == "new")
                day = st.session_state.pop(f"version-date-{waiting.path}", None)
                try:
                    settled = kb.settle_upload(waiting, choice, actor=st.session_state.actor, skip_ids=replaced_ids,
                                               on_progress=progress_bar() if choice != "skip" else None,
                                               take_new=take_new, version_date=day.isoformat() if day else "")
                except StudyKBError as exc:  # a version dated as a stored one: asked again
                    messages.append(("error", f"{Path(waiting.path).name}：{exc.reason}"))
                    still_waiting.append(waiting)
                    continue
                if choice == "skip":
                    messages.append(("info", f"已跳过：{Path(waiting.path).name}"))
                    continue
                messages += report_messages(settled.report)
                messages += [("success", f"已替换《{title}》（{Path(d['path']).name}）")
                             for d, title in settled.replaced]
                messages += [("warning", f"《{title}》仍在回收站中：{why}") for title, why in settled.still_in_trash]
        finally:
            st.session_state.pending_versions = still_waiting
        st.session_state.ingest_messages = messages
        st.session_state.upload_round += 1
        st.rerun()
