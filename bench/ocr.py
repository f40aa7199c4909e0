"""OCR accuracy and speed on scans made from real text (benchmark, not a test):

    python -m bench.ocr [--pages 8] [--out bench/results/ocr.json]

Pages of the bundled regulations are rendered at 150 dpi with a CJK font (ingest.scans), clean and
with noise and a rotation within ±2°, and read by ingest.ocr as ingestion reads them (one worker
per two cores), then by two workers for comparison. Character accuracy is difflib's ratio between
the rendered and the read text, spaces removed; speed is pages per minute, wall clock, models
loaded. Last, the noisy pages as an image-only PDF go through ingestion's reader (PDFium renders
each page, then OCR)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from bench.record import emit, provenance
from ingest.ocr import read_page, read_pages
from ingest.readers import read_file
from ingest.scans import layout, render

REGULATIONS = Path(__file__).resolve().parent.parent / "corpus" / "regulations"
SOURCES = ("婚姻登记条例(2003-08-08).pdf", "社会救助暂行办法(2019-03-02).md", "殡葬管理条例(2012-11-09).docx",
           "慈善法(2023-12-29).md")


def as_ingested(pages: list[list[str]]) -> dict:
    """The noisy pages as one image-only PDF read the way ingestion reads it: each page found to be a
    scan and rendered by PDFium (at the scan's own 150 dpi), then read by OCR."""
    import difflib
    import re
    import tempfile

    images = [render(p, noisy=True, seed=n) for n, p in enumerate(pages)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scan.pdf"
        images[0].save(path, save_all=True, append_images=images[1:], resolution=150)
        t0 = time.perf_counter()
        raw = read_file(path)
        seconds = time.perf_counter() - t0
    expected = re.sub(r"\s", "", "".join("".join(p) for p in pages))
    accuracy = difflib.SequenceMatcher(None, expected, re.sub(r"\s", "", raw.text), autojunk=False).ratio()
    return {"char_accuracy": accuracy, "pages_per_minute": 60 * len(pages) / seconds,
            "source_format": raw.source_format}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=8)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    import difflib
    import re

    started = provenance()
    pages = [p for name in SOURCES for p in layout(read_file(REGULATIONS / name).text)][:args.pages]
    read_page(render(pages[0]))  # models loaded: not part of the speed
    result = {"pages": len(pages), "cores": os.cpu_count()}
    for label, noisy in (("clean", False), ("noisy", True)):
        images = [render(p, noisy, seed=n) for n, p in enumerate(pages)]
        t0 = time.perf_counter()
        read = read_pages(images, len(images))
        seconds = time.perf_counter() - t0
        scores = [difflib.SequenceMatcher(None, re.sub(r"\s", "", "".join(p)), re.sub(r"\s", "", r.text),
                                          autojunk=False).ratio() for p, r in zip(pages, read)]
        result[label] = {"char_accuracy_mean": sum(scores) / len(scores), "char_accuracy_min": min(scores),
                         "pages_per_minute": 60 * len(images) / seconds,
                         "mean_confidence": sum(r.confidence for r in read) / len(read)}
    images = [render(p) for p in pages]
    t0 = time.perf_counter()
    read_pages(images, len(images), workers=2)
    result["clean_two_workers_pages_per_minute"] = 60 * len(images) / (time.perf_counter() - t0)
    result["noisy_pdf"] = as_ingested(pages)
    emit(result, started, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
