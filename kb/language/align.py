"""Where a quotation stands in a source text, character by character (引文核对).

Texts are compared as `normalise` writes them: letters and numbers only, full-width forms as
half-width, lower case, so punctuation, spaces and the width of a comma never count as a difference.
`locate` finds the window of the source closest to the quotation (rapidfuzz's partial alignment,
then the window's ends moved a few characters either way for the least Levenshtein distance, so a
dropped or added character does not shift the window); `differences` lists what differs.
rapidfuzz: edit distances and alignments in C++ (difflib in Python was the alternative: tens of
times slower, and its junk heuristics pair the wrong 的 in long texts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

GAP = 600  # how much text a quotation's …… may leave out between two of its parts
SLACK = 4  # how far each end of a located window may move to absorb dropped or added characters


_FULL_WIDTH = {0xFF01 + i: 0x21 + i for i in range(94)}  # ！…～ → !…~ (NFKC's mapping of these, one to one)
_SIGNIFICANT = re.compile(r"[^\W_]")  # a letter or a number (Unicode), not punctuation, space or _
_INSIGNIFICANT = re.compile(r"[\W_]+")


@dataclass
class Normalised:
    """A text as compared: letters and numbers only, half-width, lower case."""

    original: str

    @cached_property
    def text(self) -> str:
        return _INSIGNIFICANT.sub("", self.original.translate(_FULL_WIDTH).lower())

    @cached_property
    def at(self) -> list[int]:
        """The offset in the original text of each character of `text` (worked out only when asked)."""
        return [m.start() for m in _SIGNIFICANT.finditer(self.original.translate(_FULL_WIDTH).lower())]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original text's (start, end) that normalised [start, end) covers."""
        if start >= end:
            at = self.at[start] if start < len(self.at) else len(self.original)
            return at, at
        return self.at[start], self.at[end - 1] + 1


def normalise(text: str) -> Normalised:
    return Normalised(text)


@dataclass
class Located:
    start: int  # in the normalised source
    end: int
    distance: int  # Levenshtein distance between the quotation and source[start:end]
    pieces: list[tuple[int, int]] | None = None  # for a quotation in parts (locate_parts): each part's window

    def similarity(self, length: int) -> float:
        return max(0.0, 1 - self.distance / max(length, 1))


def locate(quote: str, source: str) -> Located | None:
    """The window of `source` (normalised) closest to `quote` (normalised); None when either is empty."""
    if not quote or not source:
        return None
    exact = source.find(quote)
    if exact >= 0:
        return Located(exact, exact + len(quote), 0)
    if len(source) <= len(quote):
        return Located(0, len(source), Levenshtein.distance(quote, source))
    found = fuzz.partial_ratio_alignment(quote, source)
    if found is None:
        return None
    a, b = found.dest_start, found.dest_end
    best = Located(a, b, Levenshtein.distance(quote, source[a:b]))
    for start in range(max(0, a - SLACK), a + SLACK + 1):
        for end in range(max(start + 1, b - SLACK), min(len(source), b + SLACK) + 1):
            distance = Levenshtein.distance(quote, source[start:end], score_cutoff=best.distance)
            if distance < best.distance or (distance == best.distance and abs(end - start - len(quote))
                                            < abs(best.end - best.start - len(quote))):
                best = Located(start, end, distance)
    return best


def locate_parts(parts: list[str], source: str, gap: int = GAP) -> Located | None:
    """A quotation that leaves text out (“甲……乙”): its longest part located anywhere, then each
    other part in order within `gap` characters of its neighbour. The distance is the parts' sum."""
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return locate(parts[0] if parts else "", source)
    anchor = max(range(len(parts)), key=lambda i: len(parts[i]))
    found = locate(parts[anchor], source)
    if found is None:
        return None
    pieces: dict[int, Located] = {anchor: found}
    for i in range(anchor + 1, len(parts)):
        a = pieces[i - 1].end
        piece = locate(parts[i], source[a:a + gap + len(parts[i])])
        pieces[i] = Located(a + piece.start, a + piece.end, piece.distance) if piece else Located(a, a, len(parts[i]))
    for i in range(anchor - 1, -1, -1):
        b = pieces[i + 1].start
        a = max(0, b - gap - len(parts[i]))
        piece = locate(parts[i], source[a:b])
        pieces[i] = Located(a + piece.start, a + piece.end, piece.distance) if piece else Located(b, b, len(parts[i]))
    ordered = [pieces[i] for i in range(len(parts))]
    return Located(ordered[0].start, ordered[-1].end, sum(p.distance for p in ordered),
                   [(p.start, p.end) for p in ordered])


def differences(quote: str, source: str) -> list[tuple[str, str, str]]:
    """What the quotation has against the source, both normalised: (kind, quoted, source) in order,
    kind being equal, changed (quoted in place of source), added (in the quotation only) or
    missing (in the source only)."""
    kinds = {"equal": "equal", "replace": "changed", "delete": "added", "insert": "missing"}
    return [(kinds[op.tag], quote[op.src_start:op.src_end], source[op.dest_start:op.dest_end])
            for op in Levenshtein.opcodes(quote, source)]
