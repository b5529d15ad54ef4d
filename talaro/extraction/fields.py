"""Structured fields (contact details, skills, education, experience) from resume text."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from talaro.extraction import contact
from talaro.extraction.dates import merged_years
from talaro.extraction.experience import parse_experience
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
_BULLET_PREFIX = re.compile(r"^\s*(?:[•●○◦▪■‣∙·*–—-]|o\s)\s*")
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


def _education(lines: list[str]) -> list[str]:
    """Non-empty lines without bullets; a wrapped line is joined to the one before it."""
    entries: list[str] = []
    for raw in lines:
        line = _BULLET_PREFIX.sub("", raw).strip()
        if not line:
            continue
        if entries and (line[0].islower() or entries[-1].endswith((",", "-", "&"))):
            entries[-1] = f"{entries[-1]} {line}"
        else:
            entries.append(line)
    return entries[:_MAX_EDUCATION_LINES]


def extract_fields(
    text: str, *, default_region: str = "US", today: datetime.date | None = None
) -> ExtractedFields:
    """Extract FIELD_NAMES from resume text with regexes and heuristics.

    ``default_region`` is the ISO country used for phone numbers written without "+<code>";
    ``today`` (default: the current date) ends ranges that run to "present".
    """
    today = today or datetime.date.today()
    lines = [line.strip() for line in text.splitlines()]
    header, sections = split_sections(lines)
    values: dict[str, object] = {}
    confidence: dict[str, float] = {}

    values["email"] = contact.find_email(text)
    confidence["email"] = 0.99 if values["email"] else 0.0
    values["phone"] = contact.find_phone(text, default_region)
    confidence["phone"] = 0.9 if values["phone"] else 0.0
    values["links"] = contact.find_links(text)
    confidence["links"] = 0.95 if values["links"] else 0.0
    values["name"], confidence["name"] = contact.find_name(header or lines)
    values["location"], confidence["location"] = contact.find_location(header or lines)

    # The name line is left out so that "Ruby Chen" does not list Ruby as a skill.
    skill_text = text.replace(str(values["name"]), " ", 1) if values["name"] else text
    values["skills"] = find_skills(skill_text)
    listed = section_lines(sections, "skills")
    in_section = bool(listed and find_skills("\n".join(listed)))
    confidence["skills"] = (0.85 if in_section else 0.6) if values["skills"] else 0.0

    education = section_lines(sections, "education")
    if education is not None:
        values["education"] = _education(education)
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
