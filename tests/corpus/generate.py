"""Generate labelled resumes: the true fields are drawn first, then rendered as PDF
(reportlab), DOCX (python-docx) or plain text in one of several layouts.

    python -m tests.corpus.generate --out tests/corpus/files [--count 60] [--seed 0]

writes the files and ``labels.json`` (filename -> layout and true fields). The same
``count``/``seed`` always gives the same bytes; every sample's bytes are distinct.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import io
import json
import random
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docx
import phonenumbers
from docx.enum.text import WD_BREAK
from docx.shared import Pt
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

# "Present" in every resume means this date; pass it to extract_fields(today=...).
TODAY = datetime.date(2026, 6, 1)
LAYOUTS = {
    "pdf": (
        "pdf-one-column",
        "pdf-two-column",
        "pdf-table",
        "pdf-header-footer",
        "pdf-two-column-rows",
    ),
    "docx": ("docx-paragraphs", "docx-table", "docx-header"),
    "txt": ("txt-plain", "txt-markdown"),
}


@dataclass(frozen=True)
class Sample:
    filename: str
    data: bytes
    truth: dict
    layout: str


# -- the true fields -------------------------------------------------------------------

FIRST = (
    "José", "Zoë", "Chloé", "Søren", "Björn", "Renée", "João", "Mia", "Liam", "Priya", "Wei",
    "Aisha", "Omar", "Kenji", "Ingrid", "François", "Élodie", "Niamh", "Siobhán", "Dmitri",
    "Olga", "Tomás", "Anna-Maria", "Jean-Luc", "Grace", "Noah", "Fatima", "Lars", "Amélie",
    "Rahul", "Hana", "Mateo", "Sofía", "Ethan", "Nadia", "Yusuf", "Clara", "Ines",
)  # fmt: skip
LAST = (
    "García", "Müller", "O'Brien", "Smith-Jones", "Nguyen", "van der Berg", "Kowalski",
    "Fernández-López", "Björklund", "D'Angelo", "Okafor", "Patel", "Sato", "Dubois",
    "MacLeod", "Ødegaard", "Johansson", "de la Cruz", "Schröder", "Novák", "Rossi",
    "Haddad", "Ivanova", "Moreau", "Kim", "Lindqvist", "Costa", "Brennan", "Achterberg",
)  # fmt: skip
INITIALS = "ABCDEFGHJKLMNPRSTVW"
STATE_NAMES = {"CA": "California", "TX": "Texas", "NY": "New York", "WA": "Washington"}
HONORIFICS = ("Dr. {}", "{}, PhD", "{}, MBA", "{} (she/her)", "{} (he/him)")
MAIL_DOMAINS = (
    "gmail.com", "outlook.com", "proton.me", "example.org", "mail.co.uk", "web.de",
    "yahoo.fr", "fastmail.com",
)  # fmt: skip
PLACES = (  # city, shown region, phone region
    ("Berlin", "Germany", "DE"), ("Munich", "Germany", "DE"), ("San Francisco", "CA", "US"),
    ("Austin", "TX", "US"), ("New York", "NY", "US"), ("Seattle", "WA", "US"),
    ("London", "UK", "GB"), ("Manchester", "United Kingdom", "GB"), ("Paris", "France", "FR"),
    ("São Paulo", "Brazil", "BR"), ("Toronto", "ON", "CA"), ("Zürich", "Switzerland", "CH"),
    ("Bengaluru", "India", "IN"), ("Sydney", "Australia", "AU"), ("Madrid", "Spain", "ES"),
    ("Málaga", "Spain", "ES"), ("Dublin", "Ireland", "IE"), ("Amsterdam", "Netherlands", "NL"),
    ("Tokyo", "Japan", "JP"), ("Mexico City", "Mexico", "MX"), ("Kraków", "Poland", "PL"),
)  # fmt: skip
# Canonical skill, then other ways people write it.
SKILLS = (
    ("Python", ["python"]), ("Java", []), ("JavaScript", ["JS", "javascript"]),
    ("TypeScript", []), ("C++", []), ("C#", []), ("Go", ["Golang"]), ("Rust", []),
    ("Ruby", []), ("PHP", []), ("Kotlin", []), ("Scala", []), ("SQL", ["sql"]),
    ("Bash", ["Shell Scripting"]), ("HTML", ["HTML5"]), ("CSS", ["CSS3"]),
    ("GraphQL", []), ("React", ["React.js", "ReactJS"]), ("Angular", []),
    ("Vue.js", ["Vue"]), ("Node.js", ["NodeJS"]), ("Flask", []), ("Django", []),
    ("FastAPI", []), ("Spring Boot", []), ("Ruby on Rails", ["Rails"]), (".NET", [".NET Core"]),
    ("pandas", ["Pandas"]), ("NumPy", []), ("scikit-learn", ["sklearn"]),
    ("TensorFlow", []), ("PyTorch", []), ("Spark", ["Apache Spark", "PySpark"]),
    ("Kafka", ["Apache Kafka"]), ("Airflow", ["Apache Airflow"]), ("PostgreSQL", ["Postgres"]),
    ("MySQL", []), ("MongoDB", []), ("Redis", []), ("Elasticsearch", []),
    ("Snowflake", []), ("BigQuery", []), ("AWS", ["Amazon Web Services"]),
    ("Azure", ["Microsoft Azure"]), ("Google Cloud", ["GCP"]), ("Docker", []),
    ("Kubernetes", ["K8s", "kubernetes"]), ("Terraform", []), ("Ansible", []),
    ("Jenkins", []), ("GitHub Actions", []), ("Git", []), ("Linux", []),
    ("Microservices", ["microservices"]), ("gRPC", []), ("Prometheus", []), ("Grafana", []),
    ("Jira", []), ("Figma", []), ("Tableau", []), ("Power BI", []), ("Excel", ["MS Excel"]),
    ("Machine Learning", ["machine learning"]), ("Deep Learning", []),
    ("Natural Language Processing", ["NLP"]), ("Data Analysis", ["data analysis"]),
    ("Data Visualization", []), ("ETL", []), ("Agile", []), ("Scrum", []),
    ("Project Management", ["project management"]), ("Product Management", []),
    ("Stakeholder Management", []), ("Financial Modeling", []), ("SEO", []),
    ("Digital Marketing", []), ("Salesforce", []), ("Public Speaking", []),
    ("Unit Testing", []), ("Selenium", []), ("CI/CD", []), ("Distributed Systems", []),
)  # fmt: skip
EMPLOYERS = (
    "Northwind Traders", "Globex Corporation", "Initech", "Umbrella Health", "Stark Industries",
    "Wayne Enterprises", "Acme Corp", "Hooli", "Vandelay Industries", "Cyberdyne Systems",
    "Tyrell Corporation", "Wonka Industries", "Massive Dynamic", "Aperture Labs",
    "Blue Harbor Bank", "Nordlicht GmbH", "Lumière Analytics SA", "Pied Piper",
    "Dunder Mifflin", "Oceanic Airlines", "Gringotts Bank", "Soylent Foods Inc.",
    "Contoso Ltd", "Fabrikam", "Tailspin Toys", "Wingtip Solutions", "Adventure Works",
    "Kessler & Partners", "Brightwave Media", "Halcyon Software", "Polaris Logistics",
)  # fmt: skip
TITLES = (
    "Software Engineer", "Senior Software Engineer", "Backend Developer", "Frontend Developer",
    "Data Analyst", "Senior Data Analyst", "Data Scientist", "Product Manager",
    "Engineering Manager", "QA Engineer", "Platform Engineer", "Marketing Specialist",
    "Financial Analyst", "Full Stack Developer", "Technical Lead", "Cloud Architect",
    "Business Analyst", "Junior Developer", "Research Engineer", "Staff Engineer",
)  # fmt: skip
DEGREES = (
    "B.Sc. Computer Science", "Bachelor of Arts in Economics", "MSc Mathematics",
    "Master of Business Administration (MBA)", "PhD in Physics", "B.Eng. Mechanical Engineering",
    "Bachelor of Science in Information Systems", "M.Sc. Computer Science",
    "Master of Arts in Finance", "Diploma in Marketing",
)  # fmt: skip
SCHOOLS = (
    "University of Toronto", "Technische Universität München", "Universidad de Granada",
    "Massachusetts Institute of Technology", "University College London",
    "Université Paris-Saclay", "Indian Institute of Technology Bombay",
    "University of São Paulo", "ETH Zürich", "Stanford University", "Trinity College Dublin",
    "University of Melbourne", "Jagiellonian University",
)  # fmt: skip
BULLETS = (
    "Built {0} services that handle {n} thousand requests per minute",
    "Moved the reporting pipeline to {0} and {1}, cutting costs by {n}%",
    "Introduced {0} across {n} teams",
    "Designed dashboards with {0} for the leadership group",
    "Mentored {n} new hires and ran weekly code reviews",
    "Reduced page load time by {n}% with {0}",
    "Owned the migration from a monolith to {0}",
    "Wrote the on-call runbook and cut incident time by {n}%",
)

TITLES_BY_SECTION = {
    "experience": (
        "Experience", "WORK EXPERIENCE", "Professional Experience", "Employment History",
        "work history", "Career History", "EXPERIENCE:", "Relevant Experience",
        "Professional Background", "Where I've Worked", "Employment",
    ),
    "education": (
        "Education", "EDUCATION", "Academic Background", "Education & Training",
        "Qualifications", "education:", "Academic History", "Studies",
    ),
    "skills": (
        "Skills", "TECHNICAL SKILLS", "Core Competencies", "Key Skills", "Tools & Technologies",
        "Skills:", "Areas of Expertise", "Tech Stack", "Toolbox", "SKILLS & TOOLS",
    ),
    "summary": ("Summary", "PROFILE", "About Me", "Professional Summary", "Objective"),
}  # fmt: skip
# Where a job was, written beside the role ("Stripe — San Francisco, CA").
JOB_PLACES = (
    "San Francisco, CA", "Cambridge, MA", "New York, NY", "Austin, TX", "Berlin, Germany",
    "London, UK", "Toronto, ON", "Paris, France", "Remote",
)  # fmt: skip
DATE_STYLES = ("mon", "full", "year", "numeric", "dotted")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ø", "O"))
    return "".join(ch for ch in folded if ch.isascii() and (ch.isalnum() or ch in " -"))


def _phone(rng: random.Random, region: str) -> phonenumbers.PhoneNumber:
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    national = str(example.national_number)
    while True:
        digits = national[:-4] + "".join(rng.choice("0123456789") for _ in range(4))
        number = phonenumbers.parse(f"+{example.country_code}{digits}")
        if phonenumbers.is_valid_number(number):
            return number


def _months(start: tuple[int, int], end: tuple[int, int]) -> int:
    return (end[0] - start[0]) * 12 + end[1] - start[1]


def _merged_years(spans: list[tuple[int, int]]) -> float:
    """Total of the half-open month intervals with overlaps counted once."""
    total, current = 0, None
    for start, stop in sorted(spans):
        if current is not None and start <= current[1]:
            current = (current[0], max(current[1], stop))
            continue
        if current is not None:
            total += current[1] - current[0]
        current = (start, stop)
    if current is not None:
        total += current[1] - current[0]
    return round(total / 12, 1)


def make_truth(rng: random.Random, index: int, pages: int) -> dict:
    """The fields of one invented person, before any rendering."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    form = rng.random()
    if form < 0.2:
        name = f"{first} {rng.choice(INITIALS)}. {last}"
    elif form < 0.3:
        name = f"{rng.choice(INITIALS)}. {rng.choice(INITIALS)}. {last}"
    else:
        name = f"{first} {last}"
    city, region, phone_region = rng.choice(PLACES)
    phone = _phone(rng, phone_region if rng.random() < 0.8 else rng.choice(PLACES)[2])
    local = _ascii(f"{first}.{last}").lower().replace(" ", "").replace("-", "")
    email = f"{local}{index}@{rng.choice(MAIL_DOMAINS)}"
    slug = _ascii(f"{first}-{last}").lower().replace(" ", "-") + f"-{index}"
    links = []
    if rng.random() < 0.75:
        links.append(f"linkedin.com/in/{slug}")
    if rng.random() < 0.5:
        links.append(f"github.com/{slug}")
    if rng.random() < 0.25:
        links.append(f"{slug}.dev")

    jobs = rng.randint(2, 3) if pages == 1 else rng.randint(4, 6)
    precision = rng.choice(DATE_STYLES)
    # Walk back in time from today: current job (often "present"), then older ones.
    end: tuple[int, int] | None = None if rng.random() < 0.7 else (2025, rng.randint(1, 12))
    cursor = (TODAY.year, TODAY.month) if end is None else end
    experience, spans = [], []
    employers = rng.sample(EMPLOYERS, jobs)
    for number in range(jobs):
        length = rng.randint(10, 50)
        start_index = cursor[0] * 12 + cursor[1] - 1 - length
        start = (start_index // 12, start_index % 12 + 1)
        if number > 0 and rng.random() < 0.15:  # an overlapping side job
            stop_index = start_index + length + rng.randint(2, 8)
            shown_end = (stop_index // 12, stop_index % 12 + 1)
        else:
            shown_end = end if number == 0 else cursor
        experience.append(
            {
                "employer": employers[number],
                "title": rng.choice(TITLES),
                "start": f"{start[0]:04d}-{start[1]:02d}",
                "end": "present" if shown_end is None else f"{shown_end[0]:04d}-{shown_end[1]:02d}",
                "precision": "year" if precision == "year" else "month",
            }
        )
        stop = (TODAY.year, TODAY.month) if shown_end is None else shown_end
        # A month-precise end counts its month; "present" counts the current one.
        spans.append((start_index, stop[0] * 12 + stop[1] - 1 + 1))
        gap = rng.choice((0, 0, 1, 2, 4))
        cursor_index = start_index - gap
        cursor = (cursor_index // 12, cursor_index % 12 + 1)
    graduated = cursor[0] - rng.randint(0, 1)
    education = [
        {
            "degree": rng.choice(DEGREES),
            "institution": rng.choice(SCHOOLS),
            "start": graduated - rng.randint(2, 4),
            "end": graduated,
        }
    ]
    if rng.random() < 0.35:
        education.insert(
            0,
            {
                "degree": rng.choice(DEGREES),
                "institution": rng.choice(SCHOOLS),
                "start": graduated + 1,
                "end": graduated + 2,
            },
        )
    skills = [skill for skill, _ in rng.sample(SKILLS, rng.randint(6, 12))]
    # Drawn apart from `rng`, so that adding job places left every other choice as it was.
    variant = random.Random(f"{email}:places")
    if variant.random() < 0.4:
        for job in experience:  # shown beside the role; the employer is still the true one
            job["location"] = variant.choice(JOB_PLACES)
    return {
        "name": name,
        "email": email,
        "phone": phonenumbers.format_number(phone, phonenumbers.PhoneNumberFormat.E164),
        "phone_region": phonenumbers.region_code_for_number(phone),
        "links": links,
        "location": (
            f"{city}, {STATE_NAMES[region]}"
            if region in STATE_NAMES and rng.random() < 0.35
            else f"{city}, {region}"
        ),
        "skills": skills,
        "education": education,
        "experience": experience,
        "years_experience": _merged_years(spans),
        "date_style": precision,
        "today": TODAY.isoformat(),
    }


# -- rendering the fields as resume lines ----------------------------------------------


def _point(value: str, style: str, rng: random.Random, present: str) -> str:
    if value == "present":
        return present
    year, month = int(value[:4]), int(value[5:])
    if style == "mon":
        short = MONTHS[month - 1][: 4 if month == 9 and rng.random() < 0.5 else 3]
        return f"{short}{'.' if month != 5 and rng.random() < 0.25 else ''} {year}"
    if style == "full":
        return f"{MONTHS[month - 1]} {year}"
    if style == "year":
        return str(year)
    if style == "numeric":
        return f"{month:02d}/{year}"
    return f"{year}.{month:02d}"


def _dates(job: dict, style: str, rng: random.Random, variant: random.Random) -> str:
    present = rng.choice(("Present", "present", "Current", "Now", "Today"))
    separator = rng.choice((" - ", " – ", " — ", " to ")) if style != "year" else "-"
    if style == "year" and job["end"] == "present":
        separator = " - "
    elif style == "year":  # "2020-2024" or "2020 – 2024"
        separator = variant.choice(("-", "-", " – ", " - "))
    start, end = (_point(job[key], style, rng, present) for key in ("start", "end"))
    return f"{start}{separator}{end}"


def _phone_text(truth: dict, rng: random.Random) -> str:
    number = phonenumbers.parse(truth["phone"])
    styles = [
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
        truth["phone"],
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        .replace(" ", ".")
        .replace("-", "."),
    ]
    prefix = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    if prefix.startswith("0"):  # "+44 (0)20 7946 0958", as written in much of Europe
        styles.append(f"+{number.country_code} (0){prefix[1:]}")
    if truth["phone_region"] == "US":
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        styles += [national, national.replace("(", "").replace(") ", "-")]
    return rng.choice(styles)


def _link_text(link: str, rng: random.Random) -> str:
    if rng.random() < 0.4:
        return "https://" + ("www." if "linkedin" in link else "") + link + rng.choice(("", "/"))
    return link


def _skill_text(skill: str, rng: random.Random) -> str:
    aliases = dict(SKILLS)[skill]
    return rng.choice(aliases) if aliases and rng.random() < 0.35 else skill


@dataclass
class Parts:
    """The pieces of one resume, rendered to strings, for the layouts to arrange."""

    name: str
    contact: list[str]  # email, phone, location, links
    titles: dict[str, str]
    summary: str | None
    jobs: list[tuple[str, str, list[str], str]]  # role line(s), dates, bullets, shape
    job_rows: list[tuple[str, str, str]]  # dates, title, employer (for tables)
    education: list[str]
    skills_lines: list[str]
    skills_cells: list[str]


def render_parts(truth: dict, rng: random.Random) -> Parts:
    name = truth["name"].upper() if rng.random() < 0.2 else truth["name"]
    if rng.random() < 0.12:
        name = rng.choice(HONORIFICS).format(name)
    email = truth["email"]
    if rng.random() < 0.2:
        local, domain = email.split("@")
        email = f"{local.title()}@{domain.capitalize()}"
    phone = _phone_text(truth, rng)
    labelled = rng.random() < 0.4
    contact = [
        f"{rng.choice(('Email: ', 'E-mail: '))}{email}" if labelled else email,
        f"{rng.choice(('Phone: ', 'Tel. ', 'Mobile: '))}{phone}" if labelled else phone,
        f"Location: {truth['location']}" if labelled else truth["location"],
    ]
    rng.shuffle(contact)
    contact += [_link_text(link, rng) for link in truth["links"]]
    casing = rng.choice((str, str, str.upper, str.title))
    titles = {key: casing(rng.choice(options)) for key, options in TITLES_BY_SECTION.items()}
    skills = list(truth["skills"])
    summary = None
    if rng.random() < 0.6:
        years = int(truth["years_experience"])
        summary = (
            f"{truth['experience'][0]['title']} with {years}+ years of experience, "
            f"most recently with {_skill_text(skills[0], rng)} and {_skill_text(skills[1], rng)}."
        )
    style, shape = truth["date_style"], rng.choice("ABCDEF")
    variant = random.Random(f"{truth['email']}:dates")
    jobs, rows = [], []
    for job in truth["experience"]:
        dates = _dates(job, style, rng, variant)
        title, employer, place = job["title"], job["employer"], job.get("location")
        # With a place: title and employer in either order, the place after both or
        # kept with the employer ("HubSpot, Cambridge, MA").
        role = {
            "A": f"{title}, {employer}" + (f" — {place}" if place else ""),
            "B": f"{employer}{f', {place}' if place else ''}\n{title}",
            "C": f"{title} at {employer}" + (f", {place}" if place else ""),
            "D": f"{employer}{f', {place}' if place else ''} — {title}",
            "E": f"{title} | {employer}" + (f" | {place}" if place else ""),
            "F": f"{title}, {employer}" + (f" — {place}" if place else ""),
        }[shape]
        bullets = []
        for _ in range(rng.randint(1, 3)):
            template = rng.choice(BULLETS)
            used = rng.sample(skills, 2)
            bullets.append(
                template.format(
                    _skill_text(used[0], rng), _skill_text(used[1], rng), n=rng.randint(2, 60)
                )
            )
        jobs.append((role, dates, bullets, shape))
        rows.append((dates, title, employer))
    education = []
    for entry in truth["education"]:
        if rng.random() < 0.5:
            education.append(f"{entry['degree']}, {entry['institution']}, {entry['end']}")
        else:
            education.append(
                f"{entry['degree']}\n{entry['institution']}\n{entry['start']} - {entry['end']}"
            )
    shown = [_skill_text(skill, rng) for skill in skills]
    joiner = rng.choice((", ", " | ", " · ", ", "))
    if rng.random() < 0.3:
        skills_lines = [f"• {skill}" for skill in shown]
    elif rng.random() < 0.3:
        half = len(shown) // 2
        skills_lines = [f"Main: {', '.join(shown[:half])}", f"Also: {', '.join(shown[half:])}"]
    else:
        skills_lines = [joiner.join(shown)]
    return Parts(name, contact, titles, summary, jobs, rows, education, skills_lines, shown)


def job_lines(parts: Parts) -> list[str]:
    lines: list[str] = []
    for role, dates, bullets, shape in parts.jobs:
        if shape == "A":
            lines.append(f"{role}    {dates}")
        elif shape == "E":
            lines.append(f"{role} | {dates}")
        elif shape == "F":
            lines += [dates, role]
        else:
            lines += [*role.split("\n"), dates]
        lines += [f"• {bullet}" for bullet in bullets]
        lines.append("")
    return lines


def text_lines(parts: Parts, markdown: bool = False) -> list[str]:
    """The whole resume as lines, top to bottom (plain text and one-column layouts)."""

    def title(key: str) -> str:
        return f"## {parts.titles[key]}" if markdown else parts.titles[key]

    lines = [f"# {parts.name}" if markdown else parts.name, " | ".join(parts.contact[:3])]
    lines += parts.contact[3:]
    lines.append("")
    if parts.summary:
        lines += [title("summary"), parts.summary, ""]
    lines += [title("experience"), *job_lines(parts)]
    lines += [title("education"), *(line for e in parts.education for line in e.split("\n")), ""]
    lines += [title("skills"), *parts.skills_lines]
    return lines


# -- PDF -------------------------------------------------------------------------------

_FONTS = ("Helvetica", "Times-Roman", "Courier", "Vera")


def _register_fonts() -> None:
    if "Vera" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("Vera", "Vera.ttf"))
        pdfmetrics.registerFont(TTFont("VeraBd", "VeraBd.ttf"))


def _bold(font: str) -> str:
    bold = {"Helvetica": "Helvetica-Bold", "Times-Roman": "Times-Bold", "Courier": "Courier-Bold"}
    return bold.get(font, "VeraBd")


class _PdfWriter:
    """Draws lines top-down in a column, starting a new page when the column is full."""

    def __init__(self, rng: random.Random, header: str | None = None, footer: str | None = None):
        _register_fonts()
        self.buffer = io.BytesIO()
        self.size = rng.choice((A4, LETTER))
        self.pdf = canvas.Canvas(self.buffer, pagesize=self.size, invariant=1)
        self.font = rng.choice(_FONTS)
        self.font_size = rng.choice((9.5, 10, 10.5, 11))
        self.header, self.footer, self.page = header, footer, 1
        self.y = self.top = self.size[1] - (80 if header else 56)

    def decorate(self) -> None:
        width, height = self.size
        self.pdf.setFont(self.font, 8)
        if self.header:
            self.pdf.drawString(50, height - 36, self.header)
        if self.footer:
            self.pdf.drawCentredString(width / 2, 28, self.footer.format(page=self.page))

    def new_page(self) -> None:
        self.decorate()
        self.pdf.showPage()
        self.page += 1
        self.y = self.top

    def line(self, text: str, x: float = 50, width: float = 495, *, bold: bool = False,
             size: float | None = None, right: str | None = None) -> None:  # fmt: skip
        font = _bold(self.font) if bold else self.font
        size = size or self.font_size
        if not text:
            self.y -= size * 0.8
            return
        for part in simpleSplit(text, font, size, width - (90 if right else 0)) or [""]:
            if self.y < 60:
                self.new_page()
            self.pdf.setFont(font, size)
            self.pdf.drawString(x, self.y, part)
            if right:
                self.pdf.setFont(self.font, size)
                self.pdf.drawRightString(x + width, self.y, right)
                right = None
            self.y -= size * 1.45

    def finish(self) -> bytes:
        self.decorate()
        self.pdf.showPage()
        self.pdf.save()
        return self.buffer.getvalue()


def _pdf_sections(writer: _PdfWriter, parts: Parts, x: float, width: float, pages: int) -> None:
    if parts.summary:
        writer.line(parts.titles["summary"], x, width, bold=True)
        writer.line(parts.summary, x, width)
        writer.line("")
    writer.line(parts.titles["experience"], x, width, bold=True)
    for role, dates, bullets, shape in parts.jobs:
        if shape == "A":
            writer.line(role, x, width, bold=True, right=dates)
        else:
            for line in job_lines(Parts(**{**parts.__dict__, "jobs": [(role, dates, [], shape)]})):
                if line:
                    writer.line(line, x, width, bold=line == role.split("\n")[0])
        for bullet in bullets:
            writer.line(f"• {bullet}", x + 8, width - 8)
        writer.line("")
    if pages == 2 and writer.page == 1:
        writer.new_page()


def _pdf_education_and_skills(writer: _PdfWriter, parts: Parts) -> None:
    """The closing sections of the single-column layouts, one line per source line."""
    writer.line(parts.titles["education"], bold=True)
    for entry in parts.education:
        for line in entry.split("\n"):
            writer.line(line)
    writer.line("")
    writer.line(parts.titles["skills"], bold=True)
    for line in parts.skills_lines:
        writer.line(line)


def pdf_one_column(parts: Parts, rng: random.Random, pages: int) -> bytes:
    writer = _PdfWriter(rng)
    writer.line(parts.name, bold=True, size=18)
    writer.line(" | ".join(parts.contact[:3]))
    for link in parts.contact[3:]:
        writer.line(link)
    writer.line("")
    _pdf_sections(writer, parts, 50, 495, pages)
    _pdf_education_and_skills(writer, parts)
    return writer.finish()


def pdf_two_column(parts: Parts, rng: random.Random, pages: int) -> bytes:
    """A sidebar (contact, skills, education) beside the main column (summary, experience);
    which column is drawn first varies, as it does between real PDF producers."""
    writer = _PdfWriter(rng)
    writer.line(parts.name, bold=True, size=18)
    writer.line("")
    top = writer.y

    def sidebar() -> None:
        writer.y = top
        page = writer.page
        for line in parts.contact:
            writer.line(line.split(": ", 1)[-1], 40, 160, size=8.5)
        writer.line("")
        writer.line(parts.titles["skills"], 40, 160, bold=True)
        for line in parts.skills_lines:
            writer.line(line, 40, 160, size=8.5)
        writer.line("")
        writer.line(parts.titles["education"], 40, 160, bold=True)
        for entry in parts.education:
            for line in entry.split("\n"):
                writer.line(line, 40, 160, size=8.5)
        assert writer.page == page, "the sidebar fits on one page"

    def main() -> None:
        writer.y = top
        _pdf_sections(writer, parts, 215, 340, 1)

    if rng.random() < 0.5:
        sidebar()
        main()
    else:
        main()
        if writer.page == 1:
            sidebar()
        else:  # the main column overflowed: the sidebar is drawn on page 1 only
            raise _Retry
    if pages == 2 and writer.page == 1:
        writer.new_page()
        writer.line("References available on request", 215, 340)
    return writer.finish()


class _Retry(Exception):
    pass


def _fit(text: str, font: str, size: float, width: float) -> list[tuple[str, float]]:
    """Lines of at most ``width`` and their font size: a word too long for a line (a URL)
    is drawn smaller, as a table cell that fits its text does, not over the next column."""
    lines = []
    for part in simpleSplit(text, font, size, width) or [""]:
        fitted = size
        while fitted > 4 and pdfmetrics.stringWidth(part, font, fitted) > width:
            fitted -= 0.5
        lines.append((part, fitted))
    return lines


def pdf_two_column_rows(parts: Parts, rng: random.Random, pages: int) -> bytes:
    """Two columns drawn row by row, left then right at each height, as table-based
    templates and some word processors do: the text comes out interleaved unless the
    extractor reads columns by their position."""
    writer = _PdfWriter(rng)
    writer.line(parts.name, bold=True, size=18)
    writer.line("")
    left: list[tuple[str, bool]] = [(line.split(": ", 1)[-1], False) for line in parts.contact]
    left += [("", False), (parts.titles["skills"], True)]
    left += [(line, False) for line in parts.skills_lines]
    left += [("", False), (parts.titles["education"], True)]
    left += [(line, False) for entry in parts.education for line in entry.split("\n")]
    right: list[tuple[str, bool]] = []
    if parts.summary:
        right += [(parts.titles["summary"], True), (parts.summary, False), ("", False)]
    right.append((parts.titles["experience"], True))
    right += [(line, False) for line in job_lines(parts)]
    rows = []
    for side, x, width in ((left, 40, 160), (right, 215, 330)):
        wrapped = []
        for text, bold in side:
            font = _bold(writer.font) if bold else writer.font
            for part, fitted in _fit(text, font, 8.5, width):
                wrapped.append((part, bold, x, fitted))
        rows.append(wrapped)
    size = 8.5
    for index in range(max(len(rows[0]), len(rows[1]))):
        if writer.y < 60:
            writer.new_page()
        for column in rows:
            if index < len(column) and column[index][0]:
                text, bold, x, fitted = column[index]
                writer.pdf.setFont(_bold(writer.font) if bold else writer.font, fitted)
                writer.pdf.drawString(x, writer.y, text)
        writer.y -= size * 1.45
    if pages == 2 and writer.page == 1:
        writer.new_page()
        writer.line("References available on request", 215, 330)
    return writer.finish()


def pdf_table(parts: Parts, rng: random.Random, pages: int) -> bytes:
    """Experience as a ruled table (dates | title | employer), skills as a grid."""
    writer = _PdfWriter(rng)
    writer.line(parts.name, bold=True, size=16)
    for line in parts.contact:
        writer.line(line)
    writer.line("")
    writer.line(parts.titles["experience"], bold=True)
    for dates, title, employer in parts.job_rows:
        if writer.y < 80:
            writer.new_page()
        y = writer.y
        writer.pdf.setFont(writer.font, writer.font_size)
        writer.pdf.drawString(50, y, dates)
        writer.pdf.drawString(210, y, title)
        writer.pdf.drawString(380, y, employer)
        writer.pdf.line(48, y - 4, 548, y - 4)
        writer.y -= writer.font_size * 1.8
    writer.line("")
    if pages == 2:
        writer.new_page()
    writer.line(parts.titles["education"], bold=True)
    for entry in parts.education:
        writer.line(entry.replace("\n", ", "))
    writer.line("")
    writer.line(parts.titles["skills"], bold=True)
    cells = parts.skills_cells
    for row in range(0, len(cells), 3):
        y = writer.y
        for column, cell in enumerate(cells[row : row + 3]):
            writer.pdf.setFont(writer.font, writer.font_size)
            writer.pdf.drawString(50 + column * 165, y, cell)
        writer.y -= writer.font_size * 1.6
    return writer.finish()


def pdf_header_footer(parts: Parts, rng: random.Random, pages: int) -> bytes:
    """Name and email repeated in the page header, a page number in the footer."""
    email = parts.contact[0].split(": ", 1)[-1]
    footer = rng.choice(("Page {page}", "{page}", f"{email} · page {{page}}"))
    writer = _PdfWriter(rng, header=f"{parts.name} · {rng.choice(('Resume', 'CV'))}", footer=footer)
    writer.line(parts.name, bold=True, size=16)
    writer.line(" · ".join(parts.contact))
    writer.line("")
    _pdf_sections(writer, parts, 50, 495, pages)
    _pdf_education_and_skills(writer, parts)
    return writer.finish()


# -- DOCX ------------------------------------------------------------------------------


def _docx_save(document: docx.Document) -> bytes:
    """python-docx stamps each zip member with the current time; rewrite with a fixed one
    so the same seed gives the same bytes."""
    raw = io.BytesIO()
    document.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def _docx_document(rng: random.Random) -> docx.Document:
    document = docx.Document()
    style = document.styles["Normal"]
    style.font.name = rng.choice(("Calibri", "Arial", "Georgia", "Garamond"))
    style.font.size = Pt(rng.choice((10, 10.5, 11)))
    document.core_properties.created = datetime.datetime(2024, 1, 1)
    document.core_properties.modified = datetime.datetime(2024, 1, 1)
    return document


def _heading(document: docx.Document, text: str, rng: random.Random) -> None:
    if rng.random() < 0.5:
        document.add_heading(text, level=2)
    else:
        document.add_paragraph().add_run(text).bold = True


def _page_break(document: docx.Document) -> None:
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _docx_body(document: docx.Document, parts: Parts, rng: random.Random, pages: int,
               table: bool) -> None:  # fmt: skip
    if parts.summary:
        _heading(document, parts.titles["summary"], rng)
        document.add_paragraph(parts.summary)
    _heading(document, parts.titles["experience"], rng)
    if table:
        grid = document.add_table(rows=0, cols=3)
        for dates, title, employer in parts.job_rows:
            cells = grid.add_row().cells
            cells[0].text, cells[1].text, cells[2].text = dates, title, employer
    else:
        for line in job_lines(parts):
            if line.startswith("• "):
                document.add_paragraph(line[2:], style="List Bullet")
            elif line:
                document.add_paragraph(line)
    if pages == 2:
        _page_break(document)
    _heading(document, parts.titles["education"], rng)
    for entry in parts.education:
        for line in entry.split("\n"):
            document.add_paragraph(line)
    _heading(document, parts.titles["skills"], rng)
    if table:
        cells = parts.skills_cells
        grid = document.add_table(rows=0, cols=3)
        for row in range(0, len(cells), 3):
            target = grid.add_row().cells
            for column, cell in enumerate(cells[row : row + 3]):
                target[column].text = cell
    else:
        for line in parts.skills_lines:
            document.add_paragraph(line)


def docx_paragraphs(parts: Parts, rng: random.Random, pages: int, table: bool = False) -> bytes:
    document = _docx_document(rng)
    title = document.add_paragraph()
    title.add_run(parts.name).bold = True
    document.add_paragraph(" | ".join(parts.contact[:3]))
    for link in parts.contact[3:]:
        document.add_paragraph(link)
    _docx_body(document, parts, rng, pages, table)
    return _docx_save(document)


def docx_table(parts: Parts, rng: random.Random, pages: int) -> bytes:
    return docx_paragraphs(parts, rng, pages, table=True)


def docx_header(parts: Parts, rng: random.Random, pages: int) -> bytes:
    """Name and contact details live in the page header, not in the body."""
    document = _docx_document(rng)
    header = document.sections[0].header
    header.paragraphs[0].text = parts.name
    header.add_paragraph(" | ".join(parts.contact))
    _docx_body(document, parts, rng, pages, table=rng.random() < 0.5)
    return _docx_save(document)


# -- plain text ------------------------------------------------------------------------


def txt_plain(parts: Parts, rng: random.Random, pages: int) -> bytes:
    return ("\n".join(text_lines(parts)) + "\n").encode()


def txt_markdown(parts: Parts, rng: random.Random, pages: int) -> bytes:
    newline = rng.choice(("\n", "\r\n"))
    return (newline.join(text_lines(parts, markdown=True)) + newline).encode()


RENDERERS: dict[str, Callable[[Parts, random.Random, int], bytes]] = {
    "pdf-one-column": pdf_one_column,
    "pdf-two-column": pdf_two_column,
    "pdf-table": pdf_table,
    "pdf-header-footer": pdf_header_footer,
    "pdf-two-column-rows": pdf_two_column_rows,
    "docx-paragraphs": docx_paragraphs,
    "docx-table": docx_table,
    "docx-header": docx_header,
    "txt-plain": txt_plain,
    "txt-markdown": txt_markdown,
}


def generate(
    count: int, seed: int = 0, formats: tuple[str, ...] = ("pdf", "docx", "txt")
) -> list[Sample]:
    """``count`` labelled resumes, the formats taken in turn, the layouts of each format in
    turn, alternating one and two pages. Deterministic for a seed; every file is distinct."""
    samples: list[Sample] = []
    digests: set[str] = set()
    per_format = {fmt: 0 for fmt in formats}
    index = 0
    attempt = 0
    while len(samples) < count:
        fmt = formats[len(samples) % len(formats)]
        layout = LAYOUTS[fmt][per_format[fmt] % len(LAYOUTS[fmt])]
        pages = 1 + (per_format[fmt] // len(LAYOUTS[fmt])) % 2
        rng = random.Random(f"{seed}:{index}:{attempt}")
        truth = make_truth(rng, seed * 100_000 + index, pages)
        try:
            data = RENDERERS[layout](render_parts(truth, rng), rng, pages)
        except _Retry:
            attempt += 1
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest in digests:
            attempt += 1
            continue
        digests.add(digest)
        extension = fmt
        stem = _ascii(truth["name"]).lower().replace(" ", "-")
        truth = {**truth, "pages": pages}
        samples.append(Sample(f"{len(samples):03d}-{stem}.{extension}", data, truth, layout))
        per_format[fmt] += 1
        index += 1
        attempt = 0
    return samples


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "files")
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    previous = args.out / "labels.json"
    if previous.exists():  # files of the last run that this run does not write again
        for name in json.loads(previous.read_text("utf-8")):
            (args.out / name).unlink(missing_ok=True)
    samples = generate(args.count, args.seed)
    labels = {}
    for sample in samples:
        (args.out / sample.filename).write_bytes(sample.data)
        labels[sample.filename] = {"layout": sample.layout, "truth": sample.truth}
    labels_path = args.out / "labels.json"
    labels_path.write_text(json.dumps(labels, indent=1, ensure_ascii=False) + "\n", "utf-8")
    total = sum(len(sample.data) for sample in samples)
    print(f"Wrote {len(samples)} resumes ({total // 1024} KiB) and labels.json to {args.out}")


if __name__ == "__main__":
    main()
