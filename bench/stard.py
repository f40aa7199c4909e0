"""Search quality on STARD: real questions with judged statute articles.

    python -m bench.stard ../shared/eval/stard/train.jsonl --subset
    python -m bench.stard ../shared/eval/stard/train.jsonl            # all 64,665 articles
    python -m bench.stard ../shared/eval/stard/train.jsonl --cv 5     # trained pieces, cross-validated

Builds a knowledge base the way a user would (one file per law, its articles in order under
their chapter headings, through the normal ingestion), then scores the query file for
keyword, dense and hybrid search. Embeddings are cached by model and text
(bench/.cache/embeddings.sqlite3), so only the first run embeds."""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bench.record import provenance
from kb.config import BASE_MODEL, Config
from kb.library.knowledge_base import IngestReport, KnowledgeBase
from kb.search.metrics import score
from kb.types import SEARCH_MODES

HERE = Path(__file__).resolve().parent
DEFAULT_ARTICLES = HERE.parent.parent / "shared" / "eval" / "stard" / "articles.jsonl"
DEFAULT_QUERIES = DEFAULT_ARTICLES.with_name("train.jsonl")
CACHE = HERE / ".cache"
SUBSET_MIN_ARTICLES = 15_000
SUBSET_SEED = 20241124
VERSION_DATE = re.compile(r"\((\d{4}-\d{2}-\d{2})\)$")


@dataclass
class Corpus:
    articles: list[dict]
    by_law: dict[str, list[dict]]

    @classmethod
    def load(cls, path: Path) -> Corpus:
        articles = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
        by_law: dict[str, list[dict]] = defaultdict(list)
        for article in articles:
            by_law[article["law"]].append(article)
        return cls(articles, dict(by_law))

    def subset(self, queries: list[dict], minimum: int = SUBSET_MIN_ARTICLES, seed: int = SUBSET_SEED) -> list[str]:
        """The laws holding a relevant article, plus a fixed random sample of the others."""
        law_of = {a["id"]: a["law"] for a in self.articles}
        chosen = {law_of[i] for q in queries for group in q["relevant"] for i in group["ids"] if i in law_of}
        others = sorted(set(self.by_law) - chosen)
        random.Random(seed).shuffle(others)
        count = sum(len(self.by_law[law]) for law in chosen)
        for law in others:
            if count >= minimum:
                break
            chosen.add(law)
            count += len(self.by_law[law])
        return sorted(chosen)


def law_file_name(law: str) -> str:
    return re.sub(r'[\\/:*?"<>|\s]+', "_", law) + ".txt"


def write_laws(corpus: Corpus, laws: list[str], folder: Path) -> dict[str, str]:
    """One text file per law: the title, then each chapter heading once, then its articles.
    Returns file path → law. A manifest gives title, type and version date, as a user would."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest, law_of_path = {}, {}
    for law in laws:
        name = law_file_name(law)
        title = VERSION_DATE.sub("", law).strip()
        lines, chapter = [title, ""], ""
        for article in corpus.by_law[law]:
            if article["chapter"] and article["chapter"] != chapter:
                chapter = article["chapter"]
                lines += [chapter, ""]
            lines += [article["text"], ""]
        path = folder / name
        text = "\n".join(lines)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        date = VERSION_DATE.search(law)
        manifest[name] = {"title": title, "doc_type": "regulation", "date": date.group(1) if date else ""}
        law_of_path[str(path.resolve())] = law
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=0), encoding="utf-8")
    return law_of_path


def open_kb(data: Path, cached: bool = True, **overrides) -> KnowledgeBase:
    config = Config.load(data, **overrides)
    if not cached:
        return KnowledgeBase(config)
    from bench.embed_cache import CachedEmbedder
    from kb.models.embed import Embedder

    return KnowledgeBase(config, embedder=CachedEmbedder(Embedder(config), CACHE / "embeddings.sqlite3"))


def build(corpus: Corpus, laws: list[str], work: Path, rebuild: bool = False,
          shipped: bool = False, precision: str = "",
          keyword_words: int | None = None) -> tuple[KnowledgeBase, dict[str, str], IngestReport]:
    """The knowledge base of these laws (built, or brought up to date), the law of each file, and
    what the ingestion did (a record of the build's time). Opened without the shipped query adapter
    and ranker unless `shipped`: they were trained on train.jsonl, and must not score it."""
    overrides = {} if shipped else {"model": BASE_MODEL, "ranker": "none"}
    if precision:
        overrides["precision"] = precision
    if keyword_words is not None:
        overrides["keyword_words"] = keyword_words
    if rebuild and (work / "kb").exists():
        shutil.rmtree(work / "kb")
    law_of_path = write_laws(corpus, laws, work / "laws")
    kb = open_kb(work / "kb", model_dir=CACHE / "models", **overrides)
    report = kb.ingest([work / "laws"], prune=True)
    print(f"知识库：{len(laws)} 部法律，新增 {len(report.added)}，更新 {len(report.replaced)}，"
          f"未变 {len(report.unchanged)}，重复 {len(report.duplicates)}，失败 {len(report.failed)}；"
          f"{report.chunks} 段，{report.seconds:.0f} 秒（向量化 {report.embed_seconds:.0f} 秒）", file=sys.stderr)
    for name, reason in report.failed:
        print(f"  失败：{name}：{reason}", file=sys.stderr)
    return kb, law_of_path, report


def default_precision() -> str:
    """What a new knowledge base on this machine computes in (configuration, else kb.models.embed's default for
    the device), so that the benchmark measures what users get unless told otherwise."""
    from kb.models.embed import pick_device, pick_precision

    config = Config.load(CACHE)
    return pick_precision(config.precision, pick_device(config.device))


def precision_suffix(precision: str) -> str:
    """Each precision builds its own knowledge base; fp32's keeps the plain name it always had."""
    return "" if precision == "fp32" else f"-{precision}"


def article_ids(corpus: Corpus) -> dict[tuple[str, str], int]:
    return {(a["law"], a["article"]): a["id"] for a in corpus.articles}


def evaluate(kb: KnowledgeBase, law_of_path: dict[str, str], corpus: Corpus, queries: list[dict],
             modes: list[str], depth: int = 100) -> dict[str, dict]:
    """Scores each mode; a hit is the article its citation names (law and article number)."""
    ids = article_ids(corpus)
    law_of_doc = {d["id"]: law_of_path.get(d["path"]) for d in kb.documents()}
    results = {}
    for mode in modes:
        runs, seconds = [], []
        for q in queries:
            t0 = time.perf_counter()
            hits = kb.search(q["query"], k=depth, mode=mode)
            seconds.append(time.perf_counter() - t0)
            ranked = []
            for hit in hits:
                article_id = ids.get((law_of_doc.get(hit.doc_id), hit.article))
                if article_id is not None and article_id not in ranked:
                    ranked.append(article_id)
            runs.append((ranked, [set(g["ids"]) for g in q["relevant"]]))
        results[mode] = score(runs) | {"questions": len(queries),
                                       "mean_ms": 1000 * sum(seconds) / max(len(seconds), 1)}
    return results


def read_queries(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def print_table(results: dict[str, dict]) -> None:
    columns = ["recall@1", "recall@5", "recall@10", "recall@100", "mrr@10", "ndcg@10"]
    print("| 方式 | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for mode, row in results.items():
        print(f"| {mode} | " + " | ".join(f"{row[c]:.3f}" for c in columns) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("queries", type=Path, help="questions in the format of train.jsonl")
    parser.add_argument("--articles", type=Path, default=DEFAULT_ARTICLES)
    parser.add_argument("--subset", action="store_true", help="the relevant laws plus a fixed sample")
    parser.add_argument("--min-articles", type=int, default=SUBSET_MIN_ARTICLES, help="size of the subset")
    parser.add_argument("--work", type=Path, help="where the laws and the knowledge base are built")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the knowledge base (embeddings stay cached)")
    parser.add_argument("--modes", default=",".join(SEARCH_MODES))
    parser.add_argument("--limit", type=int, help="score only the first N questions")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("--shipped", action="store_true",
                        help="with the shipped query adapter and ranker: only for questions they were not trained on "
                             "(they were trained on train.jsonl, which is scored untrained or by --cv)")
    parser.add_argument("--terms", action="store_true", help="with --cv: the mined term map alone")
    parser.add_argument("--precision", choices=["fp32", "int8"],
                        help="the model's precision, each in its own knowledge base (default: a new one's here)")
    parser.add_argument("--keyword-words", type=int, help="the keyword query's most words (0: all; default: config's)")
    parser.add_argument("--log", nargs="?", const=True, metavar="PAIRS",
                        help="with --cv: the other folds' questions as the window's approved answers (precedents); "
                             "with a file of question → article pairs: import them as approved answers, then score")
    parser.add_argument("--cv", type=int, metavar="FOLDS",
                        help="score the untrained and trained methods by k-fold cross-validation (kb.search.train)")
    args = parser.parse_args(argv)
    if args.shipped and args.queries.resolve() == DEFAULT_QUERIES.resolve():
        parser.error("the shipped pieces were trained on train.jsonl: score them on it with --cv, not --shipped")

    started = provenance()  # what runs is the tree as it is now, not at the end
    corpus = Corpus.load(args.articles)
    queries = read_queries(args.queries)[:args.limit]
    laws = corpus.subset(queries, args.min_articles) if args.subset else sorted(corpus.by_law)
    precision = args.precision or default_precision()
    work = args.work or CACHE / ((f"subset-{args.min_articles}" if args.subset else "full")
                                 + precision_suffix(precision))
    kb, law_of_path, report = build(corpus, laws, work, args.rebuild, args.shipped, precision,
                                    args.keyword_words)
    n_articles = sum(len(corpus.by_law[law]) for law in laws)
    if args.cv:
        from kb.search.train import LOG_METHODS, METHODS, TERM_METHODS, Trainer, read_articles, read_pairs

        trainer = Trainer(kb, read_pairs(args.queries, read_articles(args.articles))[:args.limit])
        # the pieces are trained from the base model's query vectors, and ranked with RRF when untrained
        methods = TERM_METHODS if args.terms else LOG_METHODS if args.log else METHODS
        results = trainer.cross_validate(args.cv, methods=methods)
    else:
        book = kb.answer_book
        for item in book.items():  # a cached knowledge base keeps no log from an earlier run
            book.remove(item.id)
        if args.log and args.log is not True:
            imported = book.import_pairs(Path(args.log), approved=True)
            print(f"口径库：导入 {imported['questions']} 个问题，{imported['items']} 个条目")
        try:
            results = evaluate(kb, law_of_path, corpus, queries, args.modes.split(","))
        finally:
            for item in book.items():
                book.remove(item.id)
    print(f"{args.queries.name}：{len(queries)} 个问题；{len(laws)} 部法律，{n_articles} 条")
    print_table(results)
    if args.out:
        record = {**started, "queries": str(args.queries), "questions": len(queries), "laws": len(laws),
                  "articles": n_articles, "chunks": kb.stats()["chunks"], "subset": args.subset,
                  "build": {"chunks_embedded": report.chunks, "seconds": round(report.seconds, 1),
                            "embed_seconds": round(report.embed_seconds, 1)},
                  "model": kb.embedder.identity(), "cross_validation_folds": args.cv, "results": results}
        args.out.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
