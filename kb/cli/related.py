"""`kb related REF`: 法条联想 from the command line (kb.library.related holds the rules)."""

from __future__ import annotations

import argparse
import json

from kb.config import Config

SECTIONS = (("cites", "本条引用"), ("cited_by", "引用本条"), ("versions", "其他版本"), ("local", "地方规定"))


def add_parser(sub) -> None:
    p = sub.add_parser("related", help="法条联想：一条条文引用了什么、被什么引用、其他版本中的对应条文、地方的配套规定")
    p.add_argument("ref", metavar="条文", help="如：社会救助暂行办法第十一条")
    p.add_argument("--place", help="只列这一地方的配套规定（如 重庆、浙江省杭州市）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")


def cmd_related(config: Config, args: argparse.Namespace) -> int:
    from kb.library.knowledge_base import KnowledgeBase

    related = KnowledgeBase(config).provisions.of(args.ref, place=args.place)
    if args.json:
        print(json.dumps(related, ensure_ascii=False, indent=2))
        return 0
    asked = related["article"]
    print(f"《{asked['title']}》{asked['article']}（{asked['date']}）\n{asked['text']}")
    for key, label in SECTIONS:
        entries = related[key]
        print(f"\n{label}（{len(entries)}）")
        for e in entries:
            what = {"basis": "以其为制定依据", "article": "引用"}.get(e.get("kind", ""), "")
            extra = e.get("why") or what or {"unchanged": "未改", "changed": "有修改", "not_found": "无对应条文"}.get(
                e.get("status", ""), "")
            where = f"{e.get('jurisdiction')} " if e.get("jurisdiction") else ""
            dated = f"（{e['date']}）" if e.get("date") else ""
            missing = "（未收录）" if e.get("in_library") is False else ""
            line = f"  {where}《{e['title']}》{dated}{e.get('article') or ''}{missing}"
            print(line + (f"  {extra}" if extra else ""))
        if not entries:
            print("  无")
    return 0
