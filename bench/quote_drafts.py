"""Builds the 引文核对 test set: lecture drafts that quote the bundled corpus (and 慈善法 2016).

    python -m bench.quote_drafts --out NEW.jsonl

Every quotation is made from the corpus files by a rule (fixed seed), one kind each:
- exact: a sentence of an article, word for word, cited right (or not cited);
- differs: the same with one to three characters changed, dropped or added;
- wrong_article: word for word, under another article number of the same law;
- outdated: a sentence of 慈善法 2016 that the 2023 text no longer holds;
- not_found: an invented sentence (INVENTED, written by hand), none closer than half to any source.
The committed set (bench/data/quote_drafts.jsonl) is this script's output with each quotation's
`expected` status written after reading it (all 76 as their kind proposed: each edit was checked
to leave no verbatim copy elsewhere, each invented sentence to be under half alike to any source).
Writing to another file keeps those statuses from being overwritten. bench.quote_check scores.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

from ingest import load_document
from kb.language.align import locate, normalise
from kb.language.query import chinese_number, normalise_title

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "corpus" / "regulations").glob("*.*")) + [ROOT / "tests" / "data" / "慈善法(2016-03-16).md"]
OLD_CHARITY = "慈善法(2016-03-16)"
OUT = ROOT / "bench" / "data" / "quote_drafts.jsonl"

INVENTED = [  # written by hand: no regulation of the corpus says these
    "县级以上人民政府应当每年组织一次慈善事业发展专项督查。",
    "民政部门应当在三个工作日内完成全部婚姻登记材料的电子归档。",
    "社区居民委员会每两年开展一次居民满意度测评并向街道报告结果。",
    "志愿服务组织应当为每名志愿者建立不少于五年的服务档案。",
    "民政工作要坚持以人民为中心，把群众满意作为检验工作的第一标准。",
    "要把养老服务体系建设摆在更加突出的位置，加快补齐农村养老短板。",
    "残疾人两项补贴应当按月足额发放到本人的社会保障卡。",
    "救助管理站应当开通二十四小时求助热线并在车站码头公布号码。",
    "地方各级人民政府应当将殡葬设施建设纳入年度重点民生实事项目。",
    "慈善组织的负责人每年应当向登记的民政部门述职一次。",
    "村民委员会成员实行任期和离任经济责任审计，审计结果向全体村民张榜公布。",
    "未成年人救助保护机构应当配备专职心理辅导人员。",
    "家庭教育指导服务站点应当覆盖全部城乡社区。",
    "行政区划变更后，原有地名标志应当在一个月内全部更换。",
    "各级民政部门要建立困难群众主动发现机制，做到早发现、早介入、早救助。",
    "社会组织年度检查不合格的，登记管理机关应当责令其限期整改并向社会通报。",
    "信访事项办理情况应当纳入领导干部年度述职述廉报告。",
]
SWAPS = {"应当": "应该", "不得": "不能", "可以": "能够", "人民政府": "政府", "的": "之", "和": "与", "依法": "依照法律",
         "组织": "机构", "规定": "要求"}
STYLES = [  # how a draft cites: {t} title, {a} article, {q} the quotation
    "《{t}》{a}规定：“{q}”",
    "正如《{t}》{a}所明确的，“{q}”",
    "“{q}”（《{t}》{a}）",
    "《{t}》{a}明确规定：“{q}”",
]
CONNECTIVES = ["同志们，学习法规要原原本本、逐条逐句。", "这一规定为我们做好工作提供了遵循。",
               "我们要把这些要求落实到每一个窗口、每一项服务中。", "对照这些条文，我们的工作还有差距。",
               "下面，我结合工作实际谈几点体会。", "这一条文字不多，分量很重。"]


def articles() -> dict[str, list[tuple[str, str]]]:
    """Each source's (article number, body) pairs, keyed by file stem."""
    out = {}
    for path in SOURCES:
        doc, chunks = load_document(path)
        spans: dict[str, list[int]] = {}
        for c in chunks:
            if c.article:
                span = spans.setdefault(c.article, [c.start, c.end])
                span[0], span[1] = min(span[0], c.start), max(span[1], c.end)
        out[path.stem] = [(number, re.sub(r"^\s*第[^条]{1,8}条\s*", "", doc.text[a:b]).strip())
                          for number, (a, b) in spans.items()]
    return out


def sentences(body: str) -> list[str]:
    return [s.strip() + "。" for s in re.split(r"[。；]", body.replace("\n", "")) if 12 <= len(s.strip()) <= 70]


def law_of(stem: str) -> str:
    return normalise_title(re.sub(r"\(.*\)$", "", stem))


def build(seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    by_source = articles()
    texts = {stem: normalise("".join(body for _, body in arts)).text for stem, arts in by_source.items()}

    def laws_holding(sentence: str) -> set[str]:
        n = normalise(sentence).text
        return {law_of(stem) for stem, text in texts.items() if n in text}

    current = {stem: arts for stem, arts in by_source.items() if stem != OLD_CHARITY}
    pool = [(stem, number, s) for stem, arts in current.items() for number, body in arts for s in sentences(body)
            if "中华人民共和国" not in s]
    rng.shuffle(pool)
    unique = [(stem, number, s) for stem, number, s in pool if laws_holding(s) == {law_of(stem)}]
    made: list[dict] = []
    used: set[str] = set()

    def take(n: int):
        picked = []
        for item in unique:
            if item[2] not in used and len(picked) < n and item[0] not in {p[0] for p in picked[-3:]}:
                used.add(item[2])
                picked.append(item)
        return picked

    for stem, number, s in take(22):
        made.append(quote(stem, number, s, "exact"))
    for stem, number, s in take(18):
        changed = perturb(s, rng)
        if changed and not laws_holding(changed):
            made.append(quote(stem, number, changed, "differs", original=s))
    for stem, number, s in take(12):
        numbers = [n for n, _ in by_source[stem]]
        at = numbers.index(number)
        other = numbers[min(len(numbers) - 1, at + rng.randint(1, 3))] if at < len(numbers) - 1 else numbers[at - 1]
        made.append(quote(stem, other, s, "wrong_article", original_article=number))
    new_text = texts["慈善法(2023-12-29)"]
    old = [(number, s) for number, body in by_source[OLD_CHARITY] for s in sentences(body)
           if normalise(s).text not in new_text]
    for number, s in rng.sample(old, 10):
        made.append(quote(OLD_CHARITY, number, s, "outdated"))
    every = "".join(texts.values())
    for s in INVENTED:
        located = locate(normalise(s).text, every)
        if located and located.similarity(len(normalise(s).text)) < 0.5:
            stem = rng.choice(sorted(current))
            made.append(quote(stem, f"第{chinese_number(rng.randint(2, 30))}条", s, "not_found"))
    rng.shuffle(made)
    return [draft(i, made[i::8], rng) for i in range(8)]


def quote(stem: str, number: str, text: str, kind: str, **extra) -> dict:
    return {"title": law_of(stem), "article": number, "quote": text.rstrip("。"), "kind": kind, **extra}


def perturb(sentence: str, rng: random.Random) -> str | None:
    """One to three characters changed, dropped or added."""
    body = sentence.rstrip("。")
    how = rng.choice(["swap", "drop", "add"])
    if how == "swap":
        found = [w for w in SWAPS if w in body]
        if found:
            w = rng.choice(found)
            return body.replace(w, SWAPS[w], 1)
        how = "drop"
    if how == "drop":
        n = rng.randint(1, 3)
        at = rng.randrange(2, max(3, len(body) - n - 1))
        return body[:at] + body[at + n:]
    at = rng.randrange(2, len(body) - 1)
    return body[:at] + rng.choice(["的", "并", "各", "及时"]) + body[at:]


def draft(n: int, quotes: list[dict], rng: random.Random) -> dict:
    text, placed = "", []
    for q in quotes:
        text += rng.choice(CONNECTIVES)
        style = rng.choice(STYLES)
        if q["kind"] == "exact" and rng.random() < 0.25:
            style = "《{t}》中有这样的表述：“{q}”"  # no article named
        before, after = style.split("{q}")
        before = before.format(t=q["title"], a=q["article"])
        start = len(text) + len(before)
        text += before + q["quote"] + after.format(t=q["title"], a=q["article"]) + "\n"
        placed.append({**q, "start": start, "end": start + len(q["quote"])})
    return {"draft": f"draft-{n + 1}", "text": text, "quotes": placed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help=f"not {OUT.name}: its statuses were written by hand")
    args = parser.parse_args()
    drafts = build()
    with args.out.open("w", encoding="utf-8") as f:
        for d in drafts:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    kinds: dict[str, int] = {}
    for d in drafts:
        for q in d["quotes"]:
            kinds[q["kind"]] = kinds.get(q["kind"], 0) + 1
    print(f"{len(drafts)} drafts, {sum(kinds.values())} quotations: {kinds} → {args.out}")


if __name__ == "__main__":
    main()
