"""The resume page's correction form for experience and education, and phone display,
with Flask's test client."""

from __future__ import annotations

import html
import re

from flask.testing import FlaskClient

from talaro.models import Role
from tests import factories


def sign_in(client: FlaskClient, email: str) -> None:
    response = client.post(
        "/login",
        data={"email": email, "password": factories.PASSWORD, "csrf_token": csrf(client, "/login")},
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page)[1]


def form_of(page: str) -> dict[str, str]:
    """The correction form's values as the browser would post them unchanged, with the
    CSRF token."""
    form = page[page.index('id="correct-heading"') :]
    values = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form)[1]}
    values |= {
        name: html.unescape(value)
        for name, value in re.findall(
            r'<input id="f-[^"]+" name="([^"]+)" type="[^"]+" value="([^"]*)"', form
        )
    }
    for name, text in re.findall(
        r'<textarea id="f-[^"]+" name="([^"]+)"[^>]*>([^<]*)</textarea>', form
    ):
        values[name] = html.unescape(text)
    return values


def test_experience_and_education_are_corrected_on_the_page(
    client: FlaskClient, make: factories.Factory
) -> None:
    recruiter = make.user(Role.RECRUITER)
    resume = make.resume(recruiter, name="Ada Lovelace")
    sign_in(client, recruiter.email)
    page = client.get(f"/resumes/{resume.id}").get_data(as_text=True)
    values = form_of(page)
    # The extracted job in the first group, two empty groups to add jobs.
    assert values["experience-0-employer"] == "Acme Corp"
    assert values["experience-0-start"] == "2018-01"
    assert values["experience-2-title"] == ""
    assert "experience-3-title" not in values
    assert values["education"] == "BSc Computer Science, State University"

    unchanged = client.post(f"/resumes/{resume.id}/fields", data=values)
    assert unchanged.status_code == 302
    assert "Nothing changed." in client.get(unchanged.location).get_data(as_text=True)

    values.update(
        {
            "experience-0-employer": "",  # the first job removed
            "experience-0-title": "",
            "experience-0-start": "",
            "experience-0-end": "",
            "experience-1-title": "Senior Software Engineer",
            "experience-1-employer": "Stripe",
            "experience-1-start": "2020",
            "experience-1-end": "2024",
            "education": "PhD Mathematics, ETH Zürich, 2019\n\nBSc Physics, MIT, 2014\n",
        }
    )
    saved = client.post(f"/resumes/{resume.id}/fields", data=values)
    assert saved.status_code == 302
    page = client.get(saved.location).get_data(as_text=True)
    assert "Corrected education, experience." in page
    assert "Senior Software Engineer, Stripe" in page and "(2020 – 2024)" in page
    assert "Acme Corp" not in page
    assert form_of(page)["education"] == "PhD Mathematics, ETH Zürich, 2019\nBSc Physics, MIT, 2014"


def test_a_bad_job_date_is_shown_on_its_input_and_nothing_is_saved(
    client: FlaskClient, make: factories.Factory
) -> None:
    recruiter = make.user(Role.RECRUITER)
    resume = make.resume(recruiter)
    sign_in(client, recruiter.email)
    values = form_of(client.get(f"/resumes/{resume.id}").get_data(as_text=True))
    values.update({"experience-2-title": "Engineer", "experience-2-start": "Jan 2020"})
    values.update({"experience-0-end": "2017-05"})  # before its start, 2018-01
    response = client.post(f"/resumes/{resume.id}/fields", data=values)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="f-experience-2-start-error">Use YYYY-MM or YYYY<', body)
    assert re.search(r'id="f-experience-0-end-error">The end is before the start.<', body)
    assert 'value="Jan 2020"' in body  # what was typed is shown again
    assert "Corrected" not in client.get(f"/resumes/{resume.id}").get_data(as_text=True)


def test_phones_are_shown_in_international_format(
    client: FlaskClient, make: factories.Factory
) -> None:
    recruiter = make.user(Role.RECRUITER)
    resume = make.resume(recruiter)
    sign_in(client, recruiter.email)
    number = resume.fields["phone"]  # stored as E.164, "+1415555…"
    shown = f"+1 415-555-{number[-4:]}"
    page = client.get(f"/resumes/{resume.id}").get_data(as_text=True)
    assert re.search(rf'id="field-phone">.*?{re.escape(shown)}', page, re.S)
    assert f'value="{shown}"' not in page  # the form keeps the stored value to edit
    assert shown in client.get(f"/candidates/{resume.candidate_id}").get_data(as_text=True)
    assert shown in client.get("/candidates").get_data(as_text=True)
