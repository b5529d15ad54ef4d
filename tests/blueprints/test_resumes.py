"""Resume upload, extraction, candidates, search, corrections and deletion through the API."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from talaro import telemetry
from talaro.extensions import db
from talaro.models import Candidate, Resume, Role
from talaro.services.ingestion import clean_filename
from tests.documents import docx_bytes, pdf_bytes
from tests.factories import ApiClient, resume_text
from tests.hostile.files import billion_laughs_docx, elf_renamed_pdf, truncated_pdf
from tests.telemetry import otlp_json


def upload(client: ApiClient, data: bytes | str, filename: str = "cv.txt", **form: str):
    raw = data.encode() if isinstance(data, str) else data
    return client.post(
        "/api/resumes",
        data={"file": (io.BytesIO(raw), filename), **form},
        content_type="multipart/form-data",
    )


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_pdf_upload_extracts_text_and_fields_and_creates_candidate(as_role, app) -> None:
    recruiter = as_role(Role.RECRUITER)
    pdf = pdf_bytes(
        [
            [
                "Maria Lopez-Garcia",
                "maria.lopez@example.org",
                "+44 20 7946 0958",
                "London, UK",
                "Experience",
                "Data Engineer, Initech",
                "Jan 2019 - Present",
                "Skills",
                "Python, SQL, Kubernetes",
            ]
        ]
    )
    response = upload(recruiter, pdf, "maria.pdf")
    assert response.status_code == 201, response.json
    body = response.json
    assert body["content_type"] == "application/pdf"
    assert body["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert body["size"] == len(pdf)
    assert body["filename"] == "maria.pdf"
    assert body["uploaded_by_id"] == recruiter.user.id
    fields = body["fields"]
    assert fields["email"] == "maria.lopez@example.org"
    assert fields["phone"] == "+442079460958"
    assert fields["name"] == "Maria Lopez-Garcia"
    assert {"Python", "SQL", "Kubernetes"} <= set(fields["skills"])
    assert 0 < body["confidence"]["email"] <= 1
    assert body["candidate"]["id"] == body["candidate_id"]
    candidate = recruiter.get(f"/api/candidates/{body['candidate_id']}").json
    assert candidate["email"] == "maria.lopez@example.org"
    assert [r["id"] for r in candidate["resumes"]] == [body["id"]]


def test_docx_upload_reads_paragraphs_and_tables(as_role) -> None:
    manager = as_role(Role.HIRING_MANAGER)
    document = docx_bytes(
        ["Jonas Weber", "jonas.weber@example.org", "Skills"],
        table=[["Go", "Docker"], ["PostgreSQL", "Terraform"]],
    )
    response = upload(manager, document, "jonas.docx")
    assert response.status_code == 201, response.json
    assert response.json["content_type"].endswith("wordprocessingml.document")
    assert {"Docker", "PostgreSQL"} <= set(response.json["fields"]["skills"])


def test_type_is_decided_from_bytes_not_name(as_role) -> None:
    recruiter = as_role(Role.RECRUITER)
    pdf = pdf_bytes([["Ana Silva", "ana@example.org"]])
    response = upload(recruiter, pdf, "actually-a-pdf.txt")
    assert response.status_code == 201
    assert response.json["content_type"] == "application/pdf"
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    refused = upload(recruiter, png, "photo.pdf")
    assert refused.status_code == 415
    assert refused.json["error"]["code"] == "unsupported_file_type"


def test_same_person_twice_is_one_candidate_and_same_file_is_a_duplicate(as_role, app) -> None:
    recruiter = as_role(Role.RECRUITER)
    first = upload(recruiter, resume_text("Li Wei", "li.wei@example.org", skills="Rust"))
    second = upload(recruiter, resume_text("Li Wei", "LI.WEI@example.org", skills="Go, Java"))
    assert first.status_code == second.status_code == 201
    assert first.json["candidate_id"] == second.json["candidate_id"]
    duplicate = upload(recruiter, resume_text("Li Wei", "li.wei@example.org", skills="Rust"))
    assert duplicate.status_code == 409
    assert duplicate.json["error"]["details"]["id"] == first.json["id"]
    assert count(app, Resume) == 2
    assert count(app, Candidate) == 1


def test_candidate_matched_by_phone_when_no_email(as_role) -> None:
    recruiter = as_role(Role.RECRUITER)
    a = upload(recruiter, "Ravi Kumar\n+1 (415) 555-0199\nSkills\nPython\n")
    b = upload(recruiter, "Ravi Kumar\n415 555 0199\nSkills\nJava, SQL\n")
    assert a.status_code == b.status_code == 201
    assert a.json["fields"]["phone"] == "+14155550199"
    assert a.json["candidate_id"] == b.json["candidate_id"]


def test_bulk_upload_returns_one_result_per_file_in_order(as_role, app) -> None:
    recruiter = as_role(Role.RECRUITER)
    good = resume_text("Ayo Bello", "ayo@example.org")
    files = [
        (io.BytesIO(good.encode()), "ayo.txt"),
        (io.BytesIO(b"\x7fELF\x02\x01\x01" + b"\x00" * 200), "evil.pdf"),
        (io.BytesIO(good.encode()), "ayo-again.txt"),
        (io.BytesIO(resume_text("Eun Ji", "eunji@example.org").encode()), "eunji.txt"),
        (io.BytesIO(b""), "empty.txt"),
    ]
    response = recruiter.post(
        "/api/resumes/bulk", data={"files": files}, content_type="multipart/form-data"
    )
    assert response.status_code == 200, response.json
    results = response.json["results"]
    assert [r["filename"] for r in results] == [
        "ayo.txt",
        "evil.pdf",
        "ayo-again.txt",
        "eunji.txt",
        "empty.txt",
    ]
    assert [r["status"] for r in results] == ["created", "failed", "duplicate", "created", "failed"]
    assert results[2]["id"] == results[0]["id"]
    assert results[1]["error"] and results[4]["error"] == "File is empty"
    assert response.json["success_count"] == 2
    assert response.json["failed_count"] == 3
    assert count(app, Resume) == 2


def test_oversized_file_in_bulk_fails_alone(as_role, app) -> None:
    recruiter = as_role(Role.RECRUITER)
    limit = app.config["TALARO_MAX_FILE_SIZE"]
    files = [
        (io.BytesIO(b"a" * (limit + 1)), "huge.txt"),
        (io.BytesIO(resume_text("Ok Person", "ok@example.org").encode()), "ok.txt"),
    ]
    response = recruiter.post(
        "/api/resumes/bulk", data={"files": files}, content_type="multipart/form-data"
    )
    assert [r["status"] for r in response.json["results"]] == ["failed", "created"]
    assert "limit" in response.json["results"][0]["error"]


def test_search_by_text_and_fields_with_pagination(as_role) -> None:
    recruiter = as_role(Role.RECRUITER)
    upload(recruiter, resume_text("Kofi Mensah", "kofi@example.org", skills="Haskell, Elixir"))
    upload(recruiter, resume_text("Sara Berg", "sara@example.org", skills="Python"))
    upload(recruiter, resume_text("Tom Ito", "tom@example.org", skills="Python, Go"))
    hits = recruiter.get("/api/resumes?q=haskell").json
    assert hits["total"] == 1
    assert hits["items"][0]["fields"]["name"] == "Kofi Mensah"
    python = recruiter.get("/api/resumes?q=python&per_page=1&page=2").json
    assert python["total"] == 2 and python["page"] == 2 and len(python["items"]) == 1
    assert recruiter.get("/api/resumes?q=100%25").json["total"] == 0  # LIKE wildcards escaped


def test_corrections_are_shown_kept_apart_and_searchable(as_role) -> None:
    recruiter = as_role(Role.RECRUITER)
    created = upload(recruiter, resume_text("Jon Smyth", "jon@example.org")).json
    response = recruiter.patch(
        f"/api/resumes/{created['id']}",
        json={"fields": {"name": "Jon Smith", "phone": "(415) 555-0111", "skills": ["COBOL"]}},
    )
    assert response.status_code == 200, response.json
    assert response.json["fields"]["name"] == "Jon Smith"
    assert response.json["fields"]["phone"] == "+14155550111"
    assert response.json["fields"]["email"] == "jon@example.org"  # untouched extraction
    assert response.json["corrected_fields"] == ["name", "phone", "skills"]
    assert recruiter.get("/api/resumes?q=cobol").json["total"] == 1
    candidate = recruiter.get(f"/api/candidates/{created['candidate_id']}").json
    assert candidate["name"] == "Jon Smith"


def test_experience_and_education_corrections_replace_the_lists(as_role) -> None:
    recruiter = as_role(Role.RECRUITER)
    created = upload(recruiter, resume_text("Jon Smyth", "jon.exp@example.org")).json
    experience = [
        {"title": "Senior Software Engineer", "employer": "Stripe", "start": "2020", "end": "2024"},
        {"title": "Engineer", "employer": "HubSpot", "start": "2017-09", "end": "present"},
        {"employer": "Initech"},  # the missing keys come back as null
    ]
    education = ["BSc Computer Science, State University, 2016"]
    response = recruiter.patch(
        f"/api/resumes/{created['id']}",
        json={"fields": {"experience": experience, "education": education}},
    )
    assert response.status_code == 200, response.json
    fields = response.json["fields"]
    assert fields["experience"] == [
        *experience[:2],
        {"title": None, "employer": "Initech", "start": None, "end": None},
    ]
    assert fields["education"] == education
    assert response.json["corrected_fields"] == ["education", "experience"]
    assert recruiter.get("/api/resumes?q=hubspot").json["total"] == 1


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"experience": [{"title": "Engineer", "start": "2020-13"}]}, ("experience", "0", "start")),
        ({"experience": [{"title": "E", "start": "Jan 2020"}]}, ("experience", "0", "start")),
        ({"experience": [{"title": "Engineer", "start": "present"}]}, ("experience", "0", "start")),
        ({"experience": [{"title": "E", "start": "2021-05", "end": "2021-02"}]},
         ("experience", "0", "end")),
        ({"experience": [{"title": "E", "start": "2021", "end": "2020-12"}]},
         ("experience", "0", "end")),
        ({"experience": [{"start": "2020"}]}, ("experience", "0", "title")),
        ({"experience": [{"title": "E" * 201}]}, ("experience", "0", "title")),
        ({"experience": [{"title": "Engineer"}] * 51}, ("experience",)),
        ({"education": ["BSc"] * 21}, ("education",)),
        ({"education": [""]}, ("education", "0")),
        ({"education": ["x" * 501]}, ("education", "0")),
    ],
)  # fmt: skip
def test_bad_experience_or_education_is_a_422_and_nothing_is_saved(as_role, fields, where):
    recruiter = as_role(Role.RECRUITER)
    created = upload(recruiter, resume_text("Ann Exact", "ann.exact@example.org")).json
    response = recruiter.patch(f"/api/resumes/{created['id']}", json={"fields": fields})
    assert response.status_code == 422, response.json
    messages = response.json["error"]["details"]["fields"]["fields"]
    for key in where:
        messages = messages[key]
    assert messages
    after = recruiter.get(f"/api/resumes/{created['id']}").json
    assert after["corrected_fields"] == []
    assert after["fields"]["experience"] == created["fields"]["experience"]


def test_original_file_is_downloadable(as_role) -> None:
    recruiter = as_role(Role.RECRUITER)
    pdf = pdf_bytes([["Original File", "orig@example.org"]])
    created = upload(recruiter, pdf, "original.pdf").json
    response = recruiter.get(f"/api/resumes/{created['id']}/file")
    assert response.status_code == 200
    assert response.data == pdf
    assert response.mimetype == "application/pdf"
    assert "original.pdf" in response.headers["Content-Disposition"]


def test_delete_removes_resume_and_orphaned_candidate(as_role, app) -> None:
    recruiter = as_role(Role.RECRUITER)
    created = upload(recruiter, resume_text("Gone Soon", "gone@example.org")).json
    assert recruiter.delete(f"/api/resumes/{created['id']}").status_code == 204
    assert recruiter.get(f"/api/resumes/{created['id']}").status_code == 404
    assert count(app, Candidate) == 0


def test_unknown_job_on_upload_is_422_and_stores_nothing(as_role, app) -> None:
    recruiter = as_role(Role.RECRUITER)
    response = upload(recruiter, resume_text("A B", "ab@example.org"), job_id="nope")
    assert response.status_code == 422
    assert count(app, Resume) == 0 and count(app, Candidate) == 0


def test_file_names_are_cleaned(as_role) -> None:
    recruiter = as_role(Role.RECRUITER)
    text = resume_text("Path Name", "p@example.org")
    response = upload(recruiter, text, "../../etc/pa\tss\u202e.txt")
    assert response.status_code == 201
    assert response.json["filename"] == "pass.txt"


def test_clean_filename_drops_line_breaks_and_caps_length() -> None:
    assert clean_filename("a\r\nb.pdf") == "ab.pdf"
    assert clean_filename("..") == "resume"
    assert clean_filename("C:\\Users\\me\\cv.txt") == "cv.txt"
    assert len(clean_filename("é" * 1000 + ".pdf")) == 255


def security_events(app, name: str) -> list:
    telemetry.flush(app)
    path = Path(app.config["TALARO_TELEMETRY_DIR"]) / "security.jsonl"
    return [r for r in otlp_json.log_records(path) if r.event_name == name]


def bulk(client: ApiClient, files: list[tuple[bytes, str]]):
    return client.post(
        "/api/resumes/bulk",
        data={"files": [(io.BytesIO(data), name) for data, name in files]},
        content_type="multipart/form-data",
    )


def test_bulk_mix_of_good_duplicate_and_hostile_files_stores_exactly_the_good(as_role, app):
    recruiter = as_role(Role.RECRUITER)
    stored_before = pdf_bytes([["Ama Owusu", "ama@example.org", "Skills", "Go"]])
    assert upload(recruiter, stored_before, "ama.pdf").status_code == 201
    good_pdf = pdf_bytes([["Bea Novak", "bea@example.org", "Skills", "Rust"]])
    good_docx = docx_bytes(["Chen Hao", "chen.hao@example.org", "Skills", "Java"])
    good_text = resume_text("Dara Kim", "dara@example.org").encode()
    files = [
        (good_pdf, "bea.pdf"),
        (billion_laughs_docx(), "laughs.docx"),
        (good_docx, "chen.docx"),
        (good_pdf, "bea-again.pdf"),  # the same bytes earlier in this request
        (stored_before, "ama-again.pdf"),  # stored by an earlier request
        (elf_renamed_pdf(), "../tool.pdf"),
        (truncated_pdf(), "cut.pdf"),
        (b"", "empty.txt"),
        (good_text, "dara.txt"),
        (billion_laughs_docx(), "laughs-again.docx"),
    ]
    response = bulk(recruiter, files)
    assert response.status_code == 200, response.json
    results = response.json["results"]
    assert [(r["filename"], r["status"]) for r in results] == [
        ("bea.pdf", "created"),
        ("laughs.docx", "failed"),
        ("chen.docx", "created"),
        ("bea-again.pdf", "duplicate"),
        ("ama-again.pdf", "duplicate"),
        ("tool.pdf", "failed"),
        ("cut.pdf", "failed"),
        ("empty.txt", "failed"),
        ("dara.txt", "created"),
        ("laughs-again.docx", "failed"),
    ]
    assert results[3]["id"] == results[0]["id"]
    assert "DTD" in results[1]["error"] and results[9]["error"] == results[1]["error"]
    assert "ELF executable" in results[5]["error"]
    assert results[6]["error"] == "PDF is corrupt or truncated"
    assert response.json["success_count"] == 3 and response.json["failed_count"] == 7
    created = {r["id"] for r in results if r["status"] == "created"}
    listed = recruiter.get("/api/resumes?per_page=50").json["items"]
    assert {item["id"] for item in listed} == created | {results[4]["id"]}
    assert {item["fields"]["email"] for item in listed if item["id"] in created} == {
        "bea@example.org",
        "chen.hao@example.org",
        "dara@example.org",
    }
    assert count(app, Resume) == 4 and count(app, Candidate) == 4
    checks = [r.attributes["talaro.check"] for r in security_events(app, "upload_validation")]
    assert sorted(checks) == ["corrupt", "empty", "type", "xml_entities"]


def test_bulk_over_the_file_count_is_refused_with_an_event(as_role, app):
    recruiter = as_role(Role.RECRUITER)
    limit = app.config["TALARO_MAX_BULK_FILES"]
    files = [(resume_text(f"P{n}", f"p{n}@example.org").encode(), f"{n}.txt") for n in range(11)]
    response = bulk(recruiter, files[: limit + 1])
    assert response.status_code == 422
    assert response.json["error"]["code"] == "too_many_files"
    assert f"At most {limit} files" in response.json["error"]["message"]
    [event] = security_events(app, "upload_validation")
    assert event.attributes["talaro.check"] == "bulk_count"
    assert count(app, Resume) == 0


def test_bulk_over_the_total_size_is_413_with_an_event_and_stores_nothing(as_role, app):
    recruiter = as_role(Role.RECRUITER)
    app.config["TALARO_MAX_BULK_BYTES"] = 2 * 1024 * 1024
    files = [(b"%d " % n + b"resume text " * 38_000, f"{n}.txt") for n in range(5)]
    response = bulk(recruiter, files)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "bulk_too_large"
    assert "2 MiB bulk limit" in response.json["error"]["message"]
    [event] = security_events(app, "upload_validation")
    assert event.attributes["talaro.check"] == "bulk_size"
    assert event.attributes["file.size"] == sum(len(data) for data, _ in files)
    assert count(app, Resume) == 0
    assert bulk(recruiter, files[:1]).json["results"][0]["status"] == "created"
