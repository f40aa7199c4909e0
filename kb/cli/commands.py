"""The `kb` commands, each a thin layer over KnowledgeBase calls (messages in Chinese)."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

from ingest.types import DOC_TYPES
from kb.cli.answers import cmd_answers
from kb.cli.check import cmd_check
from kb.cli.ledger import cmd_ledger
from kb.cli.parser import build_parser
from kb.cli.related import cmd_related
from kb.client import remote
from kb.config import DEFAULT_MODEL, Config
from kb.errors import ConfigError, ModelMismatchError, StudyKBError
from kb.types import MATCH_LABELS, Filters, local_time


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    logging.getLogger("kb").setLevel(logging.INFO)
    try:
        config = Config.load(args.data, model=args.model, server=args.server)
        return COMMANDS[args.command](config, args)
    except KeyboardInterrupt:
        print("已中断。已提交的内容保留，重新运行即可继续。", file=sys.stderr)
        return 130
    except StudyKBError as exc:  # what a user can mend, as one clear line; anything else is a bug
        label = "模型不匹配" if isinstance(exc, ModelMismatchError) else "错误"
        print(f"{label}：{exc}", file=sys.stderr)
        return 1


def _open(config: Config, **kwargs):
    from kb.library.knowledge_base import KnowledgeBase

    return KnowledgeBase(config, **kwargs)


EMPTY = "知识库中还没有文档。先用 kb ingest 路径 入库（或运行 make run 入库演示语料）。"


def _filters(kb, args) -> Filters:
    """The command's filters, checked by the knowledge base like the app's and the API's."""
    return kb.filters(types=args.type, date_from=args.date_from, date_to=args.date_to, issuers=args.issuer,
                      docs=args.doc, places=args.place, as_of=args.as_of)


def cmd_ingest(config: Config, args) -> int:
    kb = _open(config)
    overrides = {"doc_type": args.type} if args.type else None
    report = kb.ingest(args.paths, prune=args.prune, progress=not args.quiet, overrides=overrides,
                       prune_all=args.yes)
    for old, new in report.moved:
        print(f"  移动  {old} → {new}（内容未变，沿用原文档）")
    for path in report.added:
        print(f"  新增  {path}")
    for path in report.replaced:
        print(f"  更新  {path}")
    for path in report.removed:
        print(f"  删除  {path}")
    for path in report.relabelled:
        print(f"  修改信息  {path}（按清单文件更新，内容未变）")
    for path, title in report.duplicates:
        print(f"  重复  {path}（与已入库的《{title}》内容相同，已跳过）")
    for path, reason in report.failed:
        print(f"  失败  {path}：{reason}")
    for note in report.notes:
        print(f"  未清理：{note}")
    if report.prune_refused:
        share = round(config.prune_max_share * 100)
        print(f"  未清理：以下 {len(report.prune_refused)} 个文档的文件已不存在，超过文库的 {share}%，"
              "为防误删未做处理。确认要移入回收站，请加 --yes 重新运行：")
        for path in report.prune_refused:
            print(f"    {path}")
    print(f"入库完成：新增 {len(report.added)} 个，更新 {len(report.replaced)} 个，未变 {len(report.unchanged)} 个，"
          f"移动 {len(report.moved)} 个，移入回收站 {len(report.removed)} 个，失败 {len(report.failed)} 个；"
          f"新切分 {report.chunks} 个片段；"
          f"用时 {report.seconds:.1f} 秒（向量化 {report.embed_seconds:.1f} 秒）。")
    stats = kb.stats()
    print(f"知识库现有 {stats['documents']} 个文档、{stats['chunks']} 个片段：{config.data_dir}")
    return 2 if report.failed and not (report.added or report.replaced or report.unchanged) else 0


def cmd_search(config: Config, args) -> int:
    from kb.language.query import is_bare_citation

    if config.server:
        result = remote(config.server, "/api/search", {
            "q": args.query, "k": args.k, "mode": args.mode, **_remote_filters(args)})
    else:
        kb = _open(config)
        if kb.is_empty():
            print(EMPTY, file=sys.stderr)
            return 1
        if not is_bare_citation(args.query):  # a lookup needs no model
            kb.warm()  # load the model and index first, so the time shown is the query's own
        result = kb.search_json(args.query, k=args.k, filters=_filters(kb, args), mode=args.mode)
    if args.json:
        return _show(result, True, str)
    hits = result["hits"]
    if not hits:
        print("没有找到相关内容。")
    divided = False
    for n, hit in enumerate(hits, 1):
        if not divided and not hit["relevant"]:
            print(LESS_RELEVANT if n > 1 else "没有直接相关的内容，以下结果相关度较低。\n")
            divided = True
        how = "+".join(MATCH_LABELS.get(m, m) for m in hit["matched_by"])
        where = f"  〔{hit['applies_in']}〕" if hit["applies_in"] else ""
        print(f"{n}. {hit['citation']['formatted']}  [{how}]{where}")
        for line in hit["text"].splitlines():
            print(f"   {line}")
        print()
    where = f"；{'、'.join(result['places'])}和全国的规定排在前面" if result["places"] else ""
    print(f"共 {len(hits)} 条，用时 {result['ms']:.0f} 毫秒{where}")
    if result["expansions"]:
        print(f"已同时检索：{'、'.join(result['expansions'])}")
    return 0


LESS_RELEVANT = "—— 以下结果相关度较低 ——\n"


def cmd_ask(config: Config, args) -> int:
    if config.server:
        answer = remote(config.server, "/api/ask", {"q": args.question, **_remote_filters(args)})
    else:
        kb = _open(config)
        if kb.is_empty():
            print(EMPTY, file=sys.stderr)
            return 1
        answer = kb.ask(args.question, filters=_filters(kb, args)).to_dict()
    if args.json:
        return _show(answer, True, str)
    print(answer["answer"])
    if answer["citations"]:
        print("\n出处：")
        for hit in answer["citations"]:
            print(f"[{hit['n']}] {hit['citation']['formatted']}")
    for hit in answer["related"]:
        print(f"\n可能相关：{hit['citation']['formatted']}")
        for line in hit["text"].splitlines():
            print(f"    {line}")
    return 0


def _remote_filters(args) -> dict:
    return {"type": args.type, "from": args.date_from, "to": args.date_to, "issuer": args.issuer, "doc": args.doc,
            "place": args.place, "as_of": args.as_of}


def cmd_serve(config: Config, args) -> int:
    from kb.server import serve

    print(f"学习资料知识库接口：http://{args.host}:{args.port}/api/search?q=低保怎么申请 ，"
          "接口说明 /docs（Ctrl+C 停止）")
    serve(config, args.host, args.port)
    return 0


def cmd_docs(config: Config, args) -> int:
    return _show(_open(config).documents(), args.json, _docs_text)


def _docs_text(docs: list[dict]) -> str:
    from kb.language.places import Place

    lines = [] if docs else [EMPTY]
    for d in docs:
        extra = "，".join(x for x in (d["issuer"], d["doc_number"], d["date"],
                                      d["version_status"] if d["version_status"] != "现行有效" else "") if x)
        lines.append(f"{d['id']:>4}  [{DOC_TYPES.get(d['doc_type'], d['doc_type'])}] 《{d['title']}》"
                     f"{'（' + extra + '）' if extra else ''}  〔{Place(d['jurisdiction']).label}〕"
                     f"  {d['chunks']} 个片段")
    return "\n".join(lines)


def cmd_rm(config: Config, args) -> int:
    kb = _open(config)
    found = kb.document_named(args.doc)
    label = f"{found['id']}《{found['title']}》{found['date']}（{found['path']}）"
    if not args.yes:
        if not sys.stdin.isatty():
            print(f"将删除 {label}。非交互运行时请加 --yes 确认。", file=sys.stderr)
            return 1
        answer = input(f"删除 {label}？删除后可用 kb restore {found['id']} 恢复。[y/N] ")
        if answer.strip().lower() not in ("y", "yes", "是"):
            print("未删除。")
            return 1
    title = kb.remove(found["id"])
    print(f"已将《{title}》移入回收站（kb restore {found['id']} 可恢复，{config.trash_days:g} 天后彻底删除）。")
    return 0


def cmd_trash(config: Config, args) -> int:
    return _show(_open(config).trash(), args.json, _trash_text)


def _trash_text(items: list[dict]) -> str:
    if not items:
        return "回收站是空的。"
    return "\n".join(f"{t['doc_id']:>4}  《{t['title']}》  {t['reason_label']}  {local_time(t['trashed_at'])}"
                     f"  {t['chunks']} 个片段"
                     for t in items)


def cmd_restore(config: Config, args) -> int:
    kb = _open(config)
    reason = next((t["reason"] for t in kb.trash() if t["doc_id"] == args.doc_id), "")
    title = kb.restore(args.doc_id)
    print(f"已恢复《{title}》（编号 {args.doc_id}）。")
    if reason in ("edited", "pruned"):
        print("注意：它的文件已修改或不存在，再次运行 kb ingest --prune 或入库该文件夹时可能再次移入回收站。")
    return 0


def cmd_user(config: Config, args) -> int:
    import getpass

    from kb.library.auth import ROLE_RIGHTS, ROLES, Users

    users = Users(config.users_path)
    if args.action == "list":
        for user in users.users.values():
            print(f"{user.name}  {ROLES[user.role]}（{ROLE_RIGHTS[user.role]}）  令牌 {len(user.tokens)} 个")
        if not users.configured:
            print(f"还没有用户：本机用户可做一切，界面和接口只在本机开放（{config.users_path}）。")
        return 0
    if not args.name:
        raise ConfigError("kb user", "请给出用户名")
    if args.action == "rm":
        users.remove(args.name)
        _open(config, check_model=False).record("", "删除用户", args.name)
        print(f"已删除用户 {args.name}。")
        return 0
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"{args.name} 的密码：")
        if getpass.getpass("再输入一次：") != password:
            raise ConfigError(args.name, "两次输入的密码不一致")
    user = users.add(args.name, args.role, password)
    _open(config, check_model=False).record("", "设置用户", f"{user.name}（{ROLES[user.role]}）")
    print(f"已保存用户 {user.name}，角色：{ROLES[user.role]}（{ROLE_RIGHTS[user.role]}）；用户文件 {config.users_path}")
    return 0


def cmd_token(config: Config, args) -> int:
    from kb.library.auth import Users

    token = Users(config.users_path).new_token(args.name)
    _open(config, check_model=False).record("", "生成令牌", args.name)  # who got one, never the token
    print(token)
    print(f"这是 {args.name} 的 HTTP 接口令牌，只显示这一次：请求头写 Authorization: Bearer {token[:8]}…",
          file=sys.stderr)
    return 0


def cmd_audit(config: Config, args) -> int:
    return _show(_open(config).audit(), args.json,
                 lambda rows: "\n".join(f"{local_time(r['at'])}  {r['user']}  {r['action']}  {r['subject']}"
                                         for r in rows)
                 or "还没有操作记录。")


def cmd_diff(config: Config, args) -> int:
    from kb.library.diff import STATUSES, marked, summary

    old, new, changes = _open(config).versions.compare(args.title, args.date_from or "", args.date_to or "")
    if args.docx:
        from kb.export import comparison_docx

        args.docx.write_bytes(comparison_docx(old, new, changes))
    if args.json:
        def version(d: dict) -> dict:
            return {k: d[k] for k in ("id", "title", "date", "issuer", "doc_number", "path")}

        print(json.dumps({"from": version(old), "to": version(new), "summary": summary(changes),
                          "changes": [c.to_dict() for c in changes]}, ensure_ascii=False, indent=2))
        return 0
    counts = "，".join(f"{STATUSES[k]} {v} 条" for k, v in summary(changes).items())
    print(f"《{new['title']}》{old['date']} → {new['date']}：{counts}")
    for change in changes:
        if change.status == "unchanged":
            continue
        label = STATUSES[change.status]
        if change.status == "added":
            print(f"  {label}  {change.new.number}：{change.new.body}")
        elif change.status == "deleted":
            print(f"  {label}  {change.old.number}：{change.old.body}")
        elif change.status == "renumbered":
            print(f"  {label}  {change.old.number} → {change.new.number}")
        else:
            print(f"  {label}  {change.old.number} → {change.new.number}：{marked(change)}")
    if args.docx:
        print(f"已另存为 {args.docx}")
    return 0


def cmd_stats(config: Config, args) -> int:
    return _show(_open(config).stats(), args.json, _stats_text)


def _stats_text(stats: dict) -> str:
    types = "，".join(f"{DOC_TYPES.get(k, k)} {v}" for k, v in stats["by_type"].items())
    return "\n".join([
        f"文档 {stats['documents']} 个（{types or '无'}），片段 {stats['chunks']} 个",
        f"向量模型 {stats['embedding_model']}（{stats['embedding_dim']} 维"
        + (f"，{stats['embedding_precision']}" if stats["embedding_precision"] else "") + "）"
        + (f"，查询用 {stats['query_model']}" if stats["query_model"] != stats["embedding_model"] else ""),
        f"排序 {'学习排序 ' + stats['ranker'] if stats['ranker'] else '倒数排名融合'}",
        f"数据库 {stats['database']}（{stats['database_bytes'] / 1e6:.1f} MB）",
        f"向量索引 {stats['vector_file']}（{stats['vector_bytes'] / 1e6:.1f} MB）",
    ])


def _show(data, as_json: bool, as_text) -> int:
    """Prints a listing as JSON or as text for people."""
    print(json.dumps(data, ensure_ascii=False, indent=2) if as_json else as_text(data))
    return 0


def cmd_model_build(config: Config, args) -> int:
    from kb.models.embed import build_default_model

    folder = config.models_path / DEFAULT_MODEL
    if (folder / "modules.json").exists() and not args.force:
        print(f"默认向量模型已存在：{folder}")
        return 0
    started = time.perf_counter()
    build_default_model(config, force=args.force)
    print(f"已生成默认向量模型：{folder}（{time.perf_counter() - started:.1f} 秒）")
    return 0


def cmd_reembed(config: Config, args) -> int:
    kb = _open(config, check_model=False)
    started = time.perf_counter()
    n = kb.reembed()
    print(f"已用模型 {config.model} 重建 {n} 个片段的向量（{time.perf_counter() - started:.1f} 秒）。")
    return 0


METHOD_LABELS = {
    "current": "当前配置", "keyword": "关键词", "dense": "语义", "hybrid": "混合（倒数排名融合）",
    "dense+adapter": "语义 + 新适配器", "hybrid+adapter": "混合 + 新适配器", "hybrid+ranker": "混合 + 新排序",
    "hybrid+adapter+ranker": "混合 + 新适配器 + 新排序（训练结果）",
}


def cmd_train(config: Config, args) -> int:
    from kb.language.query import normalise_title
    from kb.search.train import METHODS, Pair, Trainer, read_articles, read_pairs, save_trained

    kb = _open(config)
    if kb.is_empty():
        print(EMPTY, file=sys.stderr)
        return 1
    if not args.pairs and not args.answers:
        print("错误：请给出问答对文件，或用 --answers 取口径库中已审核的问答。", file=sys.stderr)
        return 1
    started = time.perf_counter()
    pairs = read_pairs(args.pairs, read_articles(args.articles) if args.articles else None) if args.pairs else []
    if args.answers:  # the window's own approved answers
        pairs += [Pair(line["query"], [(normalise_title(r["title"]), r["article"]) for r in line["relevant"]])
                  for line in kb.answer_book.export_pairs()]
    trainer = Trainer(kb, pairs)
    print(f"问答对 {trainer.questions} 个，其中 {len(trainer.pairs)} 个的条文在知识库中。")
    if len(trainer.pairs) < 2 * args.folds:
        print(f"错误：可用的问答对太少（至少 {2 * args.folds} 个），无法训练。", file=sys.stderr)
        return 1
    about = {"pairs": str(args.pairs or ""), "answers": args.answers, "questions": len(trainer.pairs)}
    if args.eval:
        print(f"{args.folds} 折交叉验证（每个问题都由没见过它的模型打分）：")
        results = trainer.cross_validate(args.folds)
        print("| 方法 | R@1 | R@10 | R@100 | MRR@10 |")
        print("|---|---|---|---|---|")
        for name in METHODS:
            r = results[name]
            figures = " | ".join(f"{r[m]:.3f}" for m in ("recall@1", "recall@10", "recall@100", "mrr@10"))
            print(f"| {METHOD_LABELS[name]} | {figures} |")
        about["cross_validation"] = results
    # with --answers the ranker learns from each question's nearest other answered questions (out of fold),
    # as it will find the approved ones at search time
    pieces = ("adapter", "log", "terms") if args.answers else ("adapter", "ranker", "terms")
    trained = trainer.fit(list(range(len(trainer.pairs))), args.folds, pieces=pieces)
    trained.ranker = trained.ranker_log or trained.ranker
    out = args.out or config.data_dir / "trained"
    paths = save_trained(trained, kb, out, about)
    if trained.terms:
        glossary = out / "glossary.txt"
        current = kb.config.glossary or Path(__file__).resolve().parent / "data" / "glossary.txt"
        mined = "\n".join(f"{plain} = {'、'.join(formal)}" for plain, formal in trained.terms.items())
        source = args.pairs.name if args.pairs else "口径库"
        header = f"# 以下 {len(trained.terms)} 条由 kb train 从 {source} 中挖掘（口语词 = 法规用语），可删改"
        glossary.write_text(current.read_text(encoding="utf-8").rstrip("\n") + f"\n\n{header}\n{mined}\n",
                            encoding="utf-8")
        print(f"  挖掘出的口语词对照（并入术语表的副本，未与以上两项一起评估，请先查看、删改）：{glossary}")
    (out / "train_report.json").write_text(json.dumps(about, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"训练完成（{time.perf_counter() - started:.0f} 秒）：")
    print(f"  查询适配后的向量模型：{paths['model']}")
    print(f"  学习排序模型：{paths['ranker']}")
    print("在 studykb.toml 中启用（文档向量不变，无需重建）：")
    print(f'  model = "{paths["model"]}"')
    print(f'  ranker = "{paths["ranker"]}"')
    return 0


COMMANDS = {
    "ingest": cmd_ingest, "search": cmd_search, "ask": cmd_ask, "docs": cmd_docs, "rm": cmd_rm,
    "trash": cmd_trash, "restore": cmd_restore, "user": cmd_user, "token": cmd_token, "audit": cmd_audit,
    "diff": cmd_diff,
    "stats": cmd_stats, "serve": cmd_serve, "model-build": cmd_model_build, "reembed": cmd_reembed, "train": cmd_train,
    "answers": cmd_answers, "check": cmd_check, "related": cmd_related,
    "ledger": cmd_ledger,
}

if __name__ == "__main__":
    sys.exit(main())
