"""An upload of a scan, timed as the app does it (benchmark, not a test):

    python -m bench.upload [--model-dir DIR] [--out bench/results/upload-scan.json]

A one-page scan (a bundled regulation's first page rendered at 150 dpi with noise, as a PNG) is
uploaded into a knowledge base holding one regulation, at the default model and precision: saved,
compared with the library (similar documents), ingested. `read_twice` is the flow before issue 22,
where the comparison read (and OCR'd) the file and ingestion read it again; `read_once` is the
upload now (KnowledgeBase.upload), which reuses the first reading. Each in a fresh knowledge base,
models loaded beforehand, in one run."""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

from bench.record import emit, provenance
from ingest.readers import read_file
from ingest.scans import layout, render
from kb.config import Config
from kb.library.knowledge_base import KnowledgeBase

REGULATIONS = Path(__file__).resolve().parent.parent / "corpus" / "regulations"


def scan_png() -> bytes:
    page = render(layout(read_file(REGULATIONS / "婚姻登记条例(2003-08-08).pdf").text)[0], noisy=True, seed=1)
    out = io.BytesIO()
    page.save(out, "PNG")
    return out.getvalue()


def timed_upload(model_dir: Path | None, png: bytes, twice: bool) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        config = Config.load(Path(folder) / "data", model_dir=model_dir)
        kb = KnowledgeBase(config)
        kb.ingest([REGULATIONS / "社会救助暂行办法(2019-03-02).md"], progress=False)
        kb.warm()
        t0 = time.perf_counter()
        if twice:  # the old flow: compare, forget what was read, ingest
            from kb.store.uploads import save_upload

            path = save_upload("扫描件.png", png, config.uploads_path, config.max_file_mb * 2**20)
            kb.ingestion.similar_documents(path)
            kb.ingestion._read.clear()
            report = kb.ingest([path], progress=False)
        else:
            report = kb.upload([("扫描件.png", png)]).report
        seconds = time.perf_counter() - t0
        kb.close()
    return {"seconds": round(seconds, 2), "chunks": report.chunks, "added": len(report.added)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, help="the built default model (default: the data folder's)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    started = provenance()
    png = scan_png()
    result = {"read_twice": timed_upload(args.model_dir, png, twice=True),
              "read_once": timed_upload(args.model_dir, png, twice=False)}
    emit(result, started, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
