"""素材篮: collected passages with notes, reordered, exported as Word or Markdown."""

from __future__ import annotations

import streamlit as st

from kb.config import Config
from kb.errors import StudyKBError
from kb.export import DOCX_MIME, to_docx, to_markdown
from kb.library.baskets import move
from kb.library.knowledge_base import KnowledgeBase
from kb.types import BasketItem
from webapp.common import LOCK, current_basket, may_change_baskets
from webapp.render import escape


def basket_page(kb: KnowledgeBase, config: Config, docs: list[dict]) -> None:
    st.header("素材篮")
    state = st.session_state
    baskets = {b.id: b for b in kb.baskets.all()}
    readonly = state.get("basket_user") is None  # users exist and nobody signed in: baskets are shared
    if readonly:
        st.info("素材篮由大家共用：新建、修改和删除需要先在侧栏登录。可以查看和导出。")
    with st.expander("新建素材篮", expanded=not baskets and not readonly):
        name = st.text_input("名称", key="new_basket", placeholder="例如：讲稿：兜底保障专题")
        if st.button("新建", disabled=readonly or not name.strip()):
            try:
                state.basket_id = kb.baskets.create(name, actor=state.basket_user)
                state.pop("new_basket")
                st.rerun()
            except StudyKBError as exc:
                st.error(escape(exc.reason))
    if not baskets:
        st.info("还没有素材篮。新建一个，或在“检索”“问答”页点“加入素材篮”（自动建立“我的素材篮”）。")
        return
    current = current_basket(kb)
    state.basket_id = st.selectbox("当前素材篮", list(baskets), index=list(baskets).index(current.id),
                                   format_func=lambda i: f"{baskets[i].name}（{baskets[i].items} 条）")
    basket = baskets[state.basket_id]
    items = kb.baskets.items(basket.id)
    with st.expander("重命名或删除"):
        new_name = st.text_input("新名称", value=basket.name, key=f"rename-{basket.id}")
        if st.button("重命名", disabled=readonly or new_name.strip() in ("", basket.name)):
            try:
                kb.baskets.rename(basket.id, new_name, actor=state.basket_user)
                st.rerun()
            except StudyKBError as exc:
                st.error(escape(exc.reason))
        confirm = st.checkbox(escape(f"确认删除“{basket.name}”及其 {len(items)} 条内容"), key=f"drop-{basket.id}")
        if st.button("删除素材篮", disabled=readonly or not confirm):
            kb.baskets.delete(basket.id, actor=state.basket_user)
            state.pop("basket_id", None)
            st.rerun()
    if not items:
        st.info("这个素材篮是空的。在“检索”或“问答”页点“加入素材篮”收集段落。")
        return
    for i, item in enumerate(items):
        key = f"{basket.id}-{item.doc_id}-{item.start}-{item.end}"
        with st.container(border=True):
            st.markdown(f"**{i + 1}\\. {escape('《' + item.title + '》')}** {escape(item.location)}")
            st.markdown(escape(item.text))
            st.caption(escape("出处：" + item.citation))
            st.text_area("备注", value=item.note, key=f"note-{key}", on_change=set_note,
                         args=(kb, basket.id, item.key(), f"note-{key}"), height=68)
            up, down, remove, _ = st.columns([1, 1, 1, 5])
            up.button("上移", key=f"up-{key}", on_click=edit_basket, args=(kb, basket.id, item.key(), move, -1),
                      disabled=i == 0, icon=":material/arrow_upward:")
            down.button("下移", key=f"down-{key}", on_click=edit_basket, args=(kb, basket.id, item.key(), move, 1),
                        disabled=i == len(items) - 1, icon=":material/arrow_downward:")
            remove.button("移除", key=f"rm-{key}", on_click=edit_basket, args=(kb, basket.id, item.key(), remove_item),
                          icon=":material/delete:")
    title = basket.name
    chinese = st.checkbox("标题用“一、二、三”编号", key="chinese_numbers")
    file_name = "".join(c if c not in '\\/:*?"<>|' else "_" for c in title)
    left, right, _ = st.columns([1, 1, 3])
    left.download_button("导出 Word", data=to_docx(items, title, chinese), file_name=f"{file_name}.docx",
                         mime=DOCX_MIME, icon=":material/download:", on_click="ignore")
    right.download_button("导出 Markdown", data=to_markdown(items, title, chinese), file_name=f"{file_name}.md",
                          mime="text/markdown", icon=":material/download:", on_click="ignore")


def edit_basket(kb: KnowledgeBase, basket_id: int, item_key: tuple, change, *args) -> None:
    """Callback: applies a change (move, remove) to one passage of the stored basket, found by what it
    is, not where it was drawn (another user may have changed the basket since), under the lock."""
    if not may_change_baskets():
        return
    with LOCK[0]:
        try:
            items = kb.baskets.items(basket_id)
        except StudyKBError as exc:  # deleted meanwhile
            st.toast(exc.reason)
            return
        index = next((n for n, i in enumerate(items) if i.key() == item_key), None)
        if index is None:
            st.toast("这段内容已不在素材篮中（可能已被他人移除）")
            return
        change(items, index, *args)
        kb.baskets.save(basket_id, items, actor=st.session_state.basket_user)


def remove_item(items: list[BasketItem], index: int) -> None:
    items.pop(index)


def set_note(kb: KnowledgeBase, basket_id: int, item_key: tuple, key: str) -> None:
    def change(items: list[BasketItem], index: int) -> None:
        items[index].note = st.session_state[key]
    edit_basket(kb, basket_id, item_key, change)
