"""Search filters, built and checked in one place for the app, the CLI and the API: a date must be
a real day (2020-13-45 is refused, not compared as text), a type must exist, a place must be
recognised, a document must be found."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from ingest.types import DOC_TYPES
from kb.errors import DocumentNotFound, QueryError
from kb.language.places import NATIONAL, place_by_code, place_by_name
from kb.types import Filters

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


def check_day(day: str | None, label: str = "日期") -> str | None:
    """An ISO date as given, or None; QueryError for anything that is not a real day."""
    if day is None or not str(day).strip():
        return None
    day = str(day).strip()
    try:
        if not _ISO.fullmatch(day):
            raise ValueError
        dt.date.fromisoformat(day)
    except ValueError:
        raise QueryError(day, f"{label}格式不对：应为实际存在的日期，写作 YYYY-MM-DD（如 2020-01-31）") from None
    return day


def make_filters(find_document: Callable[[str], dict | None], types: list[str] | None = None,
                 date_from: str | None = None, date_to: str | None = None, issuers: list[str] | None = None,
                 docs: list[str | int] | None = None, places: list[str] | None = None,
                 as_of: str | None = None) -> Filters:
    """Filters from what a user typed. `docs`: ids or titles (found by `find_document`); `places`:
    names (浙江省, 杭州), codes (330000) or "" and 全国 for national rules. Raises QueryError or
    DocumentNotFound naming what is wrong."""
    for t in types or []:
        if t not in DOC_TYPES:
            raise QueryError(t, f"未知的文档类型（可选 {'、'.join(DOC_TYPES)}）")
    codes = []
    for name in places or []:
        place = NATIONAL if not str(name).strip() else place_by_name(name) or place_by_code(name)
        if place is None:
            raise QueryError(name, "无法识别的地名（可写 全国、浙江省、杭州市 等）")
        codes.append(place.code)
    doc_ids = []
    for ref in docs or []:
        found = find_document(str(ref))
        if not found:
            raise DocumentNotFound(str(ref), "找不到这个文档（用 kb docs 查看编号和标题）")
        doc_ids.append(found["id"])
    date_from, date_to = check_day(date_from, "起始日期"), check_day(date_to, "截止日期")
    if date_from and date_to and date_from > date_to:
        raise QueryError(f"{date_from} — {date_to}", "起始日期晚于截止日期")
    return Filters(doc_types=list(types) if types else None, date_from=date_from, date_to=date_to,
                   doc_ids=doc_ids or None, issuers=list(issuers) if issuers else None, places=codes or None,
                   as_of=check_day(as_of, "有效日期"))
