"""The first card for window questions: citizens' questions over local and national civil-affairs
rules (bench/data/window_questions.jsonl; how it was written: bench/data/window_questions.md).

    python -m bench.window                      # the validation part, as shipped (int8, shipped pieces)
    python -m bench.window --log                # after the window approved the train part's answers
    python -m bench.window --part train

The knowledge base is the bundled corpus plus the local rules the questions are over (copied
from ../shared/corpus-local), built the way a user would. Each question is asked as at a window
in its place (`home`: the office's region). Reports top-1, top-3, top-10 and MRR@10 of the
answerable questions, and the share of answerable and of unanswerable ones `kb ask` says it found."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.record import provenance
from bench.stard import CACHE, HERE, default_precision, open_kb, precision_suffix
from kb.language.places import place_by_name
from kb.language.query import normalise_title

ROOT = HERE.parent
LOCAL = ROOT.parent / "shared" / "corpus-local"
QUESTIONS = HERE / "data" / "window_questions.jsonl"


def read(path: Path, part: str) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r["part"] == part]


def build(questions: list[dict], work: Path, precision: str):
    files = work / "files"
    if files.exists():
        shutil.rmtree(files)
    shutil.copytree(ROOT / "corpus", files / "bundled")
    for path in sorted({q["file"] for q in questions if q["file"] and not q["file"].startswith("corpus/")}):
        (files / "local").mkdir(parents=True, exist_ok=True)
        shutil.copy(LOCAL / path, files / "local" / Path(path).name)
    kb = open_kb(work / "kb", model_dir=CACHE / "models", precision=precision)
    report = kb.ingest([files], prune=True)
    print(f"知识库：新增 {len(report.added)}，未变 {len(report.unchanged)}，失败 {len(report.failed)}，"
          f"{report.seconds:.0f} 秒", file=sys.stderr)
    for name, reason in report.failed:
        print(f"  失败：{name}：{reason}", file=sys.stderr)
    return kb


def first_cards(kb, questions: list[dict]) -> dict:
    ranks, found_unanswerable, found_answerable, misses, seconds = [], [], [], [], []
    for q in questions:
        kb.searcher.home_place = place_by_name(q["home"]) if q.get("home") else None
        wanted = {(normalise_title(r["title"]), r["article"]) for r in q["relevant"]}
        started = time.perf_counter()
        if not wanted:
            found_unanswerable.append(kb.ask(q["query"]).found)
            continue
        hits = kb.search(q["query"], k=10)
        seconds.append(time.perf_counter() - started)
        keys = [(normalise_title(h.citation.title), h.article) for h in hits]
        rank = next((n for n, key in enumerate(keys, 1) if key in wanted), None)
        ranks.append(rank)
        found_answerable.append(kb.ask(q["query"]).found)
        if rank != 1:
            misses.append({"query": q["query"], "wanted": sorted(wanted), "first": keys[0] if keys else None,
                           "rank": rank})
    n = max(len(ranks), 1)
    return {
        "questions": len(ranks), "top1": round(sum(r == 1 for r in ranks) / n, 3),
        "top3": round(sum(r is not None and r <= 3 for r in ranks) / n, 3),
        "top10": round(sum(r is not None for r in ranks) / n, 3),
        "mrr@10": round(sum(1 / r for r in ranks if r) / n, 3),
        "answerable_found": round(sum(found_answerable) / n, 3), "unanswerable": len(found_unanswerable),
        "unanswerable_found": round(sum(found_unanswerable) / max(len(found_unanswerable), 1), 3),
        "mean_ms": round(1000 * sum(seconds) / max(len(seconds), 1), 1), "misses": misses,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--part", default="validation", choices=["validation", "train"])
    parser.add_argument("--log", action="store_true",
                        help="first approve the other part's questions as the window's answers (口径库)")
    parser.add_argument("--precision", choices=["fp32", "int8"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if not LOCAL.is_dir():
        parser.error(f"{LOCAL} is missing: the local regulations come from ../shared")
    started = provenance()
    precision = args.precision or default_precision()
    every = read(args.questions, "validation") + read(args.questions, "train")
    kb = build(every, CACHE / f"window{precision_suffix(precision)}", precision)
    book = kb.answer_book
    for item in book.items():
        book.remove(item.id)
    other = "train" if args.part == "validation" else "validation"
    try:
        if args.log:
            with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8", delete=False) as log:
                for q in read(args.questions, other):
                    if q["relevant"]:
                        log.write(json.dumps({"query": q["query"], "relevant": q["relevant"]}, ensure_ascii=False)
                                  + "\n")
            print("口径库：", book.import_pairs(Path(log.name), approved=True), file=sys.stderr)
            Path(log.name).unlink()
        result = first_cards(kb, read(args.questions, args.part))
    finally:
        for item in book.items():
            book.remove(item.id)
    record = {**started, "part": args.part, "log": args.log, "precision": precision, **result}
    summary = {k: v for k, v in result.items() if k != "misses"}
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    if args.out:
        args.out.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
