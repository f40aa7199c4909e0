"""引文核对 on the committed test drafts (benchmark, not a test):

    python -m bench.quote_check [--drafts bench/data/quote_drafts.jsonl] [--out F.json]

The knowledge base is the bundled corpus with 慈善法 2016 beside its 2023 text, in the shipped
configuration (int8 on CPU), built once under bench/.cache. Prints:
- each quotation's status against the one written by hand, the share right, and every miss;
- invented quotations called `exact` (must be none);
- the time to check a 5,000-character draft (the drafts joined), median of 5 runs, warm.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from pathlib import Path

from bench.record import emit, provenance
from kb.config import Config
from kb.library.knowledge_base import KnowledgeBase
from kb.library.quote_check import STATUSES

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DRAFTS = HERE / "data" / "quote_drafts.jsonl"
CACHE = HERE / ".cache" / "quote-check-int8"
OLD_CHARITY = ROOT / "tests" / "data" / "慈善法(2016-03-16).md"


def open_kb(data: Path = CACHE) -> KnowledgeBase:
    """The bundled corpus and 慈善法 2016, int8: built at the first run, then reused."""
    os.environ.pop("STUDYKB_PRECISION", None)  # what users get, whatever a test session pinned
    fresh = not (data / "kb.sqlite3").exists()
    if fresh:
        shutil.rmtree(data, ignore_errors=True)
        files = data / "files"
        shutil.copytree(ROOT / "corpus", files)
        shutil.copy(OLD_CHARITY, files / "regulations" / OLD_CHARITY.name)
    kb = KnowledgeBase(Config.load(data, model_dir=HERE / ".cache" / "models", precision="int8"))
    if fresh:
        kb.ingest([data / "files"], progress=True)
    return kb


def read_drafts(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def score(kb: KnowledgeBase, drafts: list[dict]) -> dict:
    """Each expected quotation against the result whose span holds it."""
    rows, found_extra = [], 0
    for d in drafts:
        results = kb.quotes.check(d["text"]).results
        for q in d["quotes"]:
            match = next((r for r in results if r.quote.start <= q["start"] < r.quote.end), None)
            got = match.status if match else "(not read)"
            rows.append({"draft": d["draft"], "quote": q["quote"], "expected": q["expected"], "got": got,
                         "note": match.note if match else "", "similarity": round(match.similarity, 3) if match else 0})
        found_extra += len(results) - len(d["quotes"])
    right = sum(r["expected"] == r["got"] for r in rows)
    confusion: dict[str, dict[str, int]] = {}
    for r in rows:
        confusion.setdefault(r["expected"], {}).setdefault(r["got"], 0)
        confusion[r["expected"]][r["got"]] += 1
    return {"quotes": len(rows), "right": right, "accuracy": right / len(rows),
            "invented_called_exact": sum(r["expected"] == "not_found" and r["got"] == "exact" for r in rows),
            "quotations_read_beyond_the_set": found_extra, "confusion": confusion,
            "misses": [r for r in rows if r["expected"] != r["got"]]}


def timing(kb: KnowledgeBase, drafts: list[dict], chars: int = 5000, runs: int = 5) -> dict:
    text = ""
    for d in drafts * 3:
        if len(text) >= chars:
            break
        text += d["text"]
    text = text[:chars]
    kb.quotes.check(text)  # warm: jieba's dictionary, the documents' texts
    seconds = []
    for _ in range(runs):
        kb.quotes._texts.clear()  # each run reads the sources again, as a fresh process would
        began = time.perf_counter()
        report = kb.quotes.check(text)
        seconds.append(time.perf_counter() - began)
    return {"chars": len(text), "quotations": len(report.results), "median_s": statistics.median(seconds),
            "max_s": max(seconds), "runs": runs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=Path, default=DRAFTS)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    started = provenance()
    kb = open_kb()
    drafts = read_drafts(args.drafts)
    result = {"drafts": str(args.drafts), "statuses": list(STATUSES), **score(kb, drafts),
              "five_thousand_chars": timing(kb, drafts)}
    emit(result, started, args.out)
    print(f"\n{result['right']}/{result['quotes']} right ({result['accuracy']:.1%}); invented called exact: "
          f"{result['invented_called_exact']}; 5,000 characters in {result['five_thousand_chars']['median_s']:.2f} s")
    kb.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
