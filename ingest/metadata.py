"""Recognise a document's metadata from its text: title, type, issuing body,
document number and dates. Everything found here can be overridden by a manifest."""

from __future__ import annotations

import re
from pathlib import Path

from ingest.articles import ARTICLE

CN_DATE = r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
_DATE = re.compile(CN_DATE)
_FILENAME_DATE = re.compile(r"[（(](\d{4})-(\d{2})-(\d{2})[)）]\s*$")
_DOC_NUMBER = re.compile(
    # the issuer starts with no date's or sentence's word: "1998年10月25日民政部令第14号" is 民政部令第14号
    r"((?![年月日号于经由以和及的])(?:[\u4e00-\u9fff、]{1,30}?)令(?:第\s*\d+\s*号|〔\d{4}〕第?\d+号))"
    r"|([\u4e00-\u9fff]{1,10}[〔\[［【]\d{4}[〕\]］】]\s*\d+\s*号)"
)
_PUBLISHED = re.compile(CN_DATE + r"[^\n。]{0,60}?(公布|发布|印发|通过|颁布)")
_EFFECTIVE = re.compile(r"自?" + CN_DATE + r"\s*起?施行")
_NPC = re.compile(r"第[一二三四五六七八九十]+届(全国人民代表大会(?:常务委员会)?)")
# a local people's congress or its standing committee, named by its place: 上海市第十五届人民代表大会常务委员会
_LOCAL_NPC = re.compile(r"^([\u4e00-\u9fff]{1,12}?(?:省|市|自治区|自治州|盟|县|区|旗))第[一二三四五六七八九十]+届"
                        r"(人民代表大会(?:常务委员会)?)")
_PRC = "中华人民共和国"
_LOCAL_BODY = re.compile(r"^(?:中共)?[\u4e00-\u9fff]{0,6}?[市省区县][\u4e00-\u9fff]{1,8}?[局厅委部办](?:党组|党委)?")

REGULATION_SUFFIXES = ("法", "条例", "办法", "规定", "细则", "规则", "决定", "章程", "准则", "规程", "解释", "宪法")


def iso_date(year: str, month: str, day: str) -> str:
    return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"


def split_header(text: str) -> tuple[str, list[str]]:
    """The title line and the dated lines right under it (公布/通过/施行 ...)."""
    lines = text.split("\n")
    title = lines[0].strip() if lines else ""
    header: list[str] = []
    for line in lines[1:20]:
        line = line.strip()
        if not line:
            continue
        if _DATE.match(line) or line.startswith(("（", "(")) and _DATE.search(line[:20]):
            header.append(line)
        else:
            break
    return title, header


def guess_title(first: str, path: Path) -> str:
    """The first line when it reads like a title, else the file name without its version date."""
    if first and len(first) <= 60 and not first.endswith(("。", "；", "，")):
        return first.strip("《》")
    stem = _FILENAME_DATE.sub("", path.stem).strip()
    return stem or path.name


def guess_type(title: str, text: str) -> str:
    bare = re.sub(r"[（(].*?[)）]$", "", title)
    if re.search(r"讲话|致辞|发言|报告会上|座谈会上", bare):
        return "speech"
    if re.search(r"报告|汇报|总结|述职", bare):
        return "report"
    if re.search(r"意见|通知|方案|规划|纲要|通报|指导|计划", bare):
        return "policy"
    if bare.endswith(REGULATION_SUFFIXES) or re.search(rf"^{ARTICLE}", text, re.M):
        return "regulation"
    return "other"


def guess_issuer(header: list[str], title: str) -> str:
    for line in header:
        body = _DATE.sub("", line, count=1).strip(" 　（）()")
        m = re.search(r"([\u4e00-\u9fff、]+?)令", body)
        if m:
            return _strip_prc(m.group(1))
        m = _NPC.search(body)
        if m:
            return m.group(1)
        m = _LOCAL_NPC.match(body)
        if m:
            return m.group(1) + m.group(2)
        m = re.search(r"(国务院)第\d+次常务会议", body)
        if m:
            return m.group(1)
        m = re.match(r"([\u4e00-\u9fff、]+?)(发布|印发)$", body)
        if m:
            return _strip_prc(m.group(1))
    m = _LOCAL_BODY.match(title)
    return m.group(0) if m else ""


def _strip_prc(name: str) -> str:
    return "、".join(part.removeprefix(_PRC) for part in name.split("、"))


def guess_dates(header_text: str, path: Path) -> tuple[str, str, str]:
    """(date, published, effective): date is ISO for this version."""
    published = effective = ""
    m = _PUBLISHED.search(header_text)
    if m:
        published = f"{int(m.group(1))}年{int(m.group(2))}月{int(m.group(3))}日"
    m = _EFFECTIVE.search(header_text)
    if m:
        effective = f"{int(m.group(1))}年{int(m.group(2))}月{int(m.group(3))}日"
    fm = _FILENAME_DATE.search(path.stem)
    if fm:
        return iso_date(*fm.groups()), published, effective
    dates = [iso_date(*d) for d in _DATE.findall(header_text)]
    return (max(dates) if dates else ""), published, effective


def guess_doc_number(header_text: str) -> str:
    m = _DOC_NUMBER.search(header_text)
    if not m:
        return ""
    number = re.sub(r"\s+", "", m.group(0))
    # "中华人民共和国国务院令第649号" is cited as "国务院令第649号"
    return _strip_prc(number)


# what offices write for a version's 时效性 → VERSION_STATUSES
STATUS_NAMES = {"现行有效": "现行有效", "有效": "现行有效", "已被修改": "已被修改", "已修改": "已被修改",
                "已被修正": "已被修改", "已修正": "已被修改", "已废止": "已废止", "废止": "已废止", "已失效": "已废止",
                "失效": "已废止"}
_STATUS_LINE = re.compile(r"(?:时效性|时效状态|效力状态)\s*[】:：]?\s*("
                          + "|".join(sorted(STATUS_NAMES, key=len, reverse=True)) + ")")
_TITLE_STATUS = re.compile(r"[（(](已废止|已失效|失效|废止)[)）]$")


def status_named(value: str) -> str:
    """The status an office's word names (失效 → 已废止); "" when it names none."""
    return STATUS_NAMES.get(str(value).strip(), "")


def guess_status(text: str) -> str:
    """已废止 or 已被修改 when the text says so of itself in its first lines (时效性：失效, or a title
    ending in （已废止）), as databases of statutes print it; else "". "时效性：现行有效" is left to
    the versions: it was true on the day the text was copied, and a newer version may be stored. The
    body is not read: "……同时废止" there repeals another law."""
    lines = [line.strip() for line in text.split("\n")[:15] if line.strip()]
    if lines and _TITLE_STATUS.search(lines[0]):
        return "已废止"
    for line in lines:
        m = _STATUS_LINE.search(line)
        if m:
            return "" if STATUS_NAMES[m.group(1)] == "现行有效" else STATUS_NAMES[m.group(1)]
    return ""


def recognise(text: str, path: Path) -> dict[str, str]:
    first, header = split_header(text)
    title = _TITLE_STATUS.sub("", guess_title(first, path)).strip()  # 某某办法（已废止） is 某某办法
    header_text = "\n".join(header) or "\n".join(text.split("\n")[:12])
    date, published, effective = guess_dates(header_text, path)
    return {
        "title": title,
        "doc_type": guess_type(title, text),
        "issuer": guess_issuer(header, title),
        "doc_number": guess_doc_number(header_text),
        "date": date,
        "published": published,
        "effective": effective,
        "status": guess_status(text),
    }
