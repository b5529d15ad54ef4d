"""Structured fields (contact details, skills, education, experience) from resume text."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from talaro.extraction import contact
from talaro.extraction.dates import join_wrapped_ranges, merged_years
from talaro.extraction.experience import BULLET, parse_experience
from talaro.extraction.sections import section_lines, split_sections
from talaro.extraction.skills import find_skills

FIELD_NAMES = (
    "name",
    "email",
    "phone",
    "links",
    "location",
    "skills",
    "education",
    "experience",
    "years_experience",
)
_MAX_EDUCATION_LINES = 10
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
# "Page 2", "2 of 3", "2" (not a year on a line of its own).
_PAGE_NUMBER = re.compile(r"^(?:page\s*\d+|\d{1,3})(?:\s*(?:/|of)\s*\d+)?$", re.IGNORECASE)
_DEGREE = re.compile(
    r"\b(?:bachelor|master|doctor|ph\.?\s?d|mba|b\.?\s?sc|m\.?\s?sc|b\.?\s?eng|m\.?\s?eng"
    r"|b\.\s?[as]\.|m\.\s?[as]\.|associate(?:'s)? degree|diploma|high school)\b",
    re.IGNORECASE,
)
_YEARS_PHRASE = re.compile(
    r"\b(\d{1,2}(?:\.\d)?)\s*\+?\s*(?:years?|yrs?)\b(?:\s+of)?(?:\s+[\w-]+){0,3}?\s+experience",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ExtractedFields:
    """Field values (None / [] when missing) and a 0..1 confidence for every FIELD_NAMES key."""

    values: dict[str, object]
    confidence: dict[str, float]


def _is_page_furniture(line: str, name: str | None) -> bool:
    """A running header or footer that text extraction put among the section's lines:
    a page number, the contact line, or the name repeated."""
    return bool(
        _PAGE_NUMBER.match(line)
        or contact.EMAIL.search(line)
        or (name and line.casefold().startswith(name.casefold()))
    )


def _joiner(previous: str, line: str) -> str:
    """How a line continues the entry above: a wrapped line ("...Information" / "Systems,
    ...") with a space, another part of the entry (the school, the years) with a comma."""
    if previous.endswith((",", "-", "&")) or previous.split()[-1] in ("in", "of", "and", "for"):
        return " "
    first_part = line.split(",")[0].split()
    if line[0].islower() or (
        len(first_part) <= 2 and first_part[0].lower() in contact.ORGANISATION_WORDS
    ):
        return " "
    return ", "


def _education(lines: list[str], name: str | None = None) -> list[str]:
    """One entry per degree: the lines of an entry (degree, school, years) are joined until a
    blank line, a second degree or a line after the entry's years starts the next one."""
    entries: list[str] = []
    has_degree = fresh = True
    for raw in lines:
        line = BULLET.sub("", raw).strip()
        if not line:
            fresh = True
            continue
        if _is_page_furniture(line, name):
            continue
        degree = bool(_DEGREE.search(line))
        current = entries[-1] if entries else ""
        starts_entry = (
            fresh
            or (degree and has_degree)
            or (_YEAR.search(current) and not line[0].islower())
            or current.count(", ") >= 3
        )
        if starts_entry:
            entries.append(line.rstrip(","))
            has_degree = degree
        else:
            entries[-1] = f"{current.rstrip(',')}{_joiner(current, line)}{line}".rstrip(",")
            has_degree = has_degree or degree
        fresh = False
    return entries[:_MAX_EDUCATION_LINES]


def extract_fields(
    text: str, *, default_region: str = "US", today: datetime.date | None = None
) -> ExtractedFields:
    """Extract FIELD_NAMES from resume text with regexes and heuristics.

    ``default_region`` is the ISO country used for phone numbers written without "+<code>";
    ``today`` (default: the current date) ends ranges that run to "present".
    """
    today = today or datetime.date.today()
    lines = join_wrapped_ranges([line.strip() for line in text.splitlines()])
    header, sections = split_sections(lines)
    values: dict[str, object] = {}
    confidence: dict[str, float] = {}

    values["email"] = contact.find_email(text)
    confidence["email"] = 0.99 if values["email"] else 0.0
    values["phone"], confidence["phone"] = contact.find_phone(text, default_region)
    values["links"] = contact.find_links(text)
    confidence["links"] = 0.95 if values["links"] else 0.0
    values["name"], confidence["name"] = contact.find_name(lines, header)
    values["location"], confidence["location"] = contact.find_location(lines, header)

    # The name is left out (a page header may repeat it) so that "Ruby Chen" does not list
    # Ruby as a skill.
    skill_text = text
    if values["name"]:
        skill_text = re.sub(re.escape(str(values["name"])), " ", text, flags=re.IGNORECASE)
    values["skills"] = find_skills(skill_text)
    listed = section_lines(sections, "skills")
    in_section = bool(listed and find_skills("\n".join(listed)))
    confidence["skills"] = (0.85 if in_section else 0.6) if values["skills"] else 0.0

    education = section_lines(sections, "education")
    if education is not None:
        values["education"] = _education(education, values["name"])
        confidence["education"] = 0.8 if values["education"] else 0.0
    else:
        values["education"] = _education([line for line in lines if _DEGREE.search(line)])
        confidence["education"] = 0.5 if values["education"] else 0.0

    experience = section_lines(sections, "experience")
    if experience is None:  # no titled section: look everywhere except in Education
        education_lines = set(education or ())
        experience = [line for line in lines if line not in education_lines]
    entries, ranges = parse_experience(experience, today)
    values["experience"] = entries
    in_titled_section = section_lines(sections, "experience") is not None
    confidence["experience"] = (0.8 if in_titled_section else 0.5) if entries else 0.0

    values["years_experience"] = merged_years(ranges, today)
    if values["years_experience"] is not None:
        confidence["years_experience"] = 0.8 if in_titled_section else 0.6
    elif phrase := _YEARS_PHRASE.search(text):
        values["years_experience"] = float(phrase.group(1))
        confidence["years_experience"] = 0.6
    else:
        confidence["years_experience"] = 0.0

    return ExtractedFields(
        values={name: values[name] for name in FIELD_NAMES},
        confidence={name: confidence[name] for name in FIELD_NAMES},
    )
