"""Provenance for every figure the benchmarks write: the commit (and whether the tree had
uncommitted changes), the command line, the date and the machine."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def provenance() -> dict:
    import torch

    return {
        "commit": _git("rev-parse", "HEAD"),
        "uncommitted_changes": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "command": " ".join(["python", "-m", Path(sys.argv[0]).parent.name + "." + Path(sys.argv[0]).stem,
                             *sys.argv[1:]]) if sys.argv and sys.argv[0].endswith(".py") else " ".join(sys.argv),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                    "python": platform.python_version(), "torch": torch.__version__},
    }


def emit(result: dict, started: dict, out: Path | None) -> None:
    """Prints a benchmark's record (its provenance first) and writes it to `out` when given."""
    import json

    text = json.dumps({**started, **result}, ensure_ascii=False, indent=2)
    print(text)
    if out:
        out.write_text(text, encoding="utf-8")
