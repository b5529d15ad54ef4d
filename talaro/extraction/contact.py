"""Contact fields of a resume: email, phone, links, name and location."""

from __future__ import annotations

import re

import phonenumbers

from talaro.extraction.sections import section_name
from talaro.extraction.skills import vocabulary

EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
_URL_CHARS = r"[^\s<>()\[\]{}\"'|,;]"
_PROFILE_HOSTS = (
    r"linkedin\.com|github\.com|gitlab\.com|bitbucket\.org|stackoverflow\.com|twitter\.com"
    r"|x\.com|medium\.com|behance\.net|dribbble\.com|kaggle\.com"
)
_LINK = re.compile(
    rf"\bhttps?://{_URL_CHARS}+"
    rf"|(?<![@\w./:-])(?:www\.)?(?:{_PROFILE_HOSTS})/{_URL_CHARS}+"
    rf"|(?<![@\w./:-])www\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?:/{_URL_CHARS}*)?",
    re.IGNORECASE,
)

# Words that mark a line as a job title, a heading or a document label rather than a name.
TITLE_WORDS = frozenset(
    (
        "engineer", "engineering", "developer", "programmer", "architect", "scientist",
        "analyst", "manager", "director", "lead", "head", "chief", "officer", "president", "vp",
        "founder", "cofounder", "co-founder", "owner", "consultant", "specialist", "designer",
        "administrator", "coordinator", "assistant", "associate", "intern", "trainee",
        "apprentice", "technician", "researcher", "professor", "lecturer", "teacher", "tutor",
        "instructor", "nurse", "physician", "accountant", "auditor", "editor", "writer",
        "representative", "executive", "advisor", "adviser", "strategist", "recruiter", "cto",
        "ceo", "cfo", "coo", "sre", "qa", "tester", "supervisor", "clerk", "agent", "student",
        "fellow", "postdoc", "contractor", "freelancer", "marketer", "principal", "staff",
        "senior", "junior", "sr", "jr", "master", "partner", "product",
    )
)  # fmt: skip
_NOT_NAME_WORDS = frozenset(
    (
        "resume", "résumé", "cv", "curriculum", "vitae", "page", "contact", "profile", "phone",
        "email", "mobile", "tel", "address", "linkedin", "github", "portfolio",
    )
)  # fmt: skip
_NAME_PARTICLES = frozenset(
    ("van", "von", "der", "den", "de", "del", "della", "da", "das", "do", "dos", "di", "du",
     "la", "le", "bin", "binti", "al", "el", "ter", "ten", "y", "e")
)  # fmt: skip
_NAME_TOKEN = re.compile(r"[^\W\d_]\.|[^\W\d_]+(?:['’-][^\W\d_]+)*\.?")
_SEGMENT_SPLIT = re.compile(r"\s*(?:[|•·,]|\s[–—-]\s|\t)\s*")
_NAME_LABEL = re.compile(r"^\s*(?:full\s+)?name\s*[:\-]\s*(.+)$", re.IGNORECASE)

_US_STATES = (  # with Canadian provinces
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
    "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
    "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VT", "VA", "WA", "WV", "WI", "WY", "AB", "BC", "MB", "NB", "NL", "NS", "ON", "PE", "QC",
    "SK",
)  # fmt: skip
_COUNTRIES = (
    "USA|U\\.S\\.A\\.|US|United States|UK|U\\.K\\.|United Kingdom|England|Scotland|Wales|Ireland"
    "|Canada|Mexico|Brazil|Argentina|Chile|Colombia|Peru|Germany|France|Spain|Portugal|Italy"
    "|Netherlands|The Netherlands|Belgium|Luxembourg|Switzerland|Austria|Denmark|Sweden|Norway"
    "|Finland|Iceland|Poland|Czechia|Czech Republic|Slovakia|Hungary|Romania|Bulgaria|Greece"
    "|Croatia|Serbia|Slovenia|Estonia|Latvia|Lithuania|Ukraine|Turkey|Türkiye|Israel|Egypt"
    "|Morocco|Nigeria|Kenya|Ghana|South Africa|UAE|United Arab Emirates|Saudi Arabia|Qatar"
    "|India|Pakistan|Bangladesh|Sri Lanka|China|Hong Kong|Taiwan|Japan|South Korea|Korea"
    "|Singapore|Malaysia|Indonesia|Philippines|Vietnam|Thailand|Australia|New Zealand"
)
_CITY_WORD = r"[^\W\d_a-z][\w'’.-]*"
CITY = rf"{_CITY_WORD}(?:\s+(?:{_CITY_WORD}|de|del|da|do|am|an|upon|on|la|le|sur)){{0,3}}"
PLACE = rf"(?:{'|'.join(_US_STATES)}|{_COUNTRIES})(?![\w.])"
_LOCATION = re.compile(rf"(?<![\w])(?:{CITY},\s*)?{CITY},\s*{PLACE}")
_LOCATION_LABEL = re.compile(
    r"^\s*(?:location|address|based\s+in|residence|city)\s*[:\-]?\s+(.+)$", re.IGNORECASE
)


def find_email(text: str) -> str | None:
    """The first email address, lower-cased."""
    match = EMAIL.search(text)
    return match.group().rstrip(".").lower() if match else None


def find_phone(text: str, region: str) -> str | None:
    """The first valid phone number in E.164 (numbers without a prefix use ``region``)."""
    matcher = phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID)
    for match in matcher:
        return phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
    return None


def _link_key(url: str) -> str:
    url = re.sub(r"^https?://(?:www\.)?", "", url.lower())
    return url.rstrip("/")


def find_links(text: str) -> list[str]:
    """http(s) URLs and bare profile / www links as https URLs, de-duplicated, in order."""
    links: dict[str, str] = {}
    for match in _LINK.finditer(text):
        url = match.group().rstrip(".:!?")
        if not re.match(r"https?://", url, re.IGNORECASE):
            url = "https://" + url
        links.setdefault(_link_key(url), url)
    return list(links.values())


def _name_candidate(line: str) -> str | None:
    segment = _SEGMENT_SPLIT.split(line.strip(), maxsplit=1)[0].strip()
    tokens = segment.split()
    if not 2 <= len(tokens) <= 4 or not all(_NAME_TOKEN.fullmatch(t) for t in tokens):
        return None
    # Title case is not required, but in a mixed-case line every word but a particle
    # ("van", "de") must be capitalised, which rules out sentences like "I use Python".
    mixed_case = segment != segment.lower() and segment != segment.upper()
    if mixed_case and any(t[0].islower() and t not in _NAME_PARTICLES for t in tokens):
        return None
    lowered = {token.lower().strip(".") for token in tokens}
    if lowered & (TITLE_WORDS | _NOT_NAME_WORDS) or section_name(segment):
        return None
    vocab = vocabulary()
    if segment.lower() in vocab.by_lower or segment in vocab.by_exact:
        return None
    return " ".join(tokens)


def find_name(lines: list[str], top: int = 8) -> tuple[str | None, float]:
    """A labelled name ("Name: ..."), else the first name-shaped line among the first lines."""
    for line in lines[: top * 2]:
        label = _NAME_LABEL.match(line)
        if label and (name := _name_candidate(label.group(1))):
            return name, 0.9
    position = 0
    for line in lines:
        if not line.strip():
            continue
        if position >= top:
            break
        if name := _name_candidate(line):
            return name, 0.8 if position == 0 else 0.6
        position += 1
    return None, 0.0


def find_location(lines: list[str], top: int = 12) -> tuple[str | None, float]:
    """A labelled location ("Location: ..."), else a "City, ST" / "City, Country" near the top."""
    for line in lines:
        label = _LOCATION_LABEL.match(line)
        if label:
            value = re.split(r"\s*[|•·]\s*", label.group(1).strip())[0].strip(" .,;")
            if value:
                return value, 0.85
    for line in lines[:top]:
        for segment in re.split(r"\s*[|•·\t]\s*", line):
            if EMAIL.search(segment) or _LINK.search(segment):
                continue
            match = _LOCATION.search(segment)
            if match:
                return match.group().strip(), 0.7
    return None, 0.0
