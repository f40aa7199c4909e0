"""`kb answers ...`: the 口径库 from the command line (kb.library.answer_book holds the rules)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kb.config import Config
from kb.errors import AnswerError

ACTIONS = ("list", "confirm", "approve", "rm", "import", "export", "stats")


def add_parser(sub) -> None:
    p = sub.add_parser("answers", help="口径库：窗口确认过的问答，审核后在检索中优先（本窗口已确认）")
    p.add_argument("action", choices=ACTIONS,
                   help="list 列出；confirm 问题 条文 确认答案；approve 编号 审核；rm 编号 删除；"
                        "import 文件 导入；export 导出；stats 热点问题、未命中和每周确认数")
    p.add_argument("args", nargs="*", metavar="参数")
    p.add_argument("--state", choices=["draft", "approved", "recheck"], help="list/export：只列这一状态")
    p.add_argument("--approved", action="store_true", help="import：导入即视为已审核")
    p.add_argument("--review-due", default="", help="approve：复核日期 YYYY-MM-DD，过期后转为待复核")
    p.add_argument("--text", help="approve：简短的口径文字")
    p.add_argument("--from", dest="since", default="", help="stats：起始日期")
    p.add_argument("--to", dest="until", default="", help="stats：截止日期")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")


def _needs(args, n: int, usage: str) -> list[str]:
    if len(args.args) != n:
        raise AnswerError("kb answers " + args.action, f"用法：kb answers {args.action} {usage}")
    return args.args


def _item_id(value: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise AnswerError(value, "条目编号应为数字") from exc


def cmd_answers(config: Config, args: argparse.Namespace) -> int:
    from kb.library.knowledge_base import KnowledgeBase

    kb = KnowledgeBase(config)
    book = kb.answer_book
    if args.action == "list":
        items = [book.to_dict(i) for i in book.items(args.state or "")]
        if args.json:
            print(json.dumps(items, ensure_ascii=False, indent=2))
        for i in [] if args.json else items:
            cited = "、".join(f"《{a['title']}》{a['article']}" for a in i["articles"])
            print(f"[{i['id']}] {i['state_label']}  {i['question']} → {cited}"
                  + (f"（相似问 {len(i['similar'])} 个）" if i["similar"] else "")
                  + "".join(f"\n    {why}" for why in i["why_recheck"]))
        if not items and not args.json:
            print("口径库还是空的。在检索或问答页点“答对了”，或用 kb answers import 导入。")
    elif args.action == "confirm":
        question, ref = _needs(args, 2, "问题 条文（如 社会救助暂行办法第十一条）")
        cited = kb.analyse(ref).citation
        if cited is None:
            raise AnswerError(ref, "应写成法规名称加条号，如 社会救助暂行办法第十一条")
        item_id = book.confirm(question, cited)
        print(f"已记录，条目 {item_id} 待审核（kb answers approve {item_id}）。")
    elif args.action == "approve":
        [value] = _needs(args, 1, "编号")
        item_id = book.approve(_item_id(value), review_due=args.review_due, text=args.text)
        print(f"条目 {item_id} 已审核。")
    elif args.action == "rm":
        [value] = _needs(args, 1, "编号")
        book.remove(_item_id(value))
        print(f"条目 {value} 已删除。")
    elif args.action == "import":
        [path] = _needs(args, 1, "问答对文件（JSON 行）")
        counts = book.import_pairs(Path(path), approved=args.approved)
        print(json.dumps(counts, ensure_ascii=False) if args.json else
              f"导入 {counts['questions']} 个问题，归入 {counts['items']} 个条目"
              + (f"；{counts['skipped_articles']} 个条文文库中没有，已跳过" if counts["skipped_articles"] else "")
              + ("（已审核）" if args.approved else "（待审核）"))
    elif args.action == "export":
        for line in book.export_pairs(args.state or "approved"):
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    else:
        stats = book.statistics(args.since, args.until)
        if args.json:
            print(json.dumps(stats, ensure_ascii=False, indent=2))
        else:
            print("热点问题：" + ("".join(f"\n  {n} 次  {q}" for q, n in stats["asked"]) or "无"))
            print("未命中：" + ("".join(f"\n  {n} 次  {q}" for q, n in stats["unanswered"]) or "无"))
            print("每周确认：" + ("".join(f"\n  {w}  {n} 条" for w, n in stats["confirmed_per_week"]) or "无"))
    return 0
