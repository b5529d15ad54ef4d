"""Find employment date ranges ("Jan 2019 - Present", "2018.03 - 2020.06", ...) in text."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH_NAME = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_YEAR = r"(?:19[5-9]\d|20\d\d)"
_MM = r"(?:0?[1-9]|1[0-2])"
# The alternatives of one date, most specific first; the full-match parsers below mirror them.
_POINT = (
    rf"(?:{_MONTH_NAME},?\s*{_YEAR}"
    rf"|{_MM}\s*[/.\-]\s*{_YEAR}"
    rf"|{_YEAR}\s*[/.\-]\s*{_MM}(?!\d)"
    rf"|{_YEAR})"
)
_PRESENT = r"(?:present|current(?:ly)?|now|today|ongoing|to\s+date|till\s+date|date)"
_SEPARATOR = r"(?:-{1,2}|–|—|~|to|until|till|through|thru)"
RANGE = re.compile(
    rf"(?<![\w/.])(?P<start>{_POINT})\s*{_SEPARATOR}\s*(?P<end>{_PRESENT}|{_POINT})(?![\w/])",
    re.IGNORECASE,
)
_MONTH_YEAR = re.compile(rf"(?P<month>[a-z]+)\.?,?\s*(?P<year>{_YEAR})", re.IGNORECASE)
_NUMERIC_MONTH_YEAR = re.compile(rf"(?P<month>{_MM})\s*[/.\-]\s*(?P<year>{_YEAR})")
_YEAR_NUMERIC_MONTH = re.compile(rf"(?P<year>{_YEAR})\s*[/.\-]\s*(?P<month>{_MM})")

YearMonth = tuple[int, int]


@dataclass(frozen=True)
class DateRange:
    """A start and end month; ``end`` is None for "present". Year-only dates mean January
    (``*_has_month`` is False) for counting."""

    start: YearMonth
    end: YearMonth | None
    span: tuple[int, int]  # character offsets of the match in the searched text
    end_has_month: bool = True
    start_has_month: bool = True

    def months(self, today: datetime.date) -> tuple[int, int]:
        """Half-open interval of month indices (year * 12 + month - 1) this range covers.

        A month-precise end counts its own month (Jan-Mar is three months); a year-only end
        does not, so "2019 - 2021" is two years.
        """
        first = self.start[0] * 12 + self.start[1] - 1
        if self.end is None:
            return first, today.year * 12 + today.month
        last = self.end[0] * 12 + self.end[1] - 1
        return first, last + 1 if self.end_has_month else last


def format_month(value: YearMonth | None, has_month: bool = True) -> str:
    """``(2019, 3)`` -> ``"2019-03"``; a year written alone -> ``"2019"``; None (an open
    range) -> ``"present"``."""
    if value is None:
        return "present"
    return f"{value[0]:04d}-{value[1]:02d}" if has_month else f"{value[0]:04d}"


def _parse_point(text: str) -> tuple[YearMonth, bool] | None:
    text = text.strip()
    if re.fullmatch(_YEAR, text):
        return (int(text), 1), False
    for pattern in (_NUMERIC_MONTH_YEAR, _YEAR_NUMERIC_MONTH):
        match = pattern.fullmatch(text)
        if match:
            return (int(match["year"]), int(match["month"])), True
    match = _MONTH_YEAR.fullmatch(text)
    if match and match["month"][:3].lower() in _MONTHS:
        return (int(match["year"]), _MONTHS[match["month"][:3].lower()]), True
    return None


def find_ranges(text: str, today: datetime.date) -> list[DateRange]:
    """All plausible date ranges in ``text``: start not after end, nothing in the future."""
    ranges = []
    for match in RANGE.finditer(text):
        start = _parse_point(match["start"])
        end = None if re.fullmatch(_PRESENT, match["end"], re.IGNORECASE) else match["end"]
        end_point = _parse_point(end) if end is not None else None
        if start is None or (end is not None and end_point is None):
            continue
        found = DateRange(
            start=start[0],
            end=end_point[0] if end_point else None,
            span=match.span(),
            end_has_month=end_point[1] if end_point else True,
            start_has_month=start[1],
        )
        first, stop = found.months(today)
        if stop < first or first > today.year * 12 + today.month - 1:
            continue
        ranges.append(found)
    return ranges


def merged_years(ranges: Iterable[DateRange], today: datetime.date) -> float | None:
    """Total years covered by ``ranges`` with overlaps counted once, to one decimal."""
    intervals = sorted(r.months(today) for r in ranges)
    if not intervals:
        return None
    total, (current_start, current_stop) = 0, intervals[0]
    for start, stop in intervals[1:]:
        if start <= current_stop:
            current_stop = max(current_stop, stop)
        else:
            total += current_stop - current_start
            current_start, current_stop = start, stop
    total += current_stop - current_start
    return round(total / 12, 1)


_DANGLING = re.compile(rf"(?:{_POINT})\s*{_SEPARATOR}(?:\s*{_MONTH_NAME})?$", re.IGNORECASE)
_CONTINUES = re.compile(rf"^(?:{_PRESENT}|{_POINT})(?![\w/])", re.IGNORECASE)


def join_wrapped_ranges(lines: list[str]) -> list[str]:
    """Rejoin a range that a narrow column wrapped ("Dec 2023 -" / "Current ...")."""
    joined: list[str] = []
    for line in lines:
        if joined and _DANGLING.search(joined[-1]) and _CONTINUES.match(line):
            joined[-1] = f"{joined[-1]} {line}"
        else:
            joined.append(line)
    return joined
