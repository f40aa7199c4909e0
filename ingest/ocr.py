"""Text from scans, offline: RapidOCR (PP-OCRv4 Chinese models inside the rapidocr-onnxruntime
wheel, run by onnxruntime; nothing is downloaded). A page image becomes lines in reading order,
each with the recogniser's confidence. Pages are read by a pool of workers, one per two cores (a
physical core), each on one onnxruntime thread: on 2 cores one such worker read 31 pages/minute,
one worker on two threads 27, two thread workers 18–23 and two processes 19 (bench/RESULTS.md);
much of RapidOCR's work is Python that holds the GIL."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

LOW_CONFIDENCE = 0.85  # a page read with less mean confidence is listed for a person to check
_local = threading.local()


@dataclass
class OcrPage:
    text: str  # lines in reading order, joined by newlines
    confidence: float  # the mean of its lines' confidences, weighted by their length; 0 for a blank page


def _engine():
    """One RapidOCR per thread (its sessions are not shared between threads)."""
    if getattr(_local, "engine", None) is None:
        from rapidocr_onnxruntime import RapidOCR

        _local.engine = RapidOCR(params={"Global.intra_op_num_threads": 1, "Global.inter_op_num_threads": 1,
                                         "Global.print_verbose": False})
    return _local.engine


def read_page(image) -> OcrPage:
    """One page image (PIL image or array) → its text in reading order; None (a page that could not
    be rendered) reads as blank."""
    if image is None:
        return OcrPage("", 0.0)
    array = np.asarray(image.convert("RGB")) if hasattr(image, "convert") else np.asarray(image)
    found, _ = _engine()(array)
    return OcrPage(*reading_order(found or []))


def reading_order(found: list) -> tuple[str, float]:
    """RapidOCR's boxes ([[corners], text, score]) as lines top to bottom, left to right within a line:
    boxes whose vertical middles fall within half a line's height of each other are one line."""
    boxes = []
    for corners, text, score in found:
        ys = [p[1] for p in corners]
        xs = [p[0] for p in corners]
        boxes.append(((min(ys) + max(ys)) / 2, max(ys) - min(ys), min(xs), text, float(score)))
    boxes.sort()
    lines: list[list[tuple]] = []
    for box in boxes:
        if lines and abs(box[0] - lines[-1][0][0]) < 0.5 * max(box[1], lines[-1][0][1]):
            lines[-1].append(box)
        else:
            lines.append([box])
    text = "\n".join("".join(b[3] for b in sorted(line, key=lambda b: b[2])) for line in lines)
    weight = sum(len(b[3]) for b in boxes)
    confidence = sum(len(b[3]) * b[4] for b in boxes) / weight if weight else 0.0
    return text, confidence


def read_pages(images: Iterable, count: int, on_page: Callable[[int], None] | None = None,
               workers: int | None = None) -> list[OcrPage]:
    """Pages in order, read by `workers` threads (default: one per two cores); `on_page(n)` after each.
    An image may be given as a function that returns it: it is called in the worker, so only the
    pages being read are held in memory."""
    from concurrent.futures import ThreadPoolExecutor

    workers = max(1, min(workers or (os.cpu_count() or 1) // 2, count))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ocr")
    try:
        futures = [pool.submit(lambda image=image: read_page(image() if callable(image) else image))
                   for image in images]
        pages = []
        for n, future in enumerate(futures, 1):
            pages.append(future.result())
            if on_page:
                on_page(n)  # may raise (the file's time is up): the pages not yet begun are dropped
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return pages
