"""`kb check FILE|-`: 引文核对 from the command line (kb.library.quote_check holds the rules)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kb.config import Config
from kb.errors import ReadError


def add_parser(sub) -> None:
    p = sub.add_parser("check", help="引文核对：逐条核对稿件中的引文与原文是否一字不差、条号是否正确、是否引自旧版")
    p.add_argument("file", metavar="稿件", help="TXT、MD 或 DOCX 文件；- 表示从标准输入读取文字")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p.add_argument("--docx", type=Path, metavar="输出.docx", help="另存一份带批注的 Word 稿件（每处引文一条批注）")


def read_input(name: str) -> tuple[str, bytes]:
    if name == "-":
        return "stdin.txt", sys.stdin.buffer.read()
    path = Path(name)
    try:
        return path.name, path.read_bytes()
    except OSError as exc:
        raise ReadError(name, f"无法读取（{exc.strerror or exc}）") from exc


def cmd_check(config: Config, args: argparse.Namespace) -> int:
    from kb.export import commented_docx, read_draft
    from kb.library.knowledge_base import KnowledgeBase

    name, data = read_input(args.file)
    draft = read_draft(name, data)
    kb = KnowledgeBase(config)
    if kb.is_empty():
        print("知识库中还没有文档，无从核对。先用 kb ingest 路径 入库。", file=sys.stderr)
        return 1
    report = kb.quotes.check(draft)
    if args.docx:
        original = (name, data) if name.lower().endswith(".docx") else None
        args.docx.write_bytes(commented_docx(draft, report.results, original))
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return 0
    if not report.results:
        print("稿件中没有找到引文（引号内 8 字以上的文字，或“《X》第N条规定，……”式的句子）。")
    for n, r in enumerate(report.results, 1):
        print(f"{n}. 【{r.to_dict()['label']}】“{r.quote.text}”")
        if r.note:
            print(f"   {r.note}")
        for kind, quoted, source in r.differences:
            if kind != "equal":
                said = {"changed": f"“{quoted}”应为“{source}”", "added": f"多了“{quoted}”",
                        "missing": f"漏了“{source}”"}
                print(f"   {said[kind]}")
        if r.source:
            print(f"   出处：{r.source['citation']}")
        if r.current and r.status != "exact":
            print(f"   {'现行表述' if r.status == 'outdated' else '原文'}：{r.current}")
    counts = "，".join(f"{label} {report.counts()[s]}" for s, label in
                      (("exact", "一字不差"), ("differs", "有出入"), ("wrong_article", "条号有误"),
                       ("outdated", "引自旧版"), ("not_found", "未找到出处")) if report.counts()[s])
    print(f"\n共 {len(report.results)} 处引文{('：' + counts) if counts else ''}（{report.seconds:.2f} 秒）"
          + (f"；带批注的稿件：{args.docx}" if args.docx else ""))
    return 0
