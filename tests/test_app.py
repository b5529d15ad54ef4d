"""The app factory, configuration, migrations, probes, OpenAPI and error handling."""

from __future__ import annotations

import os
import stat

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from talaro import create_app
from talaro.config import instance_secret_key
from talaro.extensions import db
from tests.conftest import base_config


def test_secret_key_is_generated_once_and_kept_private(tmp_path) -> None:
    key = instance_secret_key(str(tmp_path))
    assert len(key) == 64
    assert instance_secret_key(str(tmp_path)) == key
    mode = stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode)
    assert mode == 0o600


def test_database_url_from_environment_uses_psycopg(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db:5432/talaro")
    # Not make_app: it sets the database itself, and this must come from the environment.
    app = create_app(base_config())
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db:5432/talaro"


def test_migrations_build_exactly_the_models_schema(tmp_path) -> None:
    # Not make_app: it creates the schema, and the migrations must start from an empty database.
    app = create_app(base_config(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/m.sqlite"))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        tables = set(sa.inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert diff == []
    assert {"users", "api_tokens", "jobs", "candidates", "resumes", "interviews"} <= tables


def test_healthz_and_readyz(client) -> None:
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["database"] == "ok"


def test_readyz_reports_an_unreachable_database(tmp_path) -> None:
    # Not make_app: it creates the schema, which an unreachable database cannot take.
    app = create_app(base_config(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/no/such/dir/x.db"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["database"] == "unavailable"


def test_openapi_documents_every_endpoint_of_the_contract(client) -> None:
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.")
    expected = {
        ("post", "/api/auth/register"),
        ("post", "/api/auth/login"),
        ("get", "/api/auth/csrf"),
        ("post", "/api/auth/logout"),
        ("get", "/api/auth/me"),
        ("post", "/api/auth/tokens"),
        ("get", "/api/auth/tokens"),
        ("delete", "/api/auth/tokens/{token_id}"),
        ("get", "/api/users"),
        ("patch", "/api/users/{user_id}"),
        ("get", "/api/jobs"),
        ("post", "/api/jobs"),
        ("get", "/api/jobs/{job_id}"),
        ("post", "/api/resumes"),
        ("post", "/api/resumes/bulk"),
        ("get", "/api/resumes"),
        ("get", "/api/resumes/{resume_id}"),
        ("get", "/api/resumes/{resume_id}/file"),
        ("patch", "/api/resumes/{resume_id}"),
        ("delete", "/api/resumes/{resume_id}"),
        ("get", "/api/candidates"),
        ("get", "/api/candidates/{candidate_id}"),
        ("post", "/api/interviews"),
        ("get", "/api/interviews"),
        ("get", "/api/interviews/{interview_id}"),
        ("patch", "/api/interviews/{interview_id}"),
        ("put", "/api/interviews/{interview_id}/feedback"),
        ("delete", "/api/interviews/{interview_id}"),
        ("get", "/healthz"),
        ("get", "/readyz"),
    }
    documented = {(m, p) for p, ops in spec["paths"].items() for m in ops if m != "parameters"}
    assert expected <= documented
    schedule = spec["paths"]["/api/interviews"]["post"]
    assert "requestBody" in schedule and "201" in schedule["responses"]
    assert "409" in schedule["responses"]


def test_unhandled_error_is_a_json_500_without_internals_and_rolls_back(app) -> None:
    @app.get("/api/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    response = app.test_client().get("/api/boom")
    assert response.status_code == 500
    assert response.json == {
        "error": {"code": "internal_error", "message": "An unexpected error occurred"}
    }
    assert "secret internals" not in response.get_data(as_text=True)
