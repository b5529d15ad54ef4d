"""`flask --app talaro resumes reparse`: stored resumes re-extracted, corrections kept."""

from __future__ import annotations

import io
from pathlib import Path

from talaro import telemetry
from talaro.extensions import db
from talaro.models import Resume, Role
from tests.corpus.generate import generate
from tests.factories import ApiClient, resume_text
from tests.telemetry import otlp_json

# What an older, weaker parser had stored for a resume.
STALE = {
    "name": None,
    "email": None,
    "phone": None,
    "links": [],
    "location": None,
    "skills": [],
    "education": [],
    "experience": [],
    "years_experience": None,
}


def upload(client: ApiClient, data: bytes, filename: str) -> dict:
    response = client.post(
        "/api/resumes",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    return response.json


def make_stale(app, resume_id: str, **changes) -> None:
    with app.app_context():
        resume = db.session.get(Resume, resume_id)
        resume.extracted_fields = {**STALE, **changes}
        resume.confidence = dict.fromkeys(STALE, 0.0)
        resume.search_text = ""
        db.session.commit()


def reparse_events(app) -> list[otlp_json.LogRecord]:
    telemetry.flush(app)
    path = Path(app.config["TALARO_TELEMETRY_DIR"]) / "application.jsonl"
    return [r for r in otlp_json.log_records(path) if r.event_name == "resume_reparse"]


def test_reparse_all_updates_stale_fields_and_keeps_corrections(app, as_role) -> None:
    recruiter = as_role(Role.RECRUITER)
    sample = next(s for s in generate(3, seed=7) if s.layout.startswith("pdf"))
    truth = sample.truth
    created = upload(recruiter, sample.data, sample.filename)
    other = upload(recruiter, resume_text("Kofi Mensah", "kofi@example.org").encode(), "k.txt")
    corrected = recruiter.patch(
        f"/api/resumes/{created['id']}",
        json={"fields": {"name": "Corrected Name", "skills": ["COBOL"]}},
    )
    assert corrected.status_code == 200, corrected.json
    make_stale(app, created["id"], name="Wrong Name")
    make_stale(app, other["id"])
    stale = recruiter.get(f"/api/resumes/{created['id']}").json
    assert stale["fields"]["email"] is None and stale["fields"]["name"] == "Corrected Name"
    assert recruiter.get(f"/api/resumes?q={truth['email']}").json["total"] == 0

    result = app.test_cli_runner().invoke(args=["resumes", "reparse", "--all"])

    assert result.exit_code == 0, result.output
    assert "Re-parsed 2 resumes: 2 updated, 0 unchanged, 0 failed" in result.output
    assert "2 corrected fields kept" in result.output
    body = recruiter.get(f"/api/resumes/{created['id']}").json
    fields = body["fields"]
    assert fields["name"] == "Corrected Name"  # the person's correction wins
    assert fields["skills"] == ["COBOL"]
    assert body["corrected_fields"] == ["name", "skills"]
    assert fields["email"] == truth["email"]  # re-extracted from the stored PDF
    assert fields["phone"] == truth["phone"]
    assert body["confidence"]["email"] > 0.9
    assert recruiter.get(f"/api/resumes?q={truth['email']}").json["total"] == 1
    assert recruiter.get("/api/resumes?q=cobol").json["total"] == 1  # correction searchable
    assert recruiter.get(f"/api/resumes/{other['id']}").json["fields"]["name"] == "Kofi Mensah"
    with app.app_context():  # the parser's own value is kept apart from the correction
        resume = db.session.get(Resume, created["id"])
        assert resume.extracted_fields["name"].casefold() == truth["name"].casefold()
        assert resume.corrections["name"] == "Corrected Name"

    (event,) = reparse_events(app)
    attrs = event.attributes
    assert event.attributes["talaro.stream"] == "application"
    assert attrs["event.outcome"] == "success"
    assert (attrs["talaro.resume_count"], attrs["talaro.updated_count"]) == (2, 2)
    assert (attrs["talaro.failed_count"], attrs["talaro.missing_count"]) == (0, 0)
    assert attrs["talaro.all"] is True and attrs["talaro.via"] == "cli"
    recorded = repr(event.attributes) + repr(event.body)
    for personal in (truth["email"], truth["name"], "Corrected Name", "kofi@example.org"):
        assert personal not in recorded


def test_reparse_keeps_corrected_experience_and_education(app, as_role) -> None:
    recruiter = as_role(Role.RECRUITER)
    created = upload(recruiter, resume_text("Ida Row", "ida.row@example.org").encode(), "i.txt")
    experience = [{"title": "Staff Engineer", "employer": "Stripe", "start": "2020", "end": "2024"}]
    corrected = recruiter.patch(
        f"/api/resumes/{created['id']}",
        json={"fields": {"experience": experience, "education": ["PhD, MIT, 2019"]}},
    )
    assert corrected.status_code == 200, corrected.json
    make_stale(app, created["id"])

    result = app.test_cli_runner().invoke(args=["resumes", "reparse", created["id"]])

    assert result.exit_code == 0, result.output
    body = recruiter.get(f"/api/resumes/{created['id']}").json
    assert body["fields"]["experience"] == experience
    assert body["fields"]["education"] == ["PhD, MIT, 2019"]
    assert body["corrected_fields"] == ["education", "experience"]
    with app.app_context():  # the parser's own values are back, kept apart
        extracted = db.session.get(Resume, created["id"]).extracted_fields
        assert extracted["experience"][0]["employer"] == "Acme Corp"


def test_reparse_by_id_reports_unchanged_missing_and_unreadable(app, as_role) -> None:
    recruiter = as_role(Role.RECRUITER)
    good = upload(recruiter, resume_text("Sara Berg", "sara@example.org").encode(), "s.txt")
    broken = upload(recruiter, resume_text("Tom Ito", "tom@example.org").encode(), "t.txt")
    with app.app_context():  # a file an older, laxer upload check let in
        resume = db.session.get(Resume, broken["id"])
        resume.content, resume.content_type = b"\xff\xfe\x00garbage\xff", "text/plain"
        db.session.commit()
    runner = app.test_cli_runner()

    result = runner.invoke(args=["resumes", "reparse", good["id"], broken["id"], "nope"])

    assert result.exit_code == 1
    assert "Re-parsed 2 resumes: 0 updated, 1 unchanged, 1 failed" in result.output
    assert f"Could not read: {broken['id']}" in result.output
    assert "No such resume: nope" in result.output
    kept = recruiter.get(f"/api/resumes/{broken['id']}").json
    assert kept["fields"]["email"] == "tom@example.org"  # left as it was
    (event,) = reparse_events(app)
    assert event.attributes["talaro.failed_count"] == 1
    assert event.attributes["talaro.missing_count"] == 1
    assert event.attributes["talaro.all"] is False

    from_text = runner.invoke(args=["resumes", "reparse", "--from-text", broken["id"]])
    assert from_text.exit_code == 0, from_text.output
    assert "1 unchanged, 0 failed" in from_text.output


def test_reparse_needs_ids_or_all(app) -> None:
    runner = app.test_cli_runner()
    nothing = runner.invoke(args=["resumes", "reparse"])
    assert nothing.exit_code == 2 and "either --all or one or more" in nothing.output
    both = runner.invoke(args=["resumes", "reparse", "--all", "abc"])
    assert both.exit_code == 2
    assert reparse_events(app) == []
