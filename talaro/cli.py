"""Operator commands: `flask --app talaro users ...`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from talaro.errors import ServiceError
from talaro.models import Role
from talaro.services import accounts

users_cli = AppGroup("users", help="Create users and grant roles.")

ROLE_CHOICE = click.Choice([r.value for r in Role], case_sensitive=False)


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=ROLE_CHOICE, required=True, help="The role to grant.")
@click.option("--name", default="", help="Display name (defaults to the email).")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for when not given.",
)
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
