"""The speed users feel, on the STARD statute corpus (benchmark, not a test):

    python -m bench.speed ../shared/eval/stard/train.jsonl            # the full corpus
    python -m bench.speed ../shared/eval/stard/train.jsonl --subset

- ingestion throughput: a fixed sample of laws ingested from scratch with the real model
  (no embedding cache): articles/s, chunks/s, the share of time spent embedding;
- query latency p50/p95 for keyword, dense and hybrid over the questions, knowledge base
  loaded and warm, queries embedded for real;
- cold start: a new `kb search` process, from start to its first printed result;
- the same queries through a running `kb serve`, and a `kb search` process that goes through it;
- index size on disk and peak memory.
The knowledge base is the one bench.stard builds (run that first; it fills the cache)."""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.record import emit, provenance
from bench.stard import (
    CACHE,
    DEFAULT_ARTICLES,
    SUBSET_MIN_ARTICLES,
    Corpus,
    build,
    default_precision,
    precision_suffix,
    read_queries,
    write_laws,
)
from kb.config import BASE_MODEL, Config
from kb.library.knowledge_base import KnowledgeBase
from kb.types import SEARCH_MODES


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ingestion(corpus: Corpus, work: Path, articles: int, precision: str = "fp32") -> dict:
    """Ingest whole laws (a fixed random sample, ~`articles` articles) into an empty knowledge base,
    the model computing at `precision`."""
    laws = sorted(corpus.by_law)
    random.Random(7).shuffle(laws)
    sample, count = [], 0
    for law in laws:
        if count >= articles:
            break
        sample.append(law)
        count += len(corpus.by_law[law])
    shutil.rmtree(work, ignore_errors=True)
    write_laws(corpus, sample, work / "laws")
    kb = KnowledgeBase(Config.load(work / "kb", model_dir=CACHE / "models", precision=precision))
    kb.warm()  # model loading is cold start, not throughput
    report = kb.ingest([work / "laws"], progress=False)
    kb.close()
    return {"laws": len(sample), "articles": count, "chunks": report.chunks, "seconds": report.seconds,
            "articles_per_s": count / report.seconds, "chunks_per_s": report.chunks / report.seconds,
            "embedding_share": report.embed_seconds / report.seconds}


def ingestion_both(corpus: Corpus, articles: int) -> dict:
    """Both precisions in one run, on the same machine."""
    return {precision: ingestion(corpus, CACHE / "ingest-sample", articles, precision)
            for precision in ("fp32", "int8")}


def latency(kb: KnowledgeBase, queries: list[str]) -> dict:
    out = {}
    for mode in SEARCH_MODES:
        times = []
        for q in queries:
            t0 = time.perf_counter()
            kb.search(q, k=10, mode=mode)
            times.append((time.perf_counter() - t0) * 1000)
        out[mode] = {"p50_ms": statistics.median(times), "p95_ms": percentile(times, 0.95),
                     "max_ms": max(times), "queries": len(times)}
    return out


def cold_start(data: Path, query: str, runs: int = 3) -> dict:
    """Wall time of a new `kb search` process (imports, model, index, jieba, the query). The
    model is the one the knowledge base was built with, already on disk: a cold start never
    includes building it."""
    kb_cli = Path(sys.executable).with_name("kb")
    env = {**os.environ, "STUDYKB_MODEL_DIR": str(CACHE / "models")}
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run([str(kb_cli), "--data", str(data), "search", query, "--json", "-k", "1"],
                              capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - t0)
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"first_s": times[0], "median_s": statistics.median(times), "runs": runs, "peak_rss_mb": peak_kb / 1024}


def through_server(data: Path, queries: list[str], runs: int = 3) -> dict:
    """The same hybrid queries through a running `kb serve` (HTTP, JSON), and the wall time of a new
    `kb search` process that goes through it (process start included)."""
    import socket
    import urllib.parse
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    kb_cli = Path(sys.executable).with_name("kb")
    env = {**os.environ, "STUDYKB_MODEL_DIR": str(CACHE / "models")}
    server = subprocess.Popen([str(kb_cli), "--data", str(data), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url + "/api/health", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("kb serve did not start") from None
                time.sleep(0.5)
        times = []
        for q in queries:
            t0 = time.perf_counter()
            urllib.request.urlopen(url + "/api/search?" + urllib.parse.urlencode({"q": q, "k": 10}), timeout=60).read()
            times.append((time.perf_counter() - t0) * 1000)
        walls = []
        for q in queries[:runs]:
            t0 = time.perf_counter()
            subprocess.run([str(kb_cli), "--server", url, "search", q, "-k", "10"], capture_output=True, check=True,
                           env=env)
            walls.append(time.perf_counter() - t0)
    finally:
        server.terminate()
        server.wait(10)
    return {"hybrid_p50_ms": statistics.median(times), "hybrid_p95_ms": percentile(times, 0.95),
            "queries": len(times), "cli_wall_s_median": statistics.median(walls), "cli_runs": len(walls)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("queries", type=Path)
    parser.add_argument("--articles", type=Path, default=DEFAULT_ARTICLES)
    parser.add_argument("--subset", action="store_true")
    parser.add_argument("--ingest-articles", type=int, default=2000, help="size of the ingestion sample")
    parser.add_argument("--limit", type=int, help="time only the first N questions")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--no-ingestion", action="store_true", help="skip the ingestion sample")
    parser.add_argument("--ingestion-only", action="store_true", help="only the ingestion sample, both precisions")
    parser.add_argument("--precision", choices=["fp32", "int8"],
                        help="time the knowledge base built at this precision (bench.stard --precision builds it)")
    args = parser.parse_args(argv)

    started = provenance()  # what runs is the tree as it is now, not at the end
    corpus = Corpus.load(args.articles)
    queries = read_queries(args.queries)[:args.limit]
    laws = corpus.subset(queries, SUBSET_MIN_ARTICLES) if args.subset else sorted(corpus.by_law)
    precision = args.precision or default_precision()
    work = CACHE / ((f"subset-{SUBSET_MIN_ARTICLES}" if args.subset else "full") + precision_suffix(precision))
    result: dict = {"articles": sum(len(corpus.by_law[law]) for law in laws), "laws": len(laws)}
    if args.ingestion_only:
        result["ingestion"] = ingestion_both(corpus, args.ingest_articles)
        emit({"queries": str(args.queries), **result}, started, args.out)
        return 0

    kb, _, _ = build(corpus, laws, work, precision=precision)  # built by bench.stard: only checked
    kb.close()
    data = work / "kb"
    result["cold_start"] = cold_start(data, queries[0]["query"])

    t0 = time.perf_counter()  # opening includes jieba's dictionary (the constructor) and the model (warm)
    kb = KnowledgeBase(Config.load(data, model_dir=CACHE / "models"))  # the real model, no cache
    kb.warm()
    result["load_s"] = time.perf_counter() - t0
    stats = kb.stats()
    result["chunks"] = stats["chunks"]
    result["disk_mb"] = {"sqlite": stats["database_bytes"] / 2**20, "faiss": stats["vector_bytes"] / 2**20}
    result["latency"] = latency(kb, [q["query"] for q in queries])
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kb.close()
    # the same queries without the query adapter and the learned ranker (reciprocal rank fusion):
    # what the trained pieces cost, measured in the same run
    kb = KnowledgeBase(Config.load(data, model_dir=CACHE / "models", model=BASE_MODEL, ranker="none"))
    kb.warm()
    result["latency_untrained"] = latency(kb, [q["query"] for q in queries])
    kb.close()
    result["through_server"] = through_server(data, [q["query"] for q in queries])
    if not args.no_ingestion:
        result["ingestion"] = ingestion_both(corpus, args.ingest_articles)

    emit({"queries": str(args.queries), **result}, started, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
