"""The one way an article number is written: 第十一条, 第10条, 第十条之一. Every module that reads
article numbers (chunking, readers, citations, 新旧对照, training) builds on these."""

from __future__ import annotations

import re

NUMERAL = "一二三四五六七八九十百千零〇两"  # the characters of a Chinese article number
ARTICLE = rf"第[{NUMERAL}\d]+条(?:之[{NUMERAL}\d]+)?"  # 第十一条, 第10条, 第十条之一
ARTICLE_LINE = re.compile(rf"^{ARTICLE}$")  # a line holding an article number alone
