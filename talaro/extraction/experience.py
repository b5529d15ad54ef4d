"""Work-history entries (title, employer, dates) from the lines of an Experience section."""

from __future__ import annotations

import datetime
import re

from talaro.extraction.contact import CITY, ORGANISATION_WORDS, PLACE, TITLE_WORDS
from talaro.extraction.dates import DateRange, find_ranges, format_month

# \x7f and \uf0b7 are how some PDF fonts' bullets come out of text extraction.
BULLET = re.compile(r"^\s*(?:[•●○◦▪■‣∙·*–—\-➢►✓\x7f\uf0a7\uf0b7]|o\s)\s*")
_AT = re.compile(r"^(?P<title>.+?)\s+(?:at|@)\s+(?P<employer>.+)$", re.IGNORECASE)
_STRONG_SPLIT = re.compile(r"\s*\|\s*|\s+[–—•·-]\s+|\s*[–—]\s*|\t|\s{3,}")
_DASH_SPLIT = re.compile(r"\s*[–—]\s*|\s+-\s+")
# A place beside the role: at the end, or before a dash or bar ("Stripe, Cambridge, MA —
# Engineer"). Case matters: a city's words are capitalised, a state is "MA".
_PLACE = rf"(?:{CITY},\s*{PLACE}|(?i:remote|hybrid|on-?site))"
_LOCATION = re.compile(
    rf"(?:^|,|\s[|–—-]|\s?\(|[|–—])\s*(?P<place>{_PLACE})\)?\s*(?=$|\s[|–—-]\s|\s?[|–—])"
)
_CORPORATE_SUFFIX = re.compile(r"^(?:inc|llc|llp|ltd|gmbh|ag|corp|co|plc|s\.?a|b\.?v)\.?$", re.I)
_CONTACT = re.compile(r"\S@\S+\.\w|https?://|www\.|\.(?:com|dev|io|org)\b|^\+?[\d\s().-]{7,}$")
_TRIM = " \t,;:|()[]–—-•·"

Role = tuple[str | None, str | None]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+(?:-[a-z]+)?", text.lower()))


def _kind(text: str) -> str | None:
    # The last word names the thing: "Software Engineer" is a person, "Halcyon Software" a
    # company, whatever words come before.
    last = re.findall(r"[a-z]+", text.lower())[-1:]
    if last and last[0] in TITLE_WORDS:
        return "title"
    if last and last[0] in ORGANISATION_WORDS:
        return "employer"
    words = _words(text)
    is_title, is_employer = bool(words & TITLE_WORDS), bool(words & ORGANISATION_WORDS)
    if is_title != is_employer:
        return "title" if is_title else "employer"
    return None


def _assign(first: str, second: str, title_first: bool) -> Role:
    kinds = (_kind(first), _kind(second))
    if kinds in (("title", "employer"), ("title", None), (None, "employer")):
        return first, second
    if kinds in (("employer", "title"), ("employer", None), (None, "title")):
        return second, first
    return (first, second) if title_first else (second, first)


def _comma_parts(text: str) -> list[str]:
    parts: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        if parts and _CORPORATE_SUFFIX.match(part):  # "Acme, Inc."
            parts[-1] = f"{parts[-1]}, {part}"
        elif part:
            parts.append(part)
    return parts


def _without_place(match: re.Match[str]) -> str:
    """The match removed, unless its "city" is a company or a title ("Acme Corp, CA")."""
    if _words(match["place"].split(",")[0]) & (ORGANISATION_WORDS | TITLE_WORDS):
        return match.group()
    return ""


def _is_place(line: str) -> bool:
    text = line.strip(_TRIM)
    return bool(text) and not _LOCATION.sub(_without_place, text).strip(_TRIM)


def parse_role(text: str) -> Role:
    """Split "Title, Employer", "Title at Employer", "Employer — Title", "Title | Employer"
    (or a lone title or employer) into ``(title, employer)``."""
    text = _LOCATION.sub(_without_place, text.strip(_TRIM)).strip(_TRIM)
    if not text:
        return None, None
    at = _AT.match(text)
    if at:
        employer = _STRONG_SPLIT.split(at["employer"])[0]
        return at["title"].strip(_TRIM), _comma_parts(employer)[0].strip(_TRIM)
    parts = [p.strip(_TRIM) for p in _STRONG_SPLIT.split(text) if p.strip(_TRIM)]
    if len(parts) >= 2:
        # "Employer — Title" is the usual order around a dash; "Title | Employer" otherwise.
        return _assign(parts[0], parts[1], title_first=not _DASH_SPLIT.search(text))
    parts = _comma_parts(text)
    if len(parts) >= 2:
        return _assign(parts[0], parts[1], title_first=True)
    return (text, None) if _kind(text) == "title" else (None, text)


def _fill(role: list[str | None], found: Role) -> None:
    title, employer = found
    if title and employer:
        role[0] = role[0] or title
        role[1] = role[1] or employer
        return
    lone = title or employer
    if not lone or lone in role:
        return
    # A line with neither a title word nor a company word is more often a company name.
    slot = 0 if title else 1
    if role[slot] is not None:
        slot = 1 - slot
    if role[slot] is None:
        role[slot] = lone


def _is_context(line: str, today: datetime.date) -> bool:
    """Whether a line may hold a role: not blank, a bullet, a date or a contact detail (a
    sidebar's lines can land between an entry's lines when columns are read row by row)."""
    return (
        bool(line.strip())
        and not BULLET.match(line)
        and not find_ranges(line, today)
        and not _CONTACT.search(line)
    )


def _dates_first(lines: list[str], first: int, today: datetime.date) -> bool:
    """Whether entries put their dates above the role ("Jan 2020 - now" / "Engineer, Acme"):
    the first dated line has no role on it or above it, and one below it."""
    date = find_ranges(lines[first], today)[0]
    beside = lines[first][: date.span[0]] + "  " + lines[first][date.span[1] :]
    if parse_role(beside) != (None, None):
        return False
    above = [line for line in lines[max(0, first - 2) : first] if line.strip()]
    return not above and first + 1 < len(lines) and _is_context(lines[first + 1], today)


def parse_experience(lines: list[str], today: datetime.date) -> tuple[list[dict], list[DateRange]]:
    """Entries ``{"employer", "title", "start", "end"}`` and their date ranges."""
    entries: list[dict] = []
    ranges: list[DateRange] = []
    dated = [index for index, line in enumerate(lines) if find_ranges(line, today)]
    below = bool(dated) and _dates_first(lines, dated[0], today)
    previous_end = 0  # lines before this index belong to an earlier entry
    for index in dated:
        line = lines[index]
        date = find_ranges(line, today)[0]
        role: list[str | None] = [None, None]
        _fill(role, parse_role(line[: date.span[0]] + "  " + line[date.span[1] :]))
        if below:
            context = []
            for following in lines[index + 1 : index + 3]:
                if not _is_context(following, today):
                    break
                context.append(following)
        else:
            # Two lines up, not counting a line that only names a place ("Cambridge, MA").
            context = []
            for j in range(index - 1, previous_end - 1, -1):
                if len(context) == 2:
                    break
                if not _is_place(lines[j]):
                    context.append(lines[j])
        for line_above in context:
            if None not in role or not _is_context(line_above, today):
                break
            _fill(role, parse_role(line_above))
        if role == [None, None] and index + 1 < len(lines) and _is_context(lines[index + 1], today):
            _fill(role, parse_role(lines[index + 1]))  # dates first, then the role below
        entries.append(
            {
                "employer": role[1],
                "title": role[0],
                "start": format_month(date.start, date.start_has_month),
                "end": format_month(date.end, date.end_has_month),
            }
        )
        ranges.append(date)
        previous_end = index + 1
    return entries, ranges
