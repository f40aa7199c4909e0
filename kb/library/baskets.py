"""Material baskets for lecture preparation: named lists of passages, each kept as it was
collected (verbatim text, citation and the document's particulars for the reference list) with a
note. They live in the knowledge base, so they outlast a reload or a restart and every user of
one instance sees the same baskets; a passage stays in a basket even if its document is removed."""

from __future__ import annotations

from kb.errors import BasketError, StoreError
from kb.store.db import Store
from kb.types import Basket, BasketItem, Hit

NAME_CHARS = 60


def basket_name(name: str) -> str:
    """A basket's name, trimmed; ValueError (in Chinese) when empty or too long."""
    name = " ".join(name.split())
    if not name:
        raise ValueError("素材篮名称不能为空")
    if len(name) > NAME_CHARS:
        raise ValueError(f"素材篮名称不能超过 {NAME_CHARS} 个字")
    return name


def add(items: list[BasketItem], item: BasketItem) -> bool:
    """Appends unless the same passage is already there; True when added."""
    if any(i.key() == item.key() for i in items):
        return False
    items.append(item)
    return True


def move(items: list[BasketItem], index: int, delta: int) -> None:
    """Moves one item up (delta -1) or down (+1); out-of-range moves do nothing."""
    target = index + delta
    if 0 <= index < len(items) and 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]


class Baskets:
    """The baskets of one knowledge base (kept in its store)."""

    def __init__(self, store: Store, default_actor=lambda: ""):
        """Every change is in the audit log, under the `actor` given, else `default_actor()`."""
        self.store = store
        self.default_actor = default_actor

    def _log(self, actor: str, action: str, subject: str) -> None:
        self.store.log(actor or self.default_actor(), action, subject)

    def _name(self, basket_id: int) -> str:
        return next((b.name for b in self.all() if b.id == basket_id), str(basket_id))

    def all(self) -> list[Basket]:
        """Every basket, the most recently changed first."""
        return self.store.baskets()

    def create(self, name: str, actor: str = "") -> int:
        """A new, empty basket. Raises BasketError when the name is empty, too long or taken."""
        basket_id = self._named(lambda n: self.store.create_basket(n), name)
        self._log(actor, "新建素材篮", f"{basket_id} {basket_name(name)}")
        return basket_id

    def rename(self, basket_id: int, name: str, actor: str = "") -> None:
        old = self._name(basket_id)
        self._named(lambda n: self.store.rename_basket(basket_id, n), name)
        self._log(actor, "重命名素材篮", f"{basket_id} {old} → {basket_name(name)}")

    def delete(self, basket_id: int, actor: str = "") -> None:
        name = self._name(basket_id)
        self.store.delete_basket(basket_id)
        self._log(actor, "删除素材篮", f"{basket_id} {name}")

    def items(self, basket_id: int) -> list[BasketItem]:
        """A basket's passages in order. Raises BasketError when it no longer exists."""
        items = self.store.basket_items(basket_id)
        if items is None:
            raise BasketError(f"素材篮 {basket_id}", "没有这个素材篮（可能已被删除）")
        return items

    def save(self, basket_id: int, items: list[BasketItem], actor: str = "") -> None:
        before = self.items(basket_id)  # still there
        self.store.save_basket(basket_id, items)
        self._log(actor, "修改素材篮", f"{basket_id} {self._name(basket_id)}：{len(before)} → {len(items)} 条")

    def add(self, basket_id: int, hit: Hit, actor: str = "") -> bool:
        """Appends a hit's passage; False when the basket already holds it. Raises BasketError when
        the passage's document is no longer in the library (a card drawn before it was deleted)."""
        if self.store.document(hit.doc_id) is None:
            raise BasketError(f"《{hit.citation.title}》",
                              "这段内容所在的文档已不在文库中（已被删除或替换），未加入素材篮")
        items = self.items(basket_id)
        added = add(items, BasketItem.from_hit(hit))
        if added:
            self.store.save_basket(basket_id, items)
            self._log(actor, "加入素材篮", f"{basket_id} {self._name(basket_id)}：{hit.citation.format()}")
        return added

    @staticmethod
    def _named(call, name: str):
        try:
            return call(basket_name(name))
        except ValueError as exc:
            raise BasketError(name, str(exc)) from exc
        except StoreError as exc:
            raise BasketError(name, exc.reason) from exc
