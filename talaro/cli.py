"""Operator commands: `flask --app talaro users ...`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from talaro.errors import ServiceError
from talaro.models import Role
from talaro.services import accounts, directory, reparse

users_cli = AppGroup("users", help="Create users and grant roles.")

ROLE_CHOICE = click.Choice([r.value for r in Role], case_sensitive=False)
password_option = click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for when not given.",
)


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=ROLE_CHOICE, required=True, help="The role to grant.")
@click.option("--name", default="", help="Display name (defaults to the email).")
@password_option
def create_user(email: str, role: str, name: str, password: str) -> None:
    """Create a user with ROLE (the first ADMIN comes from here)."""
    try:
        user = accounts.create_user(email, password, name or email, Role(role.upper()), via="cli")
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Created {user.email} ({user.role}), id {user.id}")


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=ROLE_CHOICE)
def set_role(email: str, role: str) -> None:
    """Grant ROLE to the user with EMAIL."""
    user = accounts.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No user with email {email}")
    accounts.update_user(user, role=role.upper())
    click.echo(f"{user.email} is now {user.role}")


@users_cli.command("which")
@click.argument("user_hash", metavar="HASH")
def which_user(user_hash: str) -> None:
    """The account whose `user.hash` (the keyed hash telemetry records, e.g. of a failed
    sign-in) is HASH. Each lookup is itself recorded: `user_hash_resolve`, with the
    operating-system user who ran it."""
    try:
        user = directory.resolve_user_hash(user_hash)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    state = "active" if user.active else "deactivated"
    click.echo(f"{user.email} ({user.name}, {user.role}, {state}), id {user.id}")


@users_cli.command("set-password")
@click.argument("email")
@password_option
@click.option(
    "--permanent",
    is_flag=True,
    help="Not a temporary password (by default the user must change it at the next sign-in).",
)
def set_password(email: str, password: str, permanent: bool) -> None:
    """Set the password of the user with EMAIL; every session of the user ends."""
    user = accounts.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No user with email {email}")
    try:
        ended = accounts.reset_password(user, password, temporary=not permanent)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    kind = "permanent" if permanent else "temporary (to change at the next sign-in)"
    click.echo(f"Set a {kind} password for {user.email}; {ended} sessions ended")


resumes_cli = AppGroup("resumes", help="Maintain stored resumes.")


@resumes_cli.command("reparse")
@click.argument("resume_ids", nargs=-1, metavar="[RESUME_ID]...")
@click.option("--all", "everything", is_flag=True, help="Re-parse every stored resume.")
@click.option(
    "--from-text",
    is_flag=True,
    help="Parse the stored text again instead of re-reading the stored file.",
)
def reparse_resumes(resume_ids: tuple[str, ...], everything: bool, from_text: bool) -> None:
    """Re-extract the fields of stored resumes with the current parser; fields a person
    corrected keep the correction. Exits 1 when a resume is missing or unreadable."""
    if everything == bool(resume_ids):
        raise click.UsageError("Give either --all or one or more RESUME_IDs.")
    report = reparse.reparse(None if everything else resume_ids, from_content=not from_text)
    click.echo(
        f"Re-parsed {report.checked} resumes: {report.updated} updated, "
        f"{report.unchanged} unchanged, {len(report.failed)} failed; "
        f"{report.corrections_kept} corrected fields kept"
    )
    if report.failed:
        click.echo(f"Could not read: {', '.join(report.failed)}", err=True)
    if report.missing:
        click.echo(f"No such resume: {', '.join(report.missing)}", err=True)
    if not report.ok:
        raise SystemExit(1)
