"""Match a resume's text against the skill vocabulary kept in ``skills.txt``."""

from __future__ import annotations

import functools
import importlib.resources
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class _Vocabulary:
    canonical: tuple[str, ...]
    by_exact: dict[str, str]  # exact-case term -> canonical
    by_lower: dict[str, str]  # lower-cased term -> canonical
    pattern: re.Pattern[str]


def _term_pattern(term: str, exact: bool) -> str:
    body = r"\s+".join(re.escape(word) for word in term.split())
    body = body if exact else f"(?i:{body})"
    # One- and two-letter terms ("C", "R", "Go", "AI") also occur in "R&D", "go-to-market"
    # and "C-level", so they must not touch punctuation that joins words.
    if len(term) <= 2:
        return rf"(?<![&'’\-]){body}(?![&'’\-])"
    return body


@functools.cache
def vocabulary() -> _Vocabulary:
    """Load and compile ``skills.txt`` once."""
    source = importlib.resources.files("talaro.extraction").joinpath("skills.txt")
    canonical: list[str] = []
    by_exact: dict[str, str] = {}
    by_lower: dict[str, str] = {}
    terms: list[tuple[str, bool]] = []
    for raw in source.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        names = [part.strip() for part in line.split("|") if part.strip()]
        skill = names[0].strip('"')
        canonical.append(skill)
        for name in names:
            exact = len(name) > 2 and name.startswith('"') and name.endswith('"')
            term = " ".join(name.strip('"').split())
            (by_exact if exact else by_lower)[term if exact else term.lower()] = skill
            terms.append((term, exact))
    # Longest first, so "Spring Boot" wins over "Spring" and "ASP.NET" over ".NET".
    terms.sort(key=lambda item: len(item[0]), reverse=True)
    alternatives = "|".join(_term_pattern(term, exact) for term, exact in terms)
    pattern = re.compile(rf"(?<![\w.+#])(?:{alternatives})(?![\w+#])(?!\.\w)")
    return _Vocabulary(tuple(canonical), by_exact, by_lower, pattern)


def find_skills(text: str) -> list[str]:
    """Canonical names of the vocabulary skills in ``text``, de-duplicated, first-seen order."""
    vocab = vocabulary()
    found: dict[str, None] = {}
    for match in vocab.pattern.finditer(text):
        term = " ".join(match.group().split())
        skill = vocab.by_exact.get(term) or vocab.by_lower.get(term.lower())
        if skill is not None:
            found.setdefault(skill, None)
    return list(found)
