"""Every hostile file through POST /api/resumes: a clear 4xx, an `upload_validation` event
naming the failed check, nothing stored, and the next normal upload still works."""

from __future__ import annotations

import io
import time
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from talaro.extensions import db
from talaro.models import Candidate, Resume, Role
from tests.documents import docx_bytes, pdf_bytes
from tests.hostile.files import HOSTILE, XXE_TARGET, Hostile, operator_flood_pdf

# The pool's per-task timeout (3 s here) plus worker replacement, with room to spare.
BOUNDED_S = 20


def upload(client, data: bytes, filename: str):
    return client.post(
        "/api/resumes",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def stored(app) -> tuple[int, int]:
    with app.app_context():
        resumes = db.session.scalar(select(func.count()).select_from(Resume))
        candidates = db.session.scalar(select(func.count()).select_from(Candidate))
    return resumes, candidates


def answers_normal_uploads(client, tag: str) -> None:
    pdf = pdf_bytes([[f"Next Person{tag}", f"next.{tag}@example.org", "Skills", "Python"]])
    first = upload(client, pdf, "next.pdf")
    assert first.status_code == 201, first.json
    assert first.json["fields"]["email"] == f"next.{tag}@example.org"
    document = docx_bytes([f"Other Person{tag}", f"other.{tag}@example.org"])
    second = upload(client, document, "next.docx")
    assert second.status_code == 201, second.json


@pytest.mark.parametrize("hostile", HOSTILE, ids=[h.name for h in HOSTILE])
def test_hostile_file_is_refused_cleanly(hostile: Hostile, as_role, app, security_records):
    recruiter = as_role(Role.RECRUITER)
    started = time.monotonic()
    response = upload(recruiter, hostile.build(), hostile.filename)
    assert time.monotonic() - started < BOUNDED_S
    assert response.status_code == hostile.status, response.json
    message = response.json["error"]["message"]
    assert hostile.reason.lower() in message.lower()

    records = security_records("upload_validation")
    assert len(records) == 1
    assert records[0].attributes["talaro.check"] in hostile.checks
    assert "file.name" not in records[0].attributes  # it usually names the candidate
    assert records[0].attributes["reason"] == message
    assert stored(app) == (0, 0)

    answers_normal_uploads(recruiter, hostile.name.replace("_", ""))
    assert stored(app) == (2, 2)


def test_external_entity_never_reaches_text_even_past_the_check(tmp_path):
    """python-docx's own parser does not resolve entities: the DTD check is a second wall."""
    import docx

    from tests.hostile.files import external_entity_docx

    document = docx.Document(io.BytesIO(external_entity_docx()))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Jane Doe" in text
    assert "root:" not in text and XXE_TARGET not in text


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\me\\cv.pdf", "cv.pdf"),
        ("..", "resume"),
        ("cv\r\nX-Injected: 1.pdf", "cvX-Injected: 1.pdf"),
        ("\u00e9" * 400 + ".pdf", "\u00e9" * 251 + ".pdf"),
    ],
    ids=["parent-dirs", "windows-path", "dot-dot", "crlf", "long-unicode"],
)
def test_hostile_file_names_are_cleaned(sent: str, kept: str, as_role, security_records):
    """Names go on the wire as RFC 5987 `filename*`, so CR/LF and backslashes reach the app
    exactly as a hostile client means them."""
    recruiter = as_role(Role.RECRUITER)
    pdf = pdf_bytes([["Name Test", f"n{len(sent)}.{sent[:2].encode().hex()}@example.org"]])
    body = (
        b'--B0UND\r\nContent-Disposition: form-data; name="file"; '
        + f"filename*=UTF-8''{quote(sent, safe='')}\r\n".encode()
        + b"Content-Type: application/pdf\r\n\r\n"
        + pdf
        + b"\r\n--B0UND--\r\n"
    )
    response = recruiter.post(
        "/api/resumes", data=body, content_type="multipart/form-data; boundary=B0UND"
    )
    assert response.status_code == 201, response.json
    assert response.json["filename"] == kept
    listed = recruiter.get("/api/resumes").json["items"]
    assert [item["filename"] for item in listed] == [kept]
    download = recruiter.get(f"/api/resumes/{response.json['id']}/file")
    assert download.status_code == 200 and download.data == pdf
    disposition = download.headers["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition and "/" not in disposition
    assert security_records("upload_validation") == []


def test_bulk_extracts_in_parallel_and_a_slow_file_fails_alone(as_role, app, security_records):
    """Two files that each run into the time limit cost one limit, not two: the pool works
    on them at once; the good files beside them are stored."""
    recruiter = as_role(Role.RECRUITER)
    timeout = app.config["TALARO_EXTRACT_TIMEOUT_S"]
    good = [pdf_bytes([[f"Good Person{n}", f"good{n}@example.org"]]) for n in range(3)]
    flood = operator_flood_pdf()
    files = [(good[0], "a.pdf"), (flood, "slow1.pdf"), (flood + b"\n", "slow2.pdf")]
    files += [(good[1], "b.pdf"), (good[2], "c.pdf")]
    started = time.monotonic()
    response = recruiter.post(
        "/api/resumes/bulk",
        data={"files": [(io.BytesIO(data), name) for data, name in files]},
        content_type="multipart/form-data",
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.json
    statuses = [r["status"] for r in response.json["results"]]
    assert statuses == ["created", "failed", "failed", "created", "created"]
    assert elapsed < 2 * timeout - 0.5, f"{elapsed:.1f} s: the slow files ran one after another"
    checks = {r.attributes["talaro.check"] for r in security_records("upload_validation")}
    assert checks <= {"time_limit", "memory_limit"} and checks
    assert stored(app) == (3, 3)
