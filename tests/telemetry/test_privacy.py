"""Secrets and candidate personal data never reach telemetry; identity can be hashed."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from google.protobuf.json_format import MessageToJson

from talaro import create_app, telemetry
from talaro.models import Role
from tests.conftest import base_config, telemetry_config
from tests.documents import pdf_bytes
from tests.factories import PASSWORD, ApiClient, Factory, resume_text
from tests.telemetry.otlp_receiver import (
    OtlpHttpReceiver,
    otlp_receiver_fixture,  # noqa: F401 - the `otlp_receiver` fixture
)

CANDIDATES = [
    ("Zofia Wiśniewska-Kowal", "zofia.secret.candidate@example.org", "+48 22 123 45 67"),
    ("Tomasz Quellmann", "tomasz.private@example.net", "(415) 555-0177"),
]
RESUME_PHRASE = "Ultraconfidential Project Nightingale"


def everything_written(folder: Path) -> str:
    """Every byte of every telemetry file, rotated ones included."""
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.jsonl*")))


def test_no_secret_or_candidate_detail_in_any_file(app, make: Factory, telemetry_dir) -> None:
    manager = make.user(Role.HIRING_MANAGER)
    browser = app.test_client()
    login = browser.post("/api/auth/login", json={"email": manager.email, "password": PASSWORD})
    csrf = login.json["csrf_token"]
    session_cookie = browser.get_cookie("session").value
    created = browser.post("/api/auth/tokens", json={"name": "ci"}, headers={"X-CSRFToken": csrf})
    token = created.json["token"]
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}

    for index, (name, email, phone) in enumerate(CANDIDATES):
        text = resume_text(name, email, phone, skills="Python") + RESUME_PHRASE
        data = pdf_bytes([text.splitlines()]) if index == 0 else text.encode()
        files = {"file": (io.BytesIO(data), f"upload-{index}.pdf")}
        assert api.post("/api/resumes", data=files, headers=bearer).status_code == 201
    search = api.get(
        "/api/resumes", query_string={"q": CANDIDATES[0][0].split()[0]}, headers=bearer
    )
    assert search.json["total"] == 1
    first = search.json["items"][0]
    corrected = {"fields": {"email": "corrected.private@example.org", "phone": "+1 415 555 0100"}}
    patched = api.patch(f"/api/resumes/{first['id']}", json=corrected, headers=bearer)
    assert patched.status_code == 200
    bad_login = {"email": manager.email, "password": "Sup3r-Secret-Wrong!"}
    assert app.test_client().post("/api/auth/login", json=bad_login).status_code == 401
    forged = app.test_client().get("/api/auth/me", headers={"Cookie": "session=forged"})
    assert forged.status_code == 401
    assert browser.post("/api/auth/logout", headers={"X-CSRFToken": csrf}).status_code == 204
    telemetry.shutdown(app)

    written = everything_written(telemetry_dir)
    assert "authn_login_fail" in written and "resume_upload" in written  # files are not empty
    secrets = [
        PASSWORD,
        "Sup3r-Secret-Wrong!",
        token,
        token.removeprefix("tlr_"),
        session_cookie,
        csrf,
        app.config["SECRET_KEY"],
        RESUME_PHRASE,
        "corrected.private@example.org",
        "+14155550100",
    ]
    for name, email, phone in CANDIDATES:
        digits = "".join(ch for ch in phone if ch.isdigit())
        secrets += [name, name.split()[0], email, phone, digits]
    for secret in secrets:
        assert secret not in written, f"{secret!r} reached telemetry"
    assert manager.email in written  # staff identity is recorded by default, as designed


def test_identity_can_be_a_keyed_hash_or_off(tmp_path, make_app) -> None:
    for mode in ("hash", "off"):
        folder = tmp_path / mode
        app = make_app(**telemetry_config(folder, TALARO_TELEMETRY_USER_IDENTITY=mode))
        maker = Factory(app)
        user = maker.user(Role.RECRUITER)
        token = maker.token(user)
        app.test_client().get("/api/resumes", headers={"Authorization": f"Bearer {token}"})
        telemetry.shutdown(app)
        written = everything_written(folder)
        assert user.id in written
        assert user.email not in written
        assert ('"user.hash"' in written) == (mode == "hash")


def test_client_address_ignores_forwarded_for_unless_proxies_are_trusted(
    tmp_path, make_app
) -> None:
    from tests.telemetry import otlp_json

    seen = {}
    for hops in (0, 1):
        folder = tmp_path / f"hops{hops}"
        app = make_app(**telemetry_config(folder, TALARO_TRUSTED_PROXIES=hops))
        app.test_client().get(
            "/api/auth/me",
            headers={"X-Forwarded-For": "203.0.113.9"},
            environ_base={"REMOTE_ADDR": "10.1.2.3"},
        )
        telemetry.shutdown(app)
        records = otlp_json.log_records(folder / "security.jsonl")
        (denied,) = [r for r in records if r.event_name == "authn_required"]
        seen[hops] = denied.attributes["client.address"]
    assert seen == {0: "10.1.2.3", 1: "203.0.113.9"}


def test_sdk_disabled_writes_nothing(tmp_path, make_app) -> None:
    folder = tmp_path / "logs"
    app = make_app(**telemetry_config(folder, TALARO_TELEMETRY_ENABLED=False))
    assert app.test_client().get("/api/auth/me").status_code == 401
    assert app.test_client().get("/readyz").json["telemetry"] == {"status": "disabled"}
    telemetry.shutdown(app)
    assert not folder.exists()


def test_a_mistyped_identity_setting_stops_the_start(tmp_path) -> None:
    import pytest

    # create_app itself must refuse the setting, so it is called directly, not via make_app.
    config = base_config(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/typo.sqlite",
        **telemetry_config(tmp_path / "logs", TALARO_TELEMETRY_USER_IDENTITY="hashed"),
    )
    with pytest.raises(ValueError, match="TALARO_TELEMETRY_USER_IDENTITY"):
        create_app(config)


# Every output, including the wire --------------------------------------------------------


def decoded_files(folder: Path) -> str:
    """Every telemetry line decoded and re-encoded without escapes, so a name written as
    `\\u015b` by a JSON encoder is searched as the text it is."""
    found = []
    for path in sorted(folder.glob("*.jsonl*")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                found.append(json.dumps(json.loads(line), ensure_ascii=False))
    return "\n".join(found)


def decoded_wire(receiver: OtlpHttpReceiver) -> str:
    """Every OTLP request the receiver decoded (logs, spans, metrics), as unescaped JSON."""
    return "\n".join(
        MessageToJson(message, ensure_ascii=False)
        for signal in ("logs", "traces", "metrics")
        for message in receiver.requests(signal)
    )


# PostgreSQL: the database whose errors quote the values they refuse.
@pytest.mark.parametrize("backend", ["postgresql"])
def test_no_file_name_token_or_database_value_reaches_any_output(
    make_app, otlp_receiver: OtlpHttpReceiver, tmp_path, monkeypatch
) -> None:
    folder = tmp_path / "both"
    app = make_app(
        **telemetry_config(
            folder,
            TALARO_TELEMETRY_FILES="always",
            OTEL_EXPORTER_OTLP_ENDPOINT=otlp_receiver.url,
            OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        )
    )
    make = Factory(app)
    recruiter = make.user(Role.RECRUITER)
    token = make.token(recruiter)
    api = ApiClient(app.test_client(), recruiter, token)
    browser = app.test_client()
    login = browser.post("/api/auth/login", json={"email": recruiter.email, "password": PASSWORD})
    csrf, cookie = login.json["csrf_token"], browser.get_cookie("session").value

    # Resumes named after their candidates: name, email, phone.
    secrets: list[str] = []
    ids = []
    for index, (name, email, phone) in enumerate(CANDIDATES):
        text = resume_text(name, email, phone, skills="Python") + RESUME_PHRASE
        named = [f"{name} CV.pdf", f"{email}.docx"][index]
        data = pdf_bytes([text.splitlines()]) if index == 0 else text.encode()
        uploaded = api.post("/api/resumes", data={"file": (io.BytesIO(data), named)})
        assert uploaded.status_code == 201, uploaded.json
        ids.append(uploaded.json["id"])
        secrets += [named, named.rsplit(".", 1)[0]]
    phone_named = f"{CANDIDATES[1][2]}.txt"
    refused = api.post("/api/resumes", data={"file": (io.BytesIO(b""), phone_named)})
    assert refused.status_code == 422  # empty: an upload_validation record
    secrets.append(phone_named.removesuffix(".txt"))

    # A live token, the session cookie and the CSRF token placed in URL paths.
    assert api.get(f"/api/resumes/{token}").status_code == 404
    assert api.get(f"/api/resumes/x{token}/file").status_code == 404
    assert api.get(f"/no/such/page/{token}").status_code == 404
    assert api.get(f"/api/resumes/{csrf}").status_code == 404
    assert api.get(f"/no/such/page/{cookie}").status_code == 404

    # A database error carrying candidate data: PostgreSQL refuses an over-long phone.
    long_phone = "+4822" + "1234567" * 6
    monkeypatch.setattr("talaro.services.resumes.normalise_phone", lambda raw: long_phone)
    corrected = {"fields": {"name": "Zofia Corrected-Surname", "phone": "+48 22 765 43 21"}}
    failed = api.patch(f"/api/resumes/{ids[0]}", json=corrected)
    assert failed.status_code == 500
    secrets += [long_phone, "Zofia Corrected-Surname", "Corrected-Surname"]

    assert telemetry.shutdown(app)
    otlp_receiver.wait_for(
        lambda r: any(x.event_name == "sys_shutdown" for x in r.log_records()) and r.spans()
    )
    files, wire = decoded_files(folder), decoded_wire(otlp_receiver)
    for output in (files, wire):
        # Not empty: the events happened, the database error among them.
        assert "upload_validation" in output and "resume_upload" in output
        assert "error_unhandled" in output and "StringDataRightTruncation" in output
        assert "SQL parameters hidden due to hide_parameters=True" in output  # config.py
        assert "[REDACTED]" in output and '"file.hash.sha256"' in output.replace(" ", "")
    secrets += [token, token.removeprefix("tlr_"), csrf, cookie, RESUME_PHRASE]
    for name, email, phone in CANDIDATES:
        digits = "".join(ch for ch in phone if ch.isdigit())
        secrets += [name, *name.split(), email, phone, digits, email.split("@")[0]]
    for secret in secrets:
        assert secret not in files, f"{secret!r} reached the files"
        assert secret not in wire, f"{secret!r} reached the OTLP endpoint"
    assert "file.name" not in files and "file.name" not in wire
