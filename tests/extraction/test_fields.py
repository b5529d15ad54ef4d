import datetime

import pytest

from talaro.extraction import FIELD_NAMES, PDF, extract_fields, extract_text
from talaro.extraction.sections import section_name
from talaro.extraction.skills import vocabulary

TODAY = datetime.date(2024, 6, 15)

RESUME = """\
ZOË ÅNGSTRÖM-BERG
zoe.Berg@Example.COM | +49 30 901820 | linkedin.com/in/zoe-berg | Berlin, Germany

Summary
Backend engineer with 12+ years of experience.

PROFESSIONAL EXPERIENCE
Senior Software Engineer, Acme Corp          Jan 2019 - Present
- Built Node.js and C++ services on AWS
Globex Corporation
Data Analyst
January 2016 – Mar 2019
- Reporting in SQL

Technical Skills:
Python, postgres, Docker, C#, k8s

Education
B.Sc. Computer Science,
Technical University of Munich
"""


def _fields(text: str, **kwargs):
    return extract_fields(text, today=TODAY, **kwargs)


def test_full_resume():
    result = _fields(RESUME)
    assert result.values == {
        "name": "Zoë Ångström-Berg",  # a heading in capitals, in name case
        "email": "zoe.berg@example.com",
        "phone": "+4930901820",
        "links": ["https://linkedin.com/in/zoe-berg"],
        "location": "Berlin, Germany",
        "skills": [
            "Node.js",
            "C++",
            "AWS",
            "SQL",
            "Python",
            "PostgreSQL",
            "Docker",
            "C#",
            "Kubernetes",
        ],  # fmt: skip
        "education": ["B.Sc. Computer Science, Technical University of Munich"],
        "experience": [
            {
                "employer": "Acme Corp",
                "title": "Senior Software Engineer",
                "start": "2019-01",
                "end": "present",
            },
            {
                "employer": "Globex Corporation",
                "title": "Data Analyst",
                "start": "2016-01",
                "end": "2019-03",
            },
        ],  # fmt: skip
        "years_experience": 8.5,
    }
    assert set(result.confidence) == set(FIELD_NAMES)
    assert result.confidence["email"] == 0.99
    assert result.confidence["phone"] == 0.9
    assert result.confidence["name"] == 0.8
    assert all(0.5 <= value <= 1.0 for value in result.confidence.values())


def test_empty_text_has_every_field_missing():
    result = _fields("")
    assert list(result.values) == list(FIELD_NAMES)
    assert result.values == {
        "name": None, "email": None, "phone": None, "links": [], "location": None,
        "skills": [], "education": [], "experience": [], "years_experience": None,
    }  # fmt: skip
    assert result.confidence == dict.fromkeys(FIELD_NAMES, 0.0)


def test_fields_from_a_two_column_pdf(make_pdf):
    left = ["Jane Q. Public", "Work Experience", "Engineer at Initech", "03/2018 - 06/2020"]
    right = ["jane@example.org", "Skills", "Python, Rust"]
    text = extract_text(make_pdf([left], right_column=[right]), PDF).text
    values = _fields(text).values
    assert values["name"] == "Jane Q. Public"
    assert values["email"] == "jane@example.org"
    assert values["skills"] == ["Python", "Rust"]
    assert values["experience"] == [
        {"employer": "Initech", "title": "Engineer", "start": "2018-03", "end": "2020-06"}
    ]


# -- email, phone, links ---------------------------------------------------------------


def test_first_email_is_lowercased():
    text = "Jane Doe\nJane.Doe+jobs@Mail.Example.co.uk, old@example.com"
    assert _fields(text).values["email"] == "jane.doe+jobs@mail.example.co.uk"


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("Phone: +44 20 7946 0958", "US", "+442079460958"),
        ("Phone: (415) 555-0134", "US", "+14155550134"),
        ("Tel. +49 30 901820", "US", "+4930901820"),
        ("Tel. 020 7946 0958", "GB", "+442079460958"),
        ("Mobile: 415.555.0134", "US", "+14155550134"),
    ],
)
def test_phone_numbers_are_e164(text, region, expected):
    result = _fields(text, default_region=region)
    assert result.values["phone"] == expected
    assert result.confidence["phone"] == 0.9


def test_dates_and_invalid_numbers_are_not_phones():
    text = "Experience\nAcme 2019-2021\nOrder 12345\nPhone: 555-0000"
    assert _fields(text).values["phone"] is None
    assert _fields(text).confidence["phone"] == 0.0


def test_links_are_normalised_deduplicated_and_ordered():
    text = (
        "jane@janedoe.dev\n"
        "linkedin.com/in/jane-doe, https://github.com/janedoe.\n"
        "Portfolio: www.janedoe.dev (see https://www.linkedin.com/in/jane-doe/)\n"
        "github.com/janedoe"
    )
    assert _fields(text).values["links"] == [
        "https://linkedin.com/in/jane-doe",
        "https://github.com/janedoe",
        "https://www.janedoe.dev",
    ]


def test_email_domain_is_not_a_link():
    assert _fields("jane@github.com\njane.doe@gmail.com").values["links"] == []


# -- name and location -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Zoë Ångström",
        "Anna-Maria van der Berg",
        "Seán O'Brien",
        "J. R. Tolkien",
        "John Q. Public",
        "jane doe",
    ],
)
def test_name_shapes(name):
    result = _fields(f"{name}\njane@example.com\n(415) 555-0134")
    assert result.values["name"] == name
    assert result.confidence["name"] == 0.8


def test_name_skips_document_labels_titles_and_contacts():
    text = "Curriculum Vitae\njane@example.com\nhttps://janedoe.dev\nSenior Software Engineer\n"
    result = _fields(text + "Jane Doe | Boston, MA\nExperience")
    assert result.values["name"] == "Jane Doe"
    assert 0 < result.confidence["name"] < 0.8


def test_labelled_name_wins():
    result = _fields("Resume\nSoftware Engineer\nName: Élodie Durand-Léger\nSkills\nPython")
    assert result.values["name"] == "Élodie Durand-Léger"
    assert result.confidence["name"] == 0.9


@pytest.mark.parametrize(
    "line", ["I use Python", "Software Engineer", "Machine Learning", "Curriculum Vitae", "Skills"]
)
def test_lines_that_are_not_names(line):
    assert _fields(f"{line}\njane@example.com").values["name"] is None


def test_no_name_when_nothing_name_shaped():
    result = _fields("jane@example.com\nSkills\nPython")
    assert result.values["name"] is None
    assert result.confidence["name"] == 0.0


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Jane Doe | San Francisco, CA 94105 | jane@example.com", "San Francisco, CA"),
        ("London, UK", "London, UK"),
        ("São Paulo, Brazil", "São Paulo, Brazil"),
        ("Location: Remote (EU time zones)", "Remote (EU time zones)"),
        ("Address: 10 Main Street, Springfield | +1 415 555 0134", "10 Main Street, Springfield"),
    ],
)
def test_location(line, expected):
    assert _fields(f"Jane Doe\n{line}\nExperience").values["location"] == expected


def test_location_is_not_taken_from_experience_lines():
    text = "Jane Doe\nExperience\nEngineer, Acme, Berlin, Germany  2019 - 2021"
    assert _fields(text).values["location"] is None


# -- skills ----------------------------------------------------------------------------


def test_skill_vocabulary_is_data():
    vocab = vocabulary()
    assert 140 <= len(vocab.canonical) <= 250
    for skill in ("Python", "C++", "C#", ".NET", "Node.js", "Go", "Project Management"):
        assert skill in vocab.canonical


def test_skills_with_symbols_and_word_boundaries():
    text = "Skills\nC++, C#, .NET and Node.js; JavaScript, TypeScript; golang; NodeJS"
    assert _fields(text).values["skills"] == [
        "C++", "C#", ".NET", "Node.js", "JavaScript", "TypeScript", "Go",
    ]  # fmt: skip


def test_skills_are_case_insensitive_and_canonical():
    text = "skills: PYTHON, postgresql, Machine\nlearning, project management, Amazon Web Services"
    assert _fields(text).values["skills"] == [
        "Python", "PostgreSQL", "Machine Learning", "Project Management", "AWS",
    ]  # fmt: skip


def test_everyday_words_are_not_skills():
    text = "Jane Doe\nI go the extra mile, excel at R&D, rest well and lead go-to-market work."
    assert _fields(text).values["skills"] == []


def test_skills_confidence_is_higher_inside_a_skills_section():
    inside = _fields("Skills\nPython").confidence["skills"]
    outside = _fields("I use Python").confidence["skills"]
    assert inside > outside > 0


def test_the_name_line_does_not_add_skills():
    assert _fields("Ruby Chen\nSkills\nSQL").values["skills"] == ["SQL"]


# -- sections and education --------------------------------------------------------------


@pytest.mark.parametrize(
    "title", ["Education", "EDUCATION", "education:", "Academic Background", "E D U C A T I O N"]
)
def test_education_section_titles(title):
    text = f"Jane Doe\n{title}\n• MSc Physics, ETH Zürich\n\nBSc Physics\nSkills\nPython"
    result = _fields(text)
    assert result.values["education"] == ["MSc Physics, ETH Zürich", "BSc Physics"]
    assert result.confidence["education"] == 0.8


def test_a_sentence_mentioning_education_is_not_a_title():
    text = "Jane Doe\nMy education was in physics\nMaster of Science, ETH"
    result = _fields(text)
    assert result.values["education"] == ["Master of Science, ETH"]
    assert result.confidence["education"] == 0.5


@pytest.mark.parametrize(
    "title",
    ["Experience", "Work Experience", "PROFESSIONAL EXPERIENCE", "EMPLOYMENT HISTORY",
     "work history:", "Career"],
)  # fmt: skip
def test_experience_section_titles(title):
    text = f"Jane Doe\n{title}\nEngineer, Acme Corp  2019 - 2021\nEducation\nBSc 2015 - 2019"
    result = _fields(text)
    assert result.values["experience"] == [
        {"employer": "Acme Corp", "title": "Engineer", "start": "2019", "end": "2021"}
    ]
    assert result.confidence["experience"] == 0.8
    assert result.values["years_experience"] == 2.0


# -- experience and years ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("dates", "start", "end", "years"),
    [
        ("Jan 2019 - Present", "2019-01", "present", 5.5),
        ("January 2019 – Mar 2021", "2019-01", "2021-03", 2.2),
        ("Sept. 2017 to Dec. 2018", "2017-09", "2018-12", 1.3),
        ("2019-2021", "2019", "2021", 2.0),
        ("2020 – 2024", "2020", "2024", 4.0),
        ("2019 – present", "2019", "present", 5.5),
        ("2019 - Mar 2021", "2019", "2021-03", 2.2),
        ("03/2018 - 06/2020", "2018-03", "2020-06", 2.3),
        ("2018.03 - 2020.06", "2018-03", "2020-06", 2.3),
        ("May 2020 — Current", "2020-05", "present", 4.2),
    ],
)
def test_date_range_styles(dates, start, end, years):
    result = _fields(f"Experience\nDeveloper, Initech\n{dates}")
    entry = result.values["experience"][0]
    assert (entry["start"], entry["end"]) == (start, end)
    assert result.values["years_experience"] == years


@pytest.mark.parametrize(
    ("line", "title", "employer"),
    [
        ("Senior Engineer, Acme Corp, San Francisco, CA", "Senior Engineer", "Acme Corp"),
        ("Software Engineer at Google", "Software Engineer", "Google"),
        ("Globex — Data Analyst", "Data Analyst", "Globex"),
        ("Product Manager | Initech | Berlin, Germany", "Product Manager", "Initech"),
        ("Lead Developer @ Hooli (Remote)", "Lead Developer", "Hooli"),
        # A location after either order, or between the employer and the title.
        ("Senior Software Engineer, Stripe — San Francisco, CA", "Senior Software Engineer",
         "Stripe"),
        ("Stripe — Senior Software Engineer — San Francisco, CA", "Senior Software Engineer",
         "Stripe"),
        ("Stripe, San Francisco, CA — Senior Software Engineer", "Senior Software Engineer",
         "Stripe"),
        ("Product Manager | HubSpot, Cambridge, MA", "Product Manager", "HubSpot"),
        ("Engineer, Acme Corp, CA", "Engineer", "Acme Corp"),  # a company, not a city
    ],
)  # fmt: skip
def test_title_and_employer_patterns(line, title, employer):
    for text in (f"{line}   Jan 2020 - Dec 2020", f"{line}\nJan 2020 - Dec 2020"):
        entry = _fields(f"Experience\n{text}").values["experience"][0]
        assert (entry["title"], entry["employer"]) == (title, employer)


def test_an_employer_line_keeps_no_city_and_a_place_line_is_no_role():
    text = "Experience\nHubSpot, Cambridge, MA\nProduct Manager\nBerlin, Germany\n2020 – 2024"
    assert _fields(text).values["experience"] == [
        {"employer": "HubSpot", "title": "Product Manager", "start": "2020", "end": "2024"}
    ]


def test_stacked_employer_and_title_lines():
    text = "Experience\nStark Industries\nResearch Scientist\n2015 - 2017\n- Built things"
    entry = _fields(text).values["experience"][0]
    assert (entry["title"], entry["employer"]) == ("Research Scientist", "Stark Industries")


def test_overlapping_ranges_are_counted_once():
    text = (
        "Experience\n"
        "Engineer, Acme  Jan 2015 - Dec 2018\n"
        "Consultant, Globex  Jun 2017 - Jun 2019\n"  # overlaps the first job
        "Teacher, School of Rock  Jan 2021 - Dec 2021\n"
    )
    result = _fields(text)
    assert len(result.values["experience"]) == 3
    assert result.values["years_experience"] == 5.5  # 2015-01..2019-06 plus 2021


def test_education_dates_do_not_count_as_experience():
    text = "Experience\nEngineer, Acme  2020 - 2022\nEducation\nBSc, MIT  2010 - 2014"
    assert _fields(text).values["years_experience"] == 2.0


def test_future_and_reversed_ranges_are_ignored():
    text = "Experience\nEngineer, Acme  2030 - 2032\nAnalyst, Globex  2021 - 2019"
    assert _fields(text).values["experience"] == []


def test_present_is_measured_to_today():
    text = "Experience\nEngineer, Acme  Jan 2020 - present"
    later = extract_fields(text, today=datetime.date(2025, 12, 31))
    assert later.values["years_experience"] == 6.0
    assert _fields(text).values["years_experience"] == 4.5


def test_years_phrase_when_no_ranges():
    result = _fields("Jane Doe\nData scientist with 7+ years of professional experience.")
    assert result.values["experience"] == []
    assert result.values["years_experience"] == 7.0
    assert result.confidence["years_experience"] == 0.6


def test_ranges_without_an_experience_title_are_still_found():
    result = _fields("Jane Doe\nAnalyst, Globex  2016 - 2019")
    assert result.values["experience"] == [
        {"employer": "Globex", "title": "Analyst", "start": "2016", "end": "2019"}
    ]
    assert result.confidence["experience"] == 0.5


# -- shapes found in the labelled corpus (tests/corpus) ----------------------------------


def test_date_ranges_are_not_phone_numbers_even_before_the_real_one():
    # A DOCX page header is read after the body: the dates come first.
    text = "Employment\n09/2019 — 11/2023 | Developer | Initech\nJane Doe\nPhone: +1.201.555.7657"
    result = _fields(text)
    assert result.values["phone"] == "+12015557657"
    assert result.confidence["phone"] == 0.9


def test_phone_number_wrapped_by_a_narrow_column():
    result = _fields("Jane Doe\nMobile: +61 (0)412 347\n081 · jane@example.org")
    assert result.values["phone"] == "+61412347081"
    assert 0 < result.confidence["phone"] < 0.9


def test_bare_personal_site_is_a_link_but_a_dotted_skill_is_not():
    text = "Jane Doe\njane-doe.dev | jane@doe.io\nSkills\nASP.NET, Node.js, Vue.js"
    assert _fields(text).values["links"] == ["https://jane-doe.dev"]


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("Dr. Ana García", "Ana García"),
        ("Liam Kim, PhD", "Liam Kim"),
        ("Björn D. Dubois (she/her)", "Björn D. Dubois"),
        ("Fatima C. van der Berg", "Fatima C. van der Berg"),
        ("M. N. DE LA CRUZ", "M. N. de la Cruz"),
        ("MARÍA JOSÉ GARCÍA", "María José García"),
        ("KENJI O'BRIEN", "Kenji O'Brien"),
        ("JEAN-LUC MOREAU", "Jean-Luc Moreau"),
        ("# Mia Patel", "Mia Patel"),
    ],
)
def test_name_decorations_are_left_out_and_capitals_are_name_cased(line, name):
    assert _fields(f"{line}\njane@example.com").values["name"] == name


def test_name_and_location_beside_the_email_when_the_contact_block_comes_last():
    text = (
        "Experience\nEngineer, Acme  2019 - 2021\nEducation\nBSc, Jagiellonian University\n"
        "Kenji O'Brien\nkenji@example.org | Austin, Texas"
    )
    result = _fields(text)
    assert result.values["name"] == "Kenji O'Brien"
    assert result.confidence["name"] == 0.6
    assert result.values["location"] == "Austin, Texas"


def test_places_and_organisations_are_not_names():
    text = "Mexico City, Mexico\nJagiellonian University\nMia Novák\nmia@example.org"
    assert _fields(text).values["name"] == "Mia Novák"


def test_labelled_location_inside_a_contact_line():
    text = "Jane Doe\nE-mail: jane@example.org | Location: Zürich, Switzerland | github.com/jd"
    assert _fields(text).values["location"] == "Zürich, Switzerland"


def test_the_last_word_decides_title_or_employer():
    text = "Experience\nHalcyon Software\nSenior Software Engineer\n2023.06 to present"
    entry = _fields(text).values["experience"][0]
    assert (entry["title"], entry["employer"]) == ("Senior Software Engineer", "Halcyon Software")


def test_dates_above_the_role_in_every_entry():
    text = (
        "Experience\nSeptember 2020 - present\nStaff Engineer\nMassive Dynamic\n"
        "July 2016 to August 2020\nData Scientist\nInitech\nEducation\nBSc Physics"
    )
    assert [(e["title"], e["employer"]) for e in _fields(text).values["experience"]] == [
        ("Staff Engineer", "Massive Dynamic"),
        ("Data Scientist", "Initech"),
    ]


def test_a_wrapped_date_range_is_joined():
    text = (
        "Experience\nEngineer | Wonka Industries | Apr 2020 – Apr\n2022\n"
        "QA | Initech | Dec 2023 -\nCurrent"
    )
    entries = _fields(text).values["experience"]
    assert [(e["start"], e["end"]) for e in entries] == [
        ("2020-04", "2022-04"),
        ("2023-12", "present"),
    ]


def test_pdf_bullets_and_contact_lines_are_not_roles():
    # "\x7f" is how reportlab's standard-font bullet comes out of pypdf.
    text = (
        "Experience\nEngineer, Acme  2019 - 2021\n\x7f Built Python services\n"
        "jane@example.org\n2016 - 2018"
    )
    entries = _fields(text).values["experience"]
    assert entries[1] == {"employer": None, "title": None, "start": "2016", "end": "2018"}


def test_education_entries_span_lines_and_skip_page_furniture():
    text = (
        "Jane Doe\nEducation\nMSc Mathematics\nETH Zürich\n2015 - 2016\n"
        "Bachelor of Science in Information\nSystems, Jagiellonian University, 2012\n"
        "B.Eng. Mechanical Engineering, Technische\nUniversität München, 2010\n"
        "Jane Doe · CV\nPage 1 of 2\nMBA\nINSEAD\n2009"
    )
    assert _fields(text).values["education"] == [
        "MSc Mathematics, ETH Zürich, 2015 - 2016",
        "Bachelor of Science in Information Systems, Jagiellonian University, 2012",
        "B.Eng. Mechanical Engineering, Technische Universität München, 2010",
        "MBA, INSEAD, 2009",
    ]


@pytest.mark.parametrize("title", ["Toolbox", "Where I've Worked", "SKILLS & TOOLS"])
def test_more_section_titles(title):
    assert section_name(title) is not None


def test_a_name_repeated_in_page_headers_adds_no_skills():
    text = "J. R. Smith\nj@example.org\nSkills\nSQL\nJ. R. Smith · CV\nPage 2"
    assert _fields(text).values["skills"] == ["SQL"]
