"""Writes STARD's training questions as the question → article pairs `kb train` reads, with each
article named by its law's title and number (as a bureau's own pairs would be), for shipping:

    python scripts/make_stard_pairs.py ../shared/eval/stard/train.jsonl ../shared/eval/stard/articles.jsonl \
        kb/data/trained/stard_train_pairs.jsonl

STARD (Su et al., EMNLP 2024 Findings) is MIT-licensed; see kb/data/trained/README.md."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

VERSION_DATE = re.compile(r"\(\d{4}-\d{2}-\d{2}\)$")


def title_of(article: dict) -> str:
    # the civil code is split into its books in articles.jsonl; its articles are numbered throughout
    return "中华人民共和国民法典" if article["category"] == "民法典" else VERSION_DATE.sub("", article["law"]).strip()


def main(queries: Path, articles: Path, out: Path) -> None:
    by_id = {}
    for line in articles.open(encoding="utf-8"):
        if line.strip():
            a = json.loads(line)
            by_id[a["id"]] = {"title": title_of(a), "article": a["article"]}
    lines = []
    for line in queries.open(encoding="utf-8"):
        if line.strip():
            q = json.loads(line)
            relevant = list({json.dumps(by_id[i], ensure_ascii=False): by_id[i]
                             for g in q["relevant"] for i in g["ids"] if i in by_id}.values())
            lines.append(json.dumps({"query": q["query"], "relevant": relevant}, ensure_ascii=False))
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} pairs → {out}")


if __name__ == "__main__":
    main(*(Path(a) for a in sys.argv[1:4]))
