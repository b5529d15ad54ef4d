"""Sign-in, registration and API tokens (`/api/auth`)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf

from talaro.errors import Forbidden
from talaro.permissions import Action, require, signed_in_user
from talaro.services import accounts

from .schemas import (
    CsrfSchema,
    LoginResultSchema,
    LoginSchema,
    NewTokenSchema,
    PasswordChangeSchema,
    RegisterSchema,
    TokenCreateSchema,
    TokenSchema,
    UserSchema,
    UserSettingsSchema,
)

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Sign-in and API tokens")


@blp.route("/register", methods=["POST"])
@blp.arguments(RegisterSchema)
@blp.response(201, UserSchema)
@blp.alt_response(403, description="Registration is disabled")
def register(body: dict[str, Any]) -> Any:
    """Create an account with the lowest-privilege role.

    The answer is the same whether or not the address already has an account (nothing is
    created then, and its owner is told at their next sign-in): sign in to use it."""
    if not current_app.config["TALARO_ALLOW_REGISTRATION"]:
        raise Forbidden("Registration is disabled", code="registration_disabled")
    return accounts.register(body["email"], body["password"], body["name"])


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, LoginResultSchema)
@blp.alt_response(401, description="Invalid email or password")
def login(body: dict[str, Any]) -> Any:
    """Sign in with email and password; sets the session cookie."""
    user = accounts.authenticate(body["email"], body["password"])
    accounts.start_session(user)
    return {"user": user, "csrf_token": generate_csrf(), "notices": accounts.take_notices(user)}


@blp.route("/csrf", methods=["GET"])
@blp.response(200, CsrfSchema)
def csrf_token() -> Any:
    """The CSRF token for the current session (send it as `X-CSRFToken`)."""
    return {"csrf_token": generate_csrf()}


@blp.route("/logout", methods=["POST"])
@blp.response(204)
def logout() -> None:
    """End the session."""
    accounts.end_session(signed_in_user())


@blp.route("/password", methods=["POST"])
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
@blp.alt_response(422, description="The current password is wrong, or the new one too weak")
def change_password(body: dict[str, Any]) -> None:
    """Change your password (the current one required); your other sessions end."""
    accounts.change_password(signed_in_user(), body["current_password"], body["new_password"])


@blp.route("/me", methods=["GET"])
@blp.response(200, UserSchema)
def me() -> Any:
    """The signed-in user."""
    return signed_in_user()


@blp.route("/me", methods=["PATCH"])
@blp.arguments(UserSettingsSchema)
@blp.response(200, UserSchema)
@blp.alt_response(422, description="Not an IANA time zone name")
def update_me(body: dict[str, Any]) -> Any:
    """Change your settings: `time_zone`, the IANA zone your pages show times in."""
    return accounts.set_time_zone(signed_in_user(), body["time_zone"])


@blp.route("/tokens", methods=["POST"])
@require(Action.TOKEN_MANAGE)
@blp.arguments(TokenCreateSchema)
@blp.response(201, NewTokenSchema)
def create_token(body: dict[str, Any]) -> Any:
    """Create an API token; the token is shown once and stored only hashed."""
    token, secret = accounts.create_token(signed_in_user(), body["name"])
    return {
        "id": token.id,
        "name": token.name,
        "token": secret,
        "created_at": token.created_at,
        "last_used_at": None,
    }


@blp.route("/tokens", methods=["GET"])
@require(Action.TOKEN_MANAGE)
@blp.response(200, TokenSchema(many=True))
def list_tokens() -> Any:
    """The caller's live tokens (never their secrets)."""
    return accounts.list_tokens(signed_in_user())


@blp.route("/tokens/<token_id>", methods=["DELETE"])
@require(Action.TOKEN_MANAGE)
@blp.response(204)
@blp.alt_response(404, description="No such token of yours")
def revoke_token(token_id: str) -> None:
    """Revoke one of the caller's tokens."""
    accounts.revoke_token(signed_in_user(), token_id)
