"""Split resume text into sections by their titles ("Work Experience", "EDUCATION:", ...)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TITLES = {
    "experience": (
        "experience", "work experience", "professional experience", "relevant experience",
        "employment", "employment history", "work history", "career history",
        "professional history", "career", "career experience", "professional background",
        "positions held",
        "work and experience", "experience and employment", "industry experience",
        "where i've worked", "where i have worked", "work experience and projects",
        "professional journey", "employment experience", "experience highlights",
    ),
    "education": (
        "education", "academic background", "academic history", "educational background",
        "education and training", "academics", "academic qualifications", "education history",
        "qualifications", "education and qualifications", "studies",
    ),
    "skills": (
        "skills", "technical skills", "core skills", "key skills", "skill set", "skillset",
        "core competencies", "competencies", "skills and abilities", "areas of expertise",
        "expertise", "technologies", "tools and technologies", "tech stack", "skills summary",
        "technical proficiencies", "skills and tools", "skills and expertise",
        "toolbox", "technical toolbox", "toolkit", "tools", "skill highlights",
        "technical expertise", "key competencies", "professional skills",
    ),
    "summary": (
        "summary", "professional summary", "profile", "professional profile", "about",
        "about me", "objective", "career objective", "personal statement", "overview",
        "career summary",
    ),
    "projects": ("projects", "personal projects", "selected projects", "key projects"),
    "certifications": (
        "certifications", "certificates", "licenses and certifications",
        "certifications and licenses", "courses", "training", "certifications and training",
    ),
    "languages": ("languages", "spoken languages", "language skills"),
    "awards": ("awards", "honors", "honours", "achievements", "awards and honors"),
    "publications": ("publications", "research", "papers"),
    "volunteering": ("volunteering", "volunteer experience", "volunteer work"),
    "interests": ("interests", "hobbies", "hobbies and interests"),
    "references": ("references",),
    "contact": ("contact", "contact information", "contact details", "personal details",
                "personal information"),
}  # fmt: skip
_BY_TITLE = {title: name for name, titles in _TITLES.items() for title in titles}
_LETTER_SPACED = re.compile(r"(?:\w ){2,}\w")


@dataclass
class Section:
    """A titled section: its canonical name and the lines after the title."""

    name: str
    title: str
    lines: list[str] = field(default_factory=list)


def section_name(line: str) -> str | None:
    """Canonical section name if ``line`` is a section title on its own, else None."""
    text = line.strip().strip("#*=_-•:▪■ ").strip()
    if not text or len(text) > 40:
        return None
    if _LETTER_SPACED.fullmatch(text):  # "E X P E R I E N C E"
        text = text.replace(" ", "")
    text = text.lower().replace("&", " and ").replace("/", " and ").replace("’", "'")
    text = " ".join(text.split())
    return _BY_TITLE.get(text)


def split_sections(lines: list[str]) -> tuple[list[str], list[Section]]:
    """Lines before the first title (the header) and the sections in order of appearance."""
    header: list[str] = []
    sections: list[Section] = []
    for line in lines:
        name = section_name(line)
        if name is not None:
            sections.append(Section(name=name, title=line.strip()))
        elif sections:
            sections[-1].lines.append(line)
        else:
            header.append(line)
    return header, sections


def section_lines(sections: list[Section], name: str) -> list[str] | None:
    """All lines of the sections called ``name`` (a title may repeat), or None if absent."""
    matching = [section for section in sections if section.name == name]
    if not matching:
        return None
    return [line for section in matching for line in section.lines]
