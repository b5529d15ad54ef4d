"""Contact fields of a resume: email, phone, links, name and location."""

from __future__ import annotations

import re

import phonenumbers

from talaro.extraction.dates import RANGE
from talaro.extraction.sections import section_name
from talaro.extraction.skills import vocabulary

EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
_PHONE_LABEL = re.compile(r"(?:phone|tel|mobile|mob|cell|t)\.?\s*[:.]?\s*$", re.IGNORECASE)
_WRAPPED_DIGITS = re.compile(r"(\d)\n(\d)")
_URL_CHARS = r"[^\s<>()\[\]{}\"'|,;]"
_PROFILE_HOSTS = (
    r"linkedin\.com|github\.com|gitlab\.com|bitbucket\.org|stackoverflow\.com|twitter\.com"
    r"|x\.com|medium\.com|behance\.net|dribbble\.com|kaggle\.com"
)
_SITE_TLDS = "dev|io|me|com|net|org|app|tech|site|page|design|codes|blog|xyz|online"
_LINK = re.compile(
    rf"\bhttps?://{_URL_CHARS}+"
    rf"|(?<![@\w./:-])(?:www\.)?(?:{_PROFILE_HOSTS})/{_URL_CHARS}+"
    rf"|(?<![@\w./:-])www\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?:/{_URL_CHARS}*)?"
    # A bare personal site ("janedoe.dev") on a TLD that is not also a file extension.
    rf"|(?<![@\w./:-])[a-z0-9][a-z0-9-]*\.(?:{_SITE_TLDS})(?![\w@.-])(?:/{_URL_CHARS}*)?",
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
# Words that mark a name as an organisation's ("Acme Labs", "State University").
ORGANISATION_WORDS = frozenset(
    (
        "inc", "llc", "llp", "ltd", "limited", "gmbh", "ag", "corp", "corporation", "company",
        "co", "plc", "sa", "bv", "labs", "lab", "technologies", "technology", "group",
        "solutions", "systems", "software", "university", "universität", "université",
        "universidad", "college", "school", "institute", "bank", "agency", "hospital", "studio",
        "studios", "consulting", "partners", "holdings", "foundation", "ventures", "capital",
        "media", "games", "services", "networks", "digital", "health", "industries",
        "enterprises", "logistics", "airlines", "traders", "foods", "motors", "insurance",
        "pharma", "analytics", "dynamics", "works", "academy",
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
_HONORIFIC = re.compile(r"^(?:(?:dr|mr|mrs|ms|mx|prof|professor)\.?\s+)+", re.IGNORECASE)
_PARENTHESES = re.compile(r"\s*\([^)]*\)")  # "(she/her)", "(Jo)"
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
_US_STATE_NAMES = (
    "Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida"
    "|Georgia|Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland"
    "|Massachusetts|Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada"
    "|New Hampshire|New Jersey|New Mexico|New York|North Carolina|North Dakota|Ohio|Oklahoma"
    "|Oregon|Pennsylvania|Rhode Island|South Carolina|South Dakota|Tennessee|Texas|Utah"
    "|Vermont|Virginia|Washington|West Virginia|Wisconsin|Wyoming|Ontario|Quebec"
    "|British Columbia|Alberta"
)
_CITY_WORD = r"[^\W\d_a-z][\w'’.-]*"
CITY = rf"{_CITY_WORD}(?:\s+(?:{_CITY_WORD}|de|del|da|do|am|an|upon|on|la|le|sur)){{0,3}}"
PLACE = rf"(?:{'|'.join(_US_STATES)}|{_US_STATE_NAMES}|{_COUNTRIES})(?![\w.])"
_LOCATION = re.compile(rf"(?<![\w])(?:{CITY},\s*)?{CITY},\s*{PLACE}")
_LOCATION_LABEL = re.compile(
    r"(?:^|[|•·]\s*)(?:location|address|based\s+in|residence|city)\s*[:\-]?\s+(.+)$", re.IGNORECASE
)


def find_email(text: str) -> str | None:
    """The first email address, lower-cased."""
    match = EMAIL.search(text)
    return match.group().rstrip(".").lower() if match else None


def find_phone(text: str, region: str) -> tuple[str | None, float]:
    """The first valid phone number in E.164 (numbers without a prefix use ``region``) that
    is not part of a date range ("09/2019 - 11/2023" can pass as a US number); else one
    that a narrow column wrapped onto the next line."""
    for searched, doubt in ((text, 0.0), (_WRAPPED_DIGITS.sub(r"\1 \2", text), 0.2)):
        dates = [match.span() for match in RANGE.finditer(searched)]
        leniency = phonenumbers.Leniency.VALID
        for match in phonenumbers.PhoneNumberMatcher(searched, region, leniency=leniency):
            if any(start < match.end and match.start < stop for start, stop in dates):
                continue
            number = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            # Written with its country code, or labelled: no doubt about the region.
            labelled = _PHONE_LABEL.search(searched[max(0, match.start - 12) : match.start])
            sure = match.raw_string.lstrip().startswith("+") or labelled
            return number, (0.9 if sure else 0.8) - doubt
    return None, 0.0


def _link_key(url: str) -> str:
    url = re.sub(r"^https?://(?:www\.)?", "", url.lower())
    return url.rstrip("/")


def find_links(text: str) -> list[str]:
    """http(s) URLs and bare profile / www / personal-site links as https URLs,
    de-duplicated, in order."""
    links: dict[str, str] = {}
    vocab = vocabulary()
    for match in _LINK.finditer(text):
        url = match.group().rstrip(".:!?")
        if not re.match(r"https?://", url, re.IGNORECASE):
            if "/" not in url and url.lower() in vocab.by_lower:  # "ASP.NET" is a skill
                continue
            url = "https://" + url
        links.setdefault(_link_key(url), url)
    return list(links.values())


def _name_candidate(line: str) -> str | None:
    line = line.strip().lstrip("#* ").strip()
    if _LOCATION.fullmatch(line):  # "Mexico City, Mexico" is a place
        return None
    segment = _SEGMENT_SPLIT.split(_PARENTHESES.sub("", line), maxsplit=1)[0].strip()
    segment = _HONORIFIC.sub("", segment)
    tokens = segment.split()
    given = [t for t in tokens if t.lower() not in _NAME_PARTICLES]  # "van der", "de la" are extra
    if not 2 <= len(given) <= 4 or len(tokens) > 6:
        return None
    if not all(_NAME_TOKEN.fullmatch(t) for t in tokens):
        return None
    # Title case is not required, but in a mixed-case line every word but a particle
    # ("van", "de") must be capitalised, which rules out sentences like "I use Python".
    mixed_case = segment != segment.lower() and segment != segment.upper()
    if mixed_case and any(t[0].islower() and t not in _NAME_PARTICLES for t in tokens):
        return None
    lowered = {token.lower().strip(".") for token in tokens}
    if lowered & (TITLE_WORDS | _NOT_NAME_WORDS | ORGANISATION_WORDS) or section_name(segment):
        return None
    vocab = vocabulary()
    if segment.lower() in vocab.by_lower or segment in vocab.by_exact:
        return None
    if segment == segment.upper():  # a heading in capitals: "ÉLODIE ROSSI" is Élodie Rossi
        return " ".join(_name_cased(token) for token in tokens)
    return " ".join(tokens)


def _name_cased(token: str) -> str:
    """One word of a name written in capitals, in name case: particles in lower case, every
    part of a hyphenated or apostrophed name capitalised ("JEAN-LUC", "O'BRIEN")."""
    if token.lower() in _NAME_PARTICLES:
        return token.lower()
    return re.sub(r"[^\W\d_]+", lambda part: part.group().capitalize(), token)


def contact_block(lines: list[str], before: int = 3, after: int = 5) -> list[str]:
    """The lines around the first email address: where a name and location sit when the
    contact details are not at the top (a sidebar, or a DOCX page header read last)."""
    for index, line in enumerate(lines):
        if EMAIL.search(line):
            return lines[max(0, index - before) : index + after + 1]
    return []


def find_name(
    lines: list[str], header: list[str] | None = None, top: int = 8
) -> tuple[str | None, float]:
    """A labelled name ("Name: ..."), else the first name-shaped line of the ``header`` (the
    lines before the first section title), else one beside the email address, else one among
    the first lines."""
    for line in lines[: top * 2]:
        label = _NAME_LABEL.match(line)
        if label and (name := _name_candidate(label.group(1))):
            return name, 0.9
    searches = [(header or [], 0.8, 0.6), (contact_block(lines, after=0), 0.6, 0.6)]
    if not header:
        searches.append((lines, 0.5, 0.4))
    for candidates, first, later in searches:
        position = 0
        for line in candidates:
            if not line.strip():
                continue
            if position >= top:
                break
            if name := _name_candidate(line):
                return name, first if position == 0 else later
            position += 1
    return None, 0.0


def _location_in(lines: list[str]) -> str | None:
    for line in lines:
        for segment in re.split(r"\s*[|•·\t]\s*", line):
            if EMAIL.search(segment) or _LINK.search(segment):
                continue
            match = _LOCATION.search(segment)
            if match:
                return match.group().strip()
    return None


def find_location(lines: list[str], header: list[str] | None = None) -> tuple[str | None, float]:
    """A labelled location ("Location: ..."), else a "City, ST" / "City, Country" in the
    header or beside the email address."""
    for line in lines:
        label = _LOCATION_LABEL.search(line)
        if label:
            value = re.split(r"\s*[|•·]\s*", label.group(1).strip())[0].strip(" .,;")
            if value:
                return value, 0.85
    if header and (found := _location_in(header[:12])):
        return found, 0.7
    if found := _location_in(contact_block(lines)):
        return found, 0.6
    return None, 0.0
