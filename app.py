"""studykb in the browser: 检索, 问答, 文库, 文档, 素材篮. A thin layer over kb.library:
the knowledge base and its model are loaded once per process and shared by every session
(one lock serialises them); document text always goes through webapp.render, shown as text.

    streamlit run app.py        (STUDYKB_DATA and the other settings as for the CLI)
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from pathlib import Path

import streamlit as st

from ingest import DOC_TYPES, SUPPORTED_SUFFIXES
from kb.answer import Answer
from kb.config import Config
from kb.errors import StudyKBError, UploadError
from kb.library import KnowledgeBase
from kb.place import Place
from kb.types import SEARCH_MODES, Filters, Hit
from webapp.basket import BasketItem, add, move, to_docx, to_markdown
from webapp.render import document_blocks, escape, highlight, highlight_terms
from webapp.uploads import save_upload

PAGES = ("检索", "问答", "文库", "文档", "素材篮")
# Each example works on the bundled corpus (tests/test_app.py runs them): a question, a citation, a quoted phrase.
SEARCH_EXAMPLES = "例如：低保怎么申请、社会救助暂行办法第十一条、\"兜底\"（引号内为原文中的确切短语）"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@st.cache_resource(show_spinner="正在加载知识库和向量模型（每个进程只加载一次）……")
def open_kb(data_dir: str, model: str) -> tuple[KnowledgeBase, threading.Lock]:
    """One knowledge base per data folder and model, for the life of the process. Sessions
    take turns with it (the lock): SQLite and the in-memory index are not shared mid-change."""
    kb = KnowledgeBase(Config.load(data_dir, model=model))
    kb.warm()
    return kb, threading.Lock()


def main() -> None:
    st.set_page_config(page_title="学习资料知识库", page_icon=":material/menu_book:", layout="wide")
    config = Config.load()
    try:
        kb, lock = open_kb(str(config.data_dir), config.model)
    except StudyKBError as exc:  # a mismatched model or a damaged file: say so, don't show a traceback
        st.error(f"知识库无法打开：{exc}")
        st.stop()
    state = st.session_state
    state.setdefault("basket", [])
    state.setdefault("page", PAGES[0])
    page = {"检索": search_page, "问答": ask_page, "文库": library_page, "文档": document_page, "素材篮": basket_page}
    with lock:
        with st.sidebar:
            st.title("学习资料知识库")
            st.radio("页面", PAGES, key="page", label_visibility="collapsed")
            docs = kb.documents()  # read once per run; every page works from this list
            st.caption(f"已收录 {len(docs)} 份文档 · 素材篮 {len(state.basket)} 条")
        try:
            page[state.page](kb, config, docs)
        except StudyKBError as exc:  # e.g. a document another session just deleted
            st.error(f"出错了：{exc}")


# ------------------------------------------------------------------ shared parts

def sidebar_filters(docs: list[dict]) -> tuple[Filters, str]:
    with st.sidebar:
        st.subheader("检索条件")
        # each choice says how many documents it holds, so an empty one (讲话 0) explains an empty result
        by_type = Counter(d["doc_type"] for d in docs)
        types = st.multiselect("文档类型", list(DOC_TYPES), format_func=lambda t: f"{DOC_TYPES[t]}（{by_type[t]}）",
                               key="f_types", placeholder="全部")
        date_from = st.date_input("起始日期", value=None, key="f_from", min_value=dt.date(1949, 1, 1))
        date_to = st.date_input("截止日期", value=None, key="f_to", min_value=dt.date(1949, 1, 1))
        issuers = st.multiselect("发布机关", sorted({d["issuer"] for d in docs if d["issuer"]}), key="f_issuers",
                                 placeholder="全部")
        # the jurisdictions present, national first; each takes the places within it
        by_place = Counter(d["jurisdiction"] for d in docs)
        places = sorted(by_place, key=lambda code: (code != "", code))
        place_codes = st.multiselect("适用地域", places, key="f_places", placeholder="全部",
                                     format_func=lambda code: f"{Place(code).label}（{by_place[code]}）")
        titles = {d["id"]: doc_label(d) for d in docs}
        doc_ids = st.multiselect("限定文档", list(titles), format_func=titles.get, key="f_docs", placeholder="全部")
        mode = st.selectbox("检索方式", list(SEARCH_MODES), format_func=SEARCH_MODES.get, key="f_mode")
    filters = Filters(doc_types=types or None, date_from=date_from.isoformat() if date_from else None,
                      date_to=date_to.isoformat() if date_to else None, doc_ids=doc_ids or None,
                      issuers=issuers or None, places=place_codes or None)
    return filters, mode


def doc_label(doc: dict) -> str:
    return doc["title"] + (f"（{doc['date']}）" if doc["date"] else "")


def open_document(doc_id: int, start: int | None = None, end: int | None = None) -> None:
    """Callback: show a document on the 文档 page, at a cited span when one is given."""
    st.session_state.page = "文档"
    st.session_state.doc_select = doc_id
    st.session_state.cited = (doc_id, start, end) if start is not None else None


def add_to_basket(hit: Hit) -> None:
    if add(st.session_state.basket, BasketItem.from_hit(hit)):
        st.toast("已加入素材篮")
    else:
        st.toast("素材篮中已有这段内容")


def hit_card(kb: KnowledgeBase, hit: Hit, n: int, terms: list[str], key: str) -> None:
    c = hit.citation
    with st.container(border=True, key=f"{key}-card-{n}"):
        st.markdown(f"**{n}\\. {escape('《' + c.title + '》')}** {escape(c.location())}")
        meta = [c.applies_in(), DOC_TYPES.get(c.doc_type, ""), c.speaker, c.doc_number, c.date,
                f"第{c.page}页" if c.page else ""]
        st.caption(escape(" · ".join(m for m in meta if m)))
        st.markdown(highlight(hit.text, terms))
        left, right, _ = st.columns([1, 1, 4])
        left.button("加入素材篮", key=f"{key}-add-{hit.chunk_id}", on_click=add_to_basket, args=(hit,),
                    icon=":material/add:")
        right.button("查看原文", key=f"{key}-open-{hit.chunk_id}", on_click=open_document,
                     args=(hit.doc_id, hit.start, hit.end), icon=":material/description:")
        with st.expander("上下文"):
            before, after = kb.context(hit)
            if before:
                st.markdown(escape(before))
            st.markdown(f"**{escape(hit.text)}**")
            if after:
                st.markdown(escape(after))


def cached(name: str, key: tuple, compute):
    """Keeps the last result per page in the session, so a click elsewhere does not re-run it."""
    slot = st.session_state.get(name)
    if slot is None or slot[0] != key:
        t0 = time.perf_counter()
        slot = (key, compute(), time.perf_counter() - t0)
        st.session_state[name] = slot
    return slot[1], slot[2]


# ------------------------------------------------------------------------ pages

def search_page(kb: KnowledgeBase, config: Config, docs: list[dict]) -> None:
    st.header("检索")
    filters, mode = sidebar_filters(docs)
    query = st.text_input("检索内容", key="query",
                          placeholder=SEARCH_EXAMPLES)
    if not query.strip():
        st.info("输入问题或关键词后按回车。可用引号检索原文中的确切短语，也可直接输入“法规名+条号”。")
        return

    hits, seconds = cached("search_result", (query, repr(filters), mode),
                           lambda: kb.search(query, k=10, filters=filters, mode=mode))
    places = kb.asked_places(query)
    where = f"；{'、'.join(p.label for p in places)}和全国的规定排在前面" if places else ""
    expansions = kb.expansions(query)
    also = f"；已同时检索：{'、'.join(expansions)}" if expansions else ""
    st.caption(escape(f"共 {len(hits)} 条结果，用时 {seconds * 1000:.0f} 毫秒{where}{also}"))
    if not hits:
        st.warning("没有找到相关内容。可以换个说法，或放宽检索条件。")
    terms = highlight_terms(query, kb.words, kb.glossary)
    for n, hit in enumerate(hits, 1):
        hit_card(kb, hit, n, terms, "s")


def ask_page(kb: KnowledgeBase, config: Config, docs: list[dict]) -> None:
    st.header("问答")
    filters, _ = sidebar_filters(docs)
    question = st.text_input("问题", key="question", placeholder="例如：离婚要带什么材料")
    if not question.strip():
        st.info("输入问题后按回车。回答摘自知识库原文，每句标有出处编号 [n]。")
        return

    answer: Answer
    answer, seconds = cached("ask_result", (question, repr(filters)), lambda: kb.ask(question, filters=filters))
    with st.container(border=True):
        st.markdown(escape(answer.text))
    st.caption(f"用时 {seconds * 1000:.0f} 毫秒")
    if answer.sources:
        st.subheader("引用的原文")
    terms = highlight_terms(question, kb.words, kb.glossary)
    for n, hit in enumerate(answer.sources, 1):
        hit_card(kb, hit, n, terms, "a")


def library_page(kb: KnowledgeBase, config: Config, docs: list[dict]) -> None:
    st.header("文库")
    state = st.session_state
    state.setdefault("upload_round", 0)
    suffixes = sorted({s.lstrip(".") for s in SUPPORTED_SUFFIXES})
    files = st.file_uploader(f"上传文件（{'、'.join(suffixes)}；每个文件不超过 {config.upload_max_mb} MB）",
                             accept_multiple_files=True, key=f"uploads-{state.upload_round}")
    if st.button("入库", type="primary", disabled=not files):
        ingest_uploads(kb, config, files)
        state.upload_round += 1  # a fresh uploader for the next batch
        st.rerun()
    for kind, message in state.pop("ingest_messages", []):
        getattr(st, kind)(escape(message))

    st.subheader(f"已收录文档（{len(docs)} 份）")
    if not docs:
        st.info("知识库是空的。请上传文件，或在命令行运行 `kb ingest 文件夹`。")
        return
    st.dataframe(
        [{"编号": d["id"], "标题": d["title"], "类型": DOC_TYPES.get(d["doc_type"], d["doc_type"]),
          "发布机关": d["issuer"], "适用地域": Place(d["jurisdiction"]).label, "文号": d["doc_number"],
          "日期": d["date"], "片段数": d["chunks"],
          "格式": d["source_format"]} for d in docs],
        hide_index=True, width="stretch")
    with st.expander("删除文档"):
        titles = {d["id"]: f"{d['title']}（{d['date'] or '无日期'}，编号 {d['id']}）" for d in docs}
        doc_id = st.selectbox("要删除的文档", list(titles), format_func=titles.get, key="delete_doc")
        confirm = st.checkbox("确认删除（原文、片段和向量都将移除）", key=f"delete_confirm-{state.upload_round}")
        if st.button("删除", disabled=not confirm):
            title = kb.remove(doc_id)  # an uploaded copy goes with its document
            state.ingest_messages = [("success", f"已删除《{title}》")]
            state.upload_round += 1  # unticks the confirmation
            st.rerun()


def ingest_uploads(kb: KnowledgeBase, config: Config, files) -> None:
    messages: list[tuple[str, str]] = []
    paths: list[Path] = []
    for f in files:
        try:
            paths.append(save_upload(f.name, f.getvalue(), config.uploads_path, config.upload_max_mb * 2**20))
        except UploadError as exc:
            messages.append(("error", f"未入库：{exc.name}：{exc.reason}"))
    if paths:
        bar = st.progress(0.0, text="正在读取和切分……")

        def progress(done: int, total: int) -> None:
            bar.progress(done / total if total else 1.0, text=f"正在向量化：{done}/{total} 段")

        report = kb.ingest(list(dict.fromkeys(paths)), progress=False, on_progress=progress)  # a file once
        bar.progress(1.0, text="完成")
        discard_uploads(kb, config, [path for path, _ in report.failed + report.duplicates])
        names = {str(p.resolve()): p.name for p in paths}
        for path in report.added + report.replaced:
            messages.append(("success", f"已入库：{names.get(path, Path(path).name)}"))
        for path in report.unchanged:
            messages.append(("info", f"内容未变，跳过：{Path(path).name}"))
        for path, title in report.duplicates:
            messages.append(("info", f"与已收录的《{title}》内容相同，跳过：{Path(path).name}"))
        for path, reason in report.failed:
            messages.append(("error", f"未入库：{Path(path).name}：{reason}"))
        messages.append(("caption", f"共 {report.chunks} 个片段，用时 {report.seconds:.1f} 秒"))
    st.session_state.ingest_messages = messages


def discard_uploads(kb: KnowledgeBase, config: Config, paths: list[str]) -> None:
    """Deletes saved uploads that did not become documents (unreadable, or the same content as
    another stored document): the upload folder keeps only the originals of stored documents."""
    stored = {d["path"] for d in kb.documents()}
    for path in {Path(p).resolve() for p in paths}:
        if config.is_upload(path) and str(path) not in stored:
            path.unlink(missing_ok=True)


def document_page(kb: KnowledgeBase, config: Config, docs: list[dict]) -> None:
    st.header("文档")
    by_id = {d["id"]: d for d in docs}
    if not by_id:
        st.info("知识库是空的。")
        return
    state = st.session_state
    if state.get("doc_select") not in by_id:
        state.doc_select = next(iter(by_id))
    doc_id = st.selectbox("文档", list(by_id), key="doc_select", format_func=lambda i: doc_label(by_id[i]))
    doc = kb.document(doc_id)
    meta = [DOC_TYPES.get(doc.doc_type, ""), doc.issuer, doc.doc_number, doc.published or doc.date,
            f"{doc.effective}施行" if doc.effective else "", f"{by_id[doc_id]['chunks']} 个片段"]
    st.subheader(escape(doc.title))
    st.caption(escape(" · ".join(m for m in meta if m)))
    cited = state.get("cited")
    span = (cited[1], cited[2]) if cited and cited[0] == doc_id else None
    for kind, text in document_blocks(doc.text, doc.doc_type == "regulation", span):
        if kind == "heading":
            st.markdown(f"##### {escape(text)}")
        elif kind == "cited":
            with st.container(border=True, key="cited"):
                st.caption("▼ 引用位置")
                st.markdown(escape(text))
        else:
            st.markdown(escape(text))
    if span:
        # Our own fixed script (no document text in it): bring the cited passage into view.
        st.html("<script>setTimeout(() => document.querySelector('.st-key-cited')"
                "?.scrollIntoView({block: 'center'}), 300)</script>", unsafe_allow_javascript=True)


def basket_page(kb: KnowledgeBase, config: Config, docs: list[dict]) -> None:
    st.header("素材篮")
    items: list[BasketItem] = st.session_state.basket
    if not items:
        st.info("素材篮是空的。在“检索”或“问答”页点“加入素材篮”收集段落。")
        return
    title = st.text_input("素材标题", value="学习素材", key="basket_title")
    for i, item in enumerate(items):
        key = f"{item.doc_id}-{item.start}-{item.end}"
        with st.container(border=True):
            st.markdown(f"**{i + 1}\\. {escape('《' + item.title + '》')}** {escape(item.location)}")
            st.markdown(escape(item.text))
            st.caption(escape("出处：" + item.citation))
            note_key = f"note-{key}"
            if note_key not in st.session_state:
                st.session_state[note_key] = item.note
            st.text_area("备注", key=note_key, on_change=set_note, args=(item, note_key), height=68)
            up, down, remove, _ = st.columns([1, 1, 1, 5])
            up.button("上移", key=f"up-{key}", on_click=move, args=(items, i, -1), disabled=i == 0,
                      icon=":material/arrow_upward:")
            down.button("下移", key=f"down-{key}", on_click=move, args=(items, i, 1),
                        disabled=i == len(items) - 1, icon=":material/arrow_downward:")
            remove.button("移除", key=f"rm-{key}", on_click=remove_item, args=(i, note_key), icon=":material/delete:")
    name = (title.strip() or "学习素材").replace("/", "_")
    left, right, _ = st.columns([1, 1, 3])
    left.download_button("导出 Word", data=to_docx(items, title.strip() or "学习素材"), file_name=f"{name}.docx",
                         mime=DOCX_MIME, icon=":material/download:", on_click="ignore")
    right.download_button("导出 Markdown", data=to_markdown(items, title.strip() or "学习素材"),
                          file_name=f"{name}.md", mime="text/markdown", icon=":material/download:", on_click="ignore")


def set_note(item: BasketItem, key: str) -> None:
    item.note = st.session_state[key]


def remove_item(index: int, note_key: str) -> None:
    st.session_state.basket.pop(index)
    st.session_state.pop(note_key, None)


main()
