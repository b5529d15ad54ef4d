"""Read a page laid out in two columns column by column, from its fixed-width layout text.

Some PDF producers draw two columns row by row (left then right at each height), so plain
text extraction interleaves a sidebar's lines with the main column's. pypdf's layout mode
keeps each fragment at its horizontal position; a strip of blank character columns that
runs down a block of lines (a gutter) splits that block into a left and a right column.

A table also has gutters, so a block counts as two columns only when the right side's
lines mostly start at one position (a left-aligned column, not right-aligned dates) and the
columns run independently: between the first and last rows with text on both sides, some
rows have text on the left only and some on the right only (a gap in one column while the
other goes on), or the right side holds a section title.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from talaro.extraction.sections import section_name

_GUTTER = 2  # blank character columns between the two columns
_MIN_WIDTH = 20  # characters of a column: a gutter closer to an edge is an indent or a cell
_MIN_BOTH = 3  # rows with text on both sides
_ALIGNED = 0.4  # share of the right side's lines starting at the same position
_IN_ONE_GO = 3  # column switches in drawing order of a page drawn column by column
_SPILL = re.compile(r"\S \S")
# A page of text is about 150 x 100 characters; past this the scan is not worth its time.
_MAX_CELLS = 200_000


@dataclass(frozen=True)
class _Block:
    start: int  # first line of the block
    stop: int  # one past its last line
    gutter: int
    cuts: tuple[int, ...]  # where each line of the block splits into left and right
    text_lines: int

    @property
    def rank(self) -> tuple[int, int]:
        """More lines first, then fewer lines split away from the gutter."""
        return self.text_lines, -sum(cut != self.gutter for cut in self.cuts)


def _cut(line: str, gutter: int) -> int | None:
    """Where the line splits at the gutter, or None if its text crosses the gutter."""
    if not line[gutter - _GUTTER : gutter].strip():
        return gutter
    return None


def _spill_cut(line: str, gutter: int) -> int:
    """Where a line whose left text (a long URL, or small print that layout mode widens)
    runs into the gutter splits: at the first space after it, else at the line's end."""
    spill = _SPILL.search(line, gutter - _GUTTER - 1)
    return len(line) if spill is None else spill.start() + 2


def _sides(line: str, cut: int) -> tuple[bool, bool]:
    return bool(line[:cut].strip()), bool(line[cut:].strip())


def _is_columns(lines: list[str], cuts: list[int], gutter: int) -> bool:
    sides = [_sides(line, cut) for line, cut in zip(lines, cuts, strict=True)]
    both = [index for index, side in enumerate(sides) if side == (True, True)]
    if len(both) < _MIN_BOTH:
        return False
    core = sides[both[0] : both[-1] + 1]
    # Full-width lines above, below or inside a table have text on the left only.
    independent = (True, False) in core and (False, True) in core
    rights = [line[cut:] for line, cut in zip(lines, cuts, strict=True)]
    titled = any(
        section_name(text) for text, cut in zip(rights, cuts, strict=True) if cut == gutter
    )
    if not independent and not titled:
        return False
    starts = Counter(
        cut + len(text) - len(text.lstrip())
        for text, cut in zip(rights, cuts, strict=True)
        if text.strip()
    )
    # Within one character: bullets and rounding shift a line by a column.
    aligned = max(starts[at - 1] + starts[at] + starts[at + 1] for at in starts)
    return aligned >= _ALIGNED * sum(starts.values())


def _runs(lines: list[str], gutter: int) -> list[tuple[int, list[int]]]:
    """Maximal runs of lines that leave the gutter blank (blank lines included), bridging
    a single line between two such lines that spills into it: (first line, cuts)."""
    plain = [_cut(line, gutter) for line in lines]
    cuts = list(plain)
    for index in range(1, len(lines) - 1):
        if plain[index] is None and None not in (plain[index - 1], plain[index + 1]):
            cuts[index] = _spill_cut(lines[index], gutter)
    runs, start = [], 0
    for index in range(len(lines) + 1):
        if index == len(lines) or cuts[index] is None:
            if index > start:
                runs.append((start, [cut for cut in cuts[start:index] if cut is not None]))
            start = index + 1
    return runs


def _both_sided_outside(lines: list[str], block: _Block) -> bool:
    """Whether rows outside the block also have text on both sides of the gutter: the
    columns go on past a line that crosses it, and a partial reordering would mix them."""
    outside = lines[: block.start] + lines[block.stop :]
    return any(
        (cut := _cut(line, block.gutter)) is not None and _sides(line, cut) == (True, True)
        for line in outside
    )


def _key(line: str) -> str:
    return " ".join(line.split()).casefold()


def _switches(plain_text: str, left: list[str], right: list[str]) -> int:
    """How often the plain text (drawing order) goes from one column to the other; a line
    holding text of both columns counts twice."""
    sides = {_key(line): "L" for line in left if line.strip()}
    sides.update({_key(line): "R" for line in right if line.strip() and _key(line) not in sides})
    order: list[str] = []
    for line in plain_text.splitlines():
        key = _key(line)
        if key in sides:
            order.append(sides[key])
            continue
        words = key.split(" ")
        for at in range(1, len(words)):
            first, rest = " ".join(words[:at]), " ".join(words[at:])
            if {sides.get(first), sides.get(rest)} == {"L", "R"}:
                order += [sides[first], sides[rest]]
                break
    return sum(a != b for a, b in zip(order, order[1:], strict=False))


def read_columns(layout_text: str, plain_text: str) -> list[str] | None:
    """The page's lines with its two-column block read left column first, or None when
    the page has no such block or ``plain_text`` (drawing order) already reads each column
    in one go."""
    lines = layout_text.splitlines()
    width = max((len(line) for line in lines), default=0)
    if width * len(lines) > _MAX_CELLS:
        return None
    best: _Block | None = None
    for gutter in range(_MIN_WIDTH + _GUTTER, width - _MIN_WIDTH):
        for start, cuts in _runs(lines, gutter):
            run = lines[start : start + len(cuts)]
            if not _is_columns(run, cuts, gutter):
                continue
            text_lines = sum(bool(line.strip()) for line in run)
            block = _Block(start, start + len(cuts), gutter, tuple(cuts), text_lines)
            if best is None or block.rank > best.rank:
                best = block
    if best is None or _both_sided_outside(lines, best):
        return None
    block = best
    rows = list(zip(lines[block.start : block.stop], block.cuts, strict=True))
    left = [line[:cut].rstrip() for line, cut in rows]
    right = [line[cut:].strip() for line, cut in rows]
    if _switches(plain_text, left, right) <= _IN_ONE_GO:
        return None
    return [*lines[: block.start], *left, "", *right, *lines[block.stop :]]
