"""The operator command line."""

from __future__ import annotations

import getpass
from pathlib import Path

from sqlalchemy import select

from talaro import telemetry
from talaro.extensions import db
from talaro.identity import account_key
from talaro.models import User
from talaro.services.passwords import verify_password
from tests.telemetry import otlp_json


def stored_user(app, email: str) -> User:
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == email))


def test_users_create_with_password_option(app) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Boss@Example.com",
            "--role",
            "admin",
            "--password",
            "s3cret-passphrase",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created boss@example.com (ADMIN)" in result.output
    user = stored_user(app, "boss@example.com")
    assert user.role == "ADMIN"
    assert verify_password(user.password_hash, "s3cret-passphrase")


def test_users_create_prompts_for_password_when_not_given(app) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create", "ops@example.com", "--role", "RECRUITER", "--name", "Ops"],
        input="prompted-pass\nprompted-pass\n",
    )
    assert result.exit_code == 0, result.output
    assert "prompted-pass" not in result.output  # hidden input
    user = stored_user(app, "ops@example.com")
    assert user.name == "Ops"
    assert verify_password(user.password_hash, "prompted-pass")


def test_users_create_refuses_duplicates_and_short_passwords(app) -> None:
    runner = app.test_cli_runner()
    args = [
        "users",
        "create",
        "dup@example.com",
        "--role",
        "ADMIN",
        "--password",
        "long-enough-pass",
    ]
    assert runner.invoke(args=args).exit_code == 0
    again = runner.invoke(args=args)
    assert again.exit_code != 0 and "already exists" in again.output
    short = runner.invoke(
        args=["users", "create", "s@example.com", "--role", "ADMIN", "--password", "short"]
    )
    assert short.exit_code != 0 and "at least 12" in short.output


def test_set_role(app, make) -> None:
    user = make.user("INTERVIEWER")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "set-role", user.email.upper(), "hiring_manager"])
    assert result.exit_code == 0, result.output
    assert stored_user(app, user.email).role == "HIRING_MANAGER"
    missing = runner.invoke(args=["users", "set-role", "nobody@example.com", "ADMIN"])
    assert missing.exit_code != 0 and "No user" in missing.output


def security_records(app, event: str) -> list[otlp_json.LogRecord]:
    telemetry.flush(app)
    folder = Path(app.config["TALARO_TELEMETRY_DIR"])
    return [r for r in otlp_json.log_records(folder / "security.jsonl") if r.event_name == event]


def test_command_line_records_name_the_operating_system_user(app) -> None:
    args = [
        "users",
        "create",
        "cli@example.com",
        "--role",
        "ADMIN",
        "--password",
        "long-enough-pass",
    ]
    assert app.test_cli_runner().invoke(args=args).exit_code == 0
    (created,) = security_records(app, "user_created")
    assert created.attributes["process.owner"] == getpass.getuser()
    assert created.attributes["talaro.via"] == "cli"
    assert "user.id" not in created.attributes  # no Talaro account acted


def test_users_which_resolves_a_hash_and_is_recorded(app, make) -> None:
    user = make.user("RECRUITER")
    with app.app_context():
        user_hash = account_key(user.email)
    runner = app.test_cli_runner()
    found = runner.invoke(args=["users", "which", user_hash.upper()])
    assert found.exit_code == 0, found.output
    assert f"{user.email} (" in found.output and user.id in found.output
    unknown = runner.invoke(args=["users", "which", "0" * 32])
    assert unknown.exit_code == 1 and "No account has this hash" in unknown.output
    malformed = runner.invoke(args=["users", "which", "not-a-hash"])
    assert malformed.exit_code == 1 and "32 hexadecimal digits" in malformed.output

    success, failure = security_records(app, "user_hash_resolve")
    assert success.attributes["target.user.hash"] == user_hash
    assert success.attributes["target.user.id"] == user.id
    assert success.attributes["process.owner"] == getpass.getuser()
    assert success.severity_text == "INFO"
    assert failure.attributes["event.outcome"] == "failure"
    assert failure.attributes["target.user.hash"] == "0" * 32
    assert "target.user.id" not in failure.attributes


def test_users_set_password_is_temporary_unless_permanent(app, make) -> None:
    user = make.user()
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "set-password", user.email], input="a brand new secret\na brand new secret\n"
    )
    assert result.exit_code == 0, result.output
    assert "a brand new secret" not in result.output
    stored = stored_user(app, user.email)
    assert verify_password(stored.password_hash, "a brand new secret")
    assert stored.password_must_change is True
    permanent = runner.invoke(
        args=["users", "set-password", user.email, "--permanent", "--password", "another new one!"]
    )
    assert permanent.exit_code == 0, permanent.output
    assert stored_user(app, user.email).password_must_change is False
    common = runner.invoke(args=["users", "set-password", user.email, "--password", "password1234"])
    assert common.exit_code != 0 and "too common" in common.output
    missing = runner.invoke(args=["users", "set-password", "nobody@example.com", "--password", "x"])
    assert missing.exit_code != 0 and "No user" in missing.output
