"""The operator command line."""

from __future__ import annotations

from sqlalchemy import select

from talaro.extensions import db
from talaro.models import User
from talaro.services.passwords import verify_password


def stored_user(app, email: str) -> User:
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == email))


def test_users_create_with_password_option(app) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create", "Boss@Example.com", "--role", "admin", "--password", "s3cret-pass"]
    )
    assert result.exit_code == 0, result.output
    assert "Created boss@example.com (ADMIN)" in result.output
    user = stored_user(app, "boss@example.com")
    assert user.role == "ADMIN"
    assert verify_password(user.password_hash, "s3cret-pass")


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
    args = ["users", "create", "dup@example.com", "--role", "ADMIN", "--password", "long-enough"]
    assert runner.invoke(args=args).exit_code == 0
    again = runner.invoke(args=args)
    assert again.exit_code != 0 and "already exists" in again.output
    short = runner.invoke(
        args=["users", "create", "s@example.com", "--role", "ADMIN", "--password", "short"]
    )
    assert short.exit_code != 0 and "at least 8" in short.output


def test_set_role(app, make) -> None:
    user = make.user("INTERVIEWER")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "set-role", user.email.upper(), "hiring_manager"])
    assert result.exit_code == 0, result.output
    assert stored_user(app, user.email).role == "HIRING_MANAGER"
    missing = runner.invoke(args=["users", "set-role", "nobody@example.com", "ADMIN"])
    assert missing.exit_code != 0 and "No user" in missing.output
