"""Writes kb/data/int8_calibration.txt: the passages on which int8 measures its activation
ranges (kb.models.int8), one per line, every STEP-th chunk of the bundled demo corpus.

    python -m bench.int8_calibration
"""

from __future__ import annotations

from bench.record import ROOT
from ingest import find_files, load_document
from kb.models.int8 import CALIBRATION_TEXTS

STEP = 7  # 1,369 chunks → about 200 passages: some seconds of calibration, once per model
MAX_CHARS = 500


def main() -> None:
    files, _problems = find_files([ROOT / "corpus"])
    texts = []
    for path in files:
        _doc, chunks = load_document(path)
        texts += ["".join(c.text.split())[:MAX_CHARS] for c in chunks]
    picked = texts[::STEP]
    CALIBRATION_TEXTS.write_text("\n".join(picked) + "\n", encoding="utf-8")
    print(f"{len(picked)} 段（共 {len(texts)} 段）→ {CALIBRATION_TEXTS}")


if __name__ == "__main__":
    main()
